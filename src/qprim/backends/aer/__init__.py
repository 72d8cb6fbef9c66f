"""Qiskit Aer as a backend: `aer_simulator`, or a fake device's target and (optionally) noise.

Jobs live in the durable `AerJobStore`; a job runs when its result is first asked for,
in whichever process asks (through an `AerRunner`: in-process or a worker pool), so a
result survives the process that submitted the job. The submission's first tag (the
attempt's tag) is the job's client token: submitting the same attempt again, from a
retry or another machine, returns the job it already made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from qprim.backends.aer.devices import AER_SIMULATOR
from qprim.backends.aer.execute import AerRunner, InProcess
from qprim.backends.aer.options import AER_OPTIONS
from qprim.backends.aer.store import AerJobStore, StoredJob, utc_now
from qprim.backends.base import (
    FoundJob,
    JobMetrics,
    JobRequest,
    JobStatus,
    SessionRef,
    StatusCallback,
)
from qprim.errors import InputError, JobFailedError
from qprim.state import codec

if TYPE_CHECKING:
    from qiskit.providers import BackendV2
    from qiskit.transpiler import Target


@dataclass(frozen=True)
class AerSettings:
    """Which simulator: `aer_simulator` or a fake device, its noise model, the seed."""

    device: str = AER_SIMULATOR
    noise: bool = False
    seed: int | None = None


class AerBackend:
    kind = "aer"
    may_duplicate = False  # a local store never creates a job it did not return
    supports_groups = False

    def __init__(
        self, settings: AerSettings, store: AerJobStore, runner: AerRunner | None = None
    ) -> None:
        if settings.noise and settings.device == AER_SIMULATOR:
            raise InputError(
                "noise: true needs a device to take the noise model from, "
                "e.g. backend: {kind: aer, name: fake_manila, noise: true}"
            )
        self.settings = settings
        self.name = settings.device
        self.store = store
        self.runner = runner or InProcess()

    @cached_property
    def device(self) -> BackendV2 | None:
        from qprim.backends.aer.devices import fake_device

        return None if self.name == AER_SIMULATOR else fake_device(self.name)

    @property
    def target(self) -> Target:
        if self.device is not None:
            return self.device.target
        from qiskit_aer import AerSimulator

        return AerSimulator().target

    @property
    def num_qubits(self) -> int:
        if self.device is not None:
            return self.device.num_qubits
        from qiskit_aer import AerSimulator

        return AerSimulator().configuration().n_qubits

    def submit(self, request: JobRequest, session: SessionRef | None = None) -> str:
        seed = self.settings.seed
        header = {
            "backend": self.name,
            "noise": self.settings.noise,
            # a fixed seed makes a re-run after a crash give the very same result
            "seed": seed if seed is not None else secrets.randbelow(2**31),
            "primitive": request.primitive,
            # the loader rejected every other key (AER_OPTIONS): nothing else reaches Aer
            "options": {
                k: v for k, v in request.options.items() if k in AER_OPTIONS[request.primitive]
            },
            "tags": list(request.tags),
        }
        token = request.tags[0] if request.tags else None
        return self.store.create(header, codec.encode(request.pubs), token).job_id

    def status(self, job_id: str) -> JobStatus:
        return JobStatus(self.store.state(self._job(job_id))["status"])

    def result(self, job_id: str, deadline: float | None, on_status: StatusCallback) -> bytes:
        """The job's result, running the job first if nobody has yet."""
        job = self._job(job_id)
        if not self.status(job_id).final:
            on_status(JobStatus.QUEUED)
            self.runner.run(self.store, job_id, deadline, lambda: on_status(JobStatus.RUNNING))
        state = self.store.state(job)
        if state["status"] == JobStatus.CANCELLED.value:
            raise JobFailedError(f"Aer job {job_id} was cancelled")
        if state["status"] == JobStatus.ERROR.value:
            raise JobFailedError(f"Aer job {job_id} failed: {state.get('error', 'unknown')}")
        return self.store.result_json(job)

    def metrics(self, job_id: str) -> JobMetrics:
        job = self._job(job_id)
        state = self.store.state(job)
        return JobMetrics(job.header["created"], state.get("started"), state.get("finished"))

    def find_by_tag(self, tag: str) -> list[FoundJob]:
        job = self.store.find(tag)
        if job is None or job.header["backend"] != self.name:
            return []
        return [FoundJob(job.job_id, self.status(job.job_id), job.header["created"])]

    def cancel(self, job_id: str) -> None:
        """Cancel a job nobody has started running yet."""
        job = self._job(job_id)
        with self.store.lock(job):
            if self.store.state(job)["status"] == JobStatus.QUEUED.value:
                self.store.set_state(job, status=JobStatus.CANCELLED.value, finished=utc_now())

    def open_group(self, mode: str, max_time: int | None = None) -> SessionRef:
        raise InputError(f"execution mode {mode} is for IBM Quantum; Aer runs plain jobs")

    def close_group(self, session: SessionRef) -> None:
        raise InputError("Aer has no batches or sessions to close")

    def _job(self, job_id: str) -> StoredJob:
        job = self.store.get(job_id)
        if job is None:
            raise InputError(f"no Aer job {job_id!r} in {self.store.describe()}")
        return job
