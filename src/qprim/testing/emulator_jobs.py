"""Job store and Aer execution worker of the Runtime emulator.

Why: a job must move Queued -> Running -> Completed/Failed/Cancelled on its own, in
the background, like on IBM, so clients poll, time out, cancel and re-attach for real.
One worker thread runs jobs one at a time (a device has one queue); jobs held by a
`qprim-fault:queue=S` tag do not block the jobs behind them.

Pending-job limit (`max_pending_jobs`, IBM's open plan): a `POST /jobs` made while the
instance already has N jobs that are Queued or Running creates nothing and is answered
HTTP 400 with IBM error code 3458. What was found:

- IBM's error registry: 3458 "User reached the maximum limits of concurrent jobs"; the
  2025 platform words it "You have reached the limit of N pending jobs. Please wait for
  a job to complete or cancel one before submitting anything new." (pytket-qiskit #498).
- The HTTP status: users' tracebacks show "400 Client Error: Bad Request ... Error code:
  3458" (qiskit-aqua #884), and IBM's own provider tests faked it as a 400
  (qiskit-ibmq-provider's fake account clients). No source shows a different status on
  the current `/api/v1/jobs`, whose body validation errors are 400 with
  `{"errors": [{"message", "code": <int>, "more_info"}]}` (pytket-qiskit #288).
- The client: 400 is not retried (`STATUS_FORCELIST` in `qiskit_ibm_runtime/api/session.py`
  is 500/502/503/504/520/521/522/524; urllib3 would retry a 429 that carries Retry-After),
  so `_run` raises `IBMRuntimeError("Failed to run program: ... Error code: 3458.")`
  whose `__context__` is the `RequestsApiError` whose `__cause__` is the
  `requests.HTTPError` with the response.
- Usage: client 0.51 reads no pending-job field from `GET /instances/usage`; the old
  channel's `byInstance[].pendingJobs/maxPendingJobs` went with it ("The new IBM Quantum
  Platform does not support this functionality", the deprecated `check_pending_jobs`).
  So the limit is not advertised there: code written against the emulator must not
  depend on a field IBM does not send.

Billing: a job's quantum seconds follow a fixed model of its executions (`Billing`),
not the simulation's wall time, so a test can predict usage and estimates exactly. A
dry run (a job on a `mock_*` device) is counted and estimated, never run, and costs
nothing; `GET /jobs/{id}` carries its `estimated_running_time_seconds`
(`job.usage_estimation`) once counted. A queued job's metrics carry
`position_in_queue` (behind the device's other users' jobs) and
`position_in_provider`, as IBM's do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qprim.testing.emulator_devices import DeviceCatalog, UnknownDeviceError
from qprim.testing.emulator_faults import TagFaults
from qprim.testing.emulator_programs import PROGRAMS, JobWork

FINAL_STATES = frozenset({"Completed", "Failed", "Cancelled"})
WORKER_TIMEOUT_S = 600
# IBM's code on a job that failed in the program (the emulator's default failure)
PROGRAM_ERROR_CODE = 1517
PENDING_LIMIT_CODE = 3458
PENDING_LIMIT_MESSAGE = (
    "You have reached the limit of {limit} pending jobs. Please wait for a job to complete "
    "or cancel one before submitting anything new."
)


def iso_now() -> str:
    """UTC timestamp in the format IBM uses (`2024-01-01T00:00:00.123456Z`)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class JobInputError(ValueError):
    """The job request is invalid (answered with HTTP 400)."""


