"""Qiskit Aer as a backend: `aer_simulator`, or a fake device's target and (optionally) noise.

Jobs live in the durable `AerJobStore`; a job runs when its result is first asked for,
in whichever process asks, so a result survives the process that submitted the job.
"""

from __future__ import annotations

import json
import logging
import secrets
import warnings
from functools import cached_property
from typing import TYPE_CHECKING, Any

from qprim.backends.aer_store import AerJobStore, StoredJob, utc_now
from qprim.backends.base import FoundJob, JobMetrics, JobRequest, JobStatus
from qprim.errors import InputError, JobFailedError
from qprim.files import qprim_home
from qprim.workload.types import AER_SIMULATOR

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult
    from qiskit.providers import BackendV2
    from qiskit.transpiler import Target

log = logging.getLogger("qprim")

# Options that Aer's primitives understand; anything else is a vendor option Aer ignores.
AER_OPTIONS = frozenset({"default_shots", "default_precision", "backend_options", "run_options"})


def fake_device(name: str) -> BackendV2:
    """A device of `qiskit_ibm_runtime.fake_provider` by its name (`fake_manila`, ...)."""
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some fake devices warn about their own properties
        provider = FakeProviderForBackendV2()
        try:
            return provider.backend(name)
        except Exception as exc:
            raise InputError(
                f"unknown Aer device {name!r}: use aer_simulator or a fake device name "
                "such as fake_manila or fake_brisbane"
            ) from exc


class AerBackend:
    kind = "aer"

    def __init__(
        self,
        name: str = AER_SIMULATOR,
        noise: bool = False,
        seed: int | None = None,
        store: AerJobStore | None = None,
    ) -> None:
        self.name = name
        self.noise = noise
        self.seed = seed
        self.store = store or AerJobStore(qprim_home() / "aer-jobs")
        if noise and name == AER_SIMULATOR:
            raise InputError(
                "noise: true needs a device to take the noise model from, "
                "e.g. backend: {kind: aer, name: fake_manila, noise: true}"
            )

    @cached_property
    def device(self) -> BackendV2 | None:
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

    def submit(self, request: JobRequest) -> str:
        from qiskit_ibm_runtime import RuntimeEncoder

        ignored = sorted(set(request.options) - AER_OPTIONS)
        if ignored:
            log.warning("Aer ignores these options: %s", ", ".join(ignored))
        header = {
            "backend": self.name,
            "noise": self.noise,
            # a fixed seed makes a re-run after a crash give the very same result
            "seed": self.seed if self.seed is not None else secrets.randbelow(2**31),
            "primitive": request.primitive,
            "options": {k: v for k, v in request.options.items() if k in AER_OPTIONS},
            "tags": list(request.tags),
        }
        return self.store.create(header, json.dumps(request.pubs, cls=RuntimeEncoder)).job_id

    def status(self, job_id: str) -> JobStatus:
        return JobStatus(self.store.state(self._job(job_id))["status"])

    def result(self, job_id: str, deadline: float | None = None) -> PrimitiveResult:
        """The job's result, running the job first if nobody has yet (Aer runs in-process,
        so `deadline` does not apply)."""
        from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

        job = self._job(job_id)
        with self.store.lock(job):
            state = self.store.state(job)
            if state["status"] == JobStatus.DONE.value:
                return json.loads(self.store.result_json(job), cls=RuntimeDecoder)
            if state["status"] == JobStatus.CANCELLED.value:
                raise JobFailedError(f"Aer job {job_id} was cancelled")
            if state["status"] == JobStatus.ERROR.value:
                raise JobFailedError(f"Aer job {job_id} failed: {state.get('error', 'unknown')}")
            self.store.set_state(job, status=JobStatus.RUNNING.value, started=utc_now())
            try:
                result = self._execute(job)
            except Exception as exc:
                self.store.set_state(job, status=JobStatus.ERROR.value, error=str(exc))
                raise JobFailedError(f"Aer job {job_id} failed: {exc}") from exc
            self.store.save_result(job, json.dumps(result, cls=RuntimeEncoder))
        return result

    def metrics(self, job_id: str) -> JobMetrics:
        job = self._job(job_id)
        state = self.store.state(job)
        return JobMetrics(job.header["created"], state.get("started"), state.get("finished"))

    def find_by_tag(self, tag: str) -> list[FoundJob]:
        return [
            FoundJob(job.job_id, JobStatus(self.store.state(job)["status"]), job.header["created"])
            for job in self.store.jobs()
            if tag in job.tags and job.header["backend"] == self.name
        ]

    def cancel(self, job_id: str) -> None:
        """Cancel a job nobody has started running yet."""
        job = self._job(job_id)
        with self.store.lock(job):
            if self.store.state(job)["status"] == JobStatus.QUEUED.value:
                self.store.set_state(job, status=JobStatus.CANCELLED.value, finished=utc_now())

    def _job(self, job_id: str) -> StoredJob:
        job = self.store.get(job_id)
        if job is None:
            raise InputError(f"no Aer job {job_id!r} in {self.store.root}")
        return job

    def _execute(self, job: StoredJob) -> PrimitiveResult:
        from qiskit_ibm_runtime import RuntimeDecoder

        pubs = [tuple(pub) for pub in json.loads(self.store.pubs_json(job), cls=RuntimeDecoder)]
        return self._primitive(job.header).run(pubs).result()

    def _primitive(self, header: dict[str, Any]) -> Any:
        from qiskit_aer.primitives import EstimatorV2, SamplerV2

        options = dict(header["options"])
        backend_options = dict(options.pop("backend_options", {}))
        if header["noise"]:
            from qiskit_aer.noise import NoiseModel

            backend_options["noise_model"] = NoiseModel.from_backend(fake_device(header["backend"]))
        run_options = {"seed_simulator": header["seed"], **options.pop("run_options", {})}
        if header["primitive"] == "sampler":
            return SamplerV2(
                default_shots=options.get("default_shots", 1024),
                seed=run_options.pop("seed_simulator"),
                options={"backend_options": backend_options, "run_options": run_options},
            )
        return EstimatorV2(
            options={
                "default_precision": options.get("default_precision", 0.0),
                "backend_options": backend_options,
                "run_options": run_options,
            }
        )