class ApiError(Exception):
    """A refusal IBM answers with its own status and error code (see `error_response`)."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Billing:
    """Quantum seconds of a job: a fixed overhead plus a time per execution (shot x point)."""

    overhead_s: float = 1.0
    per_execution_s: float = 0.00025

    def seconds(self, executions: int) -> float:
        return round(self.overhead_s + executions * self.per_execution_s, 6)


@dataclass
class Job:
    """One Runtime job, as stored by the emulator."""

    id: str
    program_id: str
    backend: str
    params: dict[str, Any]
    tags: list[str]
    session_id: str | None
    created: str
    created_at: float
    faults: TagFaults
    dry_run: bool = False
    fail_code: int | None = None  # a `fail-code` tag fault this job is to end with
    status: str = "Queued"
    reason: str | None = None
    reason_code: int | None = None
    running: str | None = None
    finished: str | None = None
    result_text: str | None = None
    quantum_seconds: float = 0.0
    estimated_seconds: float | None = None  # once the worker counted its executions
    cancel_requested: bool = False
    result_reads: int = 0  # how often a client read the result (proves a store served it)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_api(self, *, include_params: bool = False) -> dict[str, Any]:
        """The `GET /jobs/{id}` shape."""
        state: dict[str, Any] = {"status": self.status}
        if self.reason is not None:
            state["reason"] = self.reason
        if self.reason_code is not None:
            state["reason_code"] = self.reason_code
        data: dict[str, Any] = {
            "id": self.id,
            "backend": self.backend,
            "state": state,
            "status": self.status,
            "program": {"id": self.program_id},
            "created": self.created,
            "tags": list(self.tags),
            "session_id": self.session_id,
            "private": False,
            "estimated_running_time_seconds": self.estimated_seconds,
            **self.extra,
        }
        if include_params:
            data["params"] = self.params
        return data

    def to_admin(self) -> dict[str, Any]:
        """The `GET /__admin__/jobs` shape."""
        return {
            "id": self.id,
            "backend": self.backend,
            "program_id": self.program_id,
            "tags": list(self.tags),
            "session_id": self.session_id,
            "status": self.status,
            "created": self.created,
            "running": self.running,
            "finished": self.finished,
            "reason": self.reason,
            "reason_code": self.reason_code,
            "result_reads": self.result_reads,
            "quantum_seconds": self.quantum_seconds,
            "estimated_seconds": self.estimated_seconds,
        }

    def metrics(self, positions: dict[str, int] | None = None) -> dict[str, Any]:
        """The `GET /jobs/{id}/metrics` shape; `positions` while the job is queued."""
        final = self.status in FINAL_STATES
        return {
            "timestamps": {
                "created": self.created,
                "running": self.running,
                "finished": self.finished,
            },
            "bss": {"seconds": self.quantum_seconds},
            "usage": {
                "quantum_seconds": self.quantum_seconds,
                "seconds": self.quantum_seconds,
                "qpu_charge_time_seconds": self.quantum_seconds,
                "status": "final" if final else "pending",
            },
            "qiskit_version": "emulator",
            **(positions or {}),
        }


class JobStore:
    """All jobs, plus the worker that executes them on Aer."""

    def __init__(
        self,
        devices: DeviceCatalog,
        seed: int | None,
        noisy: bool,
        max_pending_jobs: int | None = None,
        billing: Billing | None = None,
    ) -> None:
        if max_pending_jobs is not None and max_pending_jobs < 1:
            raise ValueError("max_pending_jobs must be >= 1")
        self._devices = devices
        self._seed = seed
        self._noisy = noisy
        self._max_pending_jobs = max_pending_jobs
        self.billing = billing or Billing()
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._failed_by_tag: dict[str, int] = {}
        self._stopping = False
        self._worker: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._worker = threading.Thread(target=self._work, name="emulator-jobs", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5)

    # ----- API -------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> Job:
        """Validate and enqueue a `POST /jobs` body; `ApiError` 3458 over the pending limit.

        The params are not decoded here: QPY decoding crashed the server process (segfault)
        in its request threads, so it happens in the worker process, and params that do
        not decode make the job fail with the reason.
        """
        program_id = body.get("program_id")
        if program_id not in PROGRAMS:
            raise JobInputError(f"unknown program_id {program_id!r}; use one of {PROGRAMS}")
        backend = body.get("backend")
        try:
            self._devices.real(str(backend))
        except UnknownDeviceError:
            raise JobInputError(f"unknown backend {backend!r}") from None
        params = body.get("params") or {}
        if isinstance(params, str):
            params = json.loads(params)
        tags = [str(t) for t in body.get("tags") or []]
        try:
            faults = TagFaults.from_tags(tags)
        except ValueError as exc:
            raise JobInputError(f"bad qprim-fault tag: {exc}") from exc
        job = Job(
            id=f"emu-{uuid.uuid4().hex[:20]}",
            program_id=str(program_id),
            backend=str(backend),
            params=params,
            tags=tags,
            session_id=body.get("session_id"),
            created=iso_now(),
            created_at=time.monotonic(),
            faults=faults,
            dry_run=self._devices.is_mock(str(backend)),
        )
        with self._cond:  # the count and the insert under one lock: concurrent POSTs
            limit = self._max_pending_jobs
            if limit is not None and self._pending_count() >= limit:
                raise ApiError(400, PENDING_LIMIT_CODE, PENDING_LIMIT_MESSAGE.format(limit=limit))
            job.fail_code = self._injected_failure(faults)
            self._jobs[job.id] = job
            self._cond.notify_all()
        return job

    def _injected_failure(self, faults: TagFaults) -> int | None:
        """The reason code this job fails with, counting `fail-code=CODE:TIMES` tags."""
        if faults.fail_code is None or faults.fail_code_tag is None:
            return None
        failed = self._failed_by_tag.get(faults.fail_code_tag, 0)
        if faults.fail_times is not None and failed >= faults.fail_times:
            return None
        self._failed_by_tag[faults.fail_code_tag] = failed + 1
        return faults.fail_code

    def _pending_count(self) -> int:
        return sum(1 for job in self._jobs.values() if job.status not in FINAL_STATES)

    def pending_on(self, device: str) -> int:
        """The instance's jobs queued or running on `device` (dry runs aside)."""
        with self._cond:
            return sum(
                1
                for job in self._jobs.values()
                if job.backend == device and job.status not in FINAL_STATES
            )

    def positions(self, job: Job) -> dict[str, int]:
        """A queued job's place: behind its device's other jobs, and among the instance's."""
        if job.status != "Queued":
            return {}
        with self._cond:
            queued = sorted(
                (other for other in self._jobs.values() if other.status == "Queued"),
                key=lambda other: other.created_at,
            )
        same_device = [other for other in queued if other.backend == job.backend]
        ahead = self._devices.states[self._devices.real(job.backend)].other_jobs
        return {
            "position_in_queue": ahead + same_device.index(job) + 1,
            "position_in_provider": queued.index(job) + 1,
        }

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._cond:
            return list(self._jobs.values())

    def delete(self, job_id: str) -> bool:
        with self._cond:
            return self._jobs.pop(job_id, None) is not None

    def cancel(self, job_id: str) -> bool:
        """Cancel a job; False if it is already final."""
        with self._cond:
            job = self._jobs[job_id]
            if job.status in FINAL_STATES:
                return False
            if job.status == "Queued":
                self._finish(job, "Cancelled", reason="Cancelled by user")
            else:
                job.cancel_requested = True
            return True

    def consumed_seconds(self) -> float:
        with self._cond:
            return sum(job.quantum_seconds for job in self._jobs.values())

    # ----- worker ----------------------------------------------------------------------
    def _finish(
        self, job: Job, status: str, reason: str | None = None, text: str = "", code: int = 0
    ) -> None:
        job.status = status
        job.reason = reason
        job.finished = iso_now()
        if status == "Failed":
            job.reason_code = code or PROGRAM_ERROR_CODE
            job.result_text = text or f"Error: {reason}"
        elif text:
            job.result_text = text

    def _next_runnable(self) -> tuple[Job | None, float | None]:
        """The oldest queued job whose hold is over, or how long to wait for one."""
        now = time.monotonic()
        wait: float | None = None
        for job in self._jobs.values():
            if job.status != "Queued":
                continue
            ready_at = job.created_at + job.faults.queue_seconds
            if ready_at <= now:
                return job, None
            wait = ready_at - now if wait is None else min(wait, ready_at - now)
        return None, wait

    def _work(self) -> None:
        while True:
            with self._cond:
                job, wait = self._next_runnable()
                while job is None and not self._stopping:
                    self._cond.wait(timeout=wait)
                    job, wait = self._next_runnable()
                if self._stopping:
                    return
                assert job is not None
                if job.faults.cancel:
                    self._finish(job, "Cancelled", reason="Cancelled (qprim-fault:cancel tag)")
                    continue
                job.status = "Running"
                job.running = iso_now()
            self._execute(job)

    def _execute(self, job: Job) -> None:
        code = 0
        try:
            if job.faults.fail:
                raise RuntimeError("Injected failure (qprim-fault:fail tag)")
            if job.fail_code is not None:
                code = job.fail_code
                raise RuntimeError(f"Injected failure with IBM error code {code} (fail-code tag)")
            done = self._run_program(job)
            text, status, reason = done["result"] or "", "Completed", None
            executions = int(done["executions"])
        except Exception as exc:
            text = "".join(traceback.format_exception(exc))
            status, reason, executions = "Failed", f"{type(exc).__name__}: {exc}", 0
        with self._cond:
            job.estimated_seconds = self.billing.seconds(executions) if executions else None
            billed = not job.dry_run and status == "Completed"
            job.quantum_seconds = (job.estimated_seconds or 0.0) if billed else 0.0
            if job.cancel_requested:
                status, reason, text = "Cancelled", "Cancelled by user", ""
            self._finish(job, status, reason=reason, text=text, code=code)

    def _run_program(self, job: Job) -> dict[str, Any]:
        """Run (or, for a dry run, count) the job in a worker process (see `emulator_worker`)."""
        device = self._devices.real(job.backend)
        work = JobWork(
            params_json=json.dumps(job.params),
            program_id=job.program_id,
            backend=device,
            width=self._devices.num_qubits(device),
            seed=self._seed,
            noisy=self._noisy or job.faults.noise,
            dry_run=job.dry_run,
        )
        worker = subprocess.run(
            [sys.executable, "-m", "qprim.testing.emulator_worker"],
            input=json.dumps(work.__dict__),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
        )
        if worker.returncode != 0:
            reason = worker.stderr.strip().splitlines()[-1:] or [f"exit {worker.returncode}"]
            raise RuntimeError(f"simulation failed: {reason[0]}")
        done: dict[str, Any] = json.loads(worker.stdout)
        return done
