"""IBM Quantum through the native qiskit-ibm-runtime client (no hand-written REST).

Built from an `IBMAccount` (which a qprim block produces, or which is empty so that
Qiskit's own account discovery applies). Every client call runs under qprim's deadline,
and every client exception leaves as a qprim error (see `errors`). Jobs run on the
client-side primitives (`executor_sampler.Sampler`, `executor_estimator.Estimator`,
which submit the `executor` program) unless a workload chose the deprecated server-side
ones (`execution.primitives: legacy`): the default path uses nothing the client
deprecates, so no warning is filtered here. Batches and sessions are the client's own
`Batch`/`Session` objects passed as `mode=`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr

from qprim.backends.base import (
    Device,
    FoundJob,
    JobMetrics,
    JobRequest,
    JobStatus,
    QueueInfo,
    SessionRef,
    StatusCallback,
)
from qprim.backends.ibm.errors import client_errors, failure
from qprim.backends.ibm.executor import primitive_class, storable
from qprim.deadline import call_before, remaining
from qprim.errors import (
    AbandonedCall,
    AuthError,
    DeadlineError,
    InputError,
    QprimError,
    TransientBackendError,
)
from qprim.state import codec

if TYPE_CHECKING:
    from qiskit.transpiler import Target

    from qprim.backends.ibm.usage import Quota

T = TypeVar("T")

# The client's states, as qprim names them.
STATUS = {
    "INITIALIZING": JobStatus.QUEUED,
    "VALIDATING": JobStatus.QUEUED,
    "QUEUED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "DONE": JobStatus.DONE,
    "ERROR": JobStatus.ERROR,
    "CANCELLED": JobStatus.CANCELLED,
}
FIRST_POLL_S = 0.5
MAX_POLL_S = 10.0
# The client has no read timeout: no single call may take longer than this, --timeout or
# not, so a hung service can never hold a job's lock (or qprim) forever.
CALL_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class IBMAccount:
    """How to reach IBM Quantum. No token: Qiskit's own account discovery (saved account,
    QISKIT_IBM_* variables). `name` identifies the account in caches and records."""

    name: str | None = None
    token: SecretStr | None = None
    instance: str | None = None
    channel: str = "ibm_quantum_platform"
    url: str | None = None
    iam_url: str | None = None

    def service_kwargs(self) -> dict[str, Any]:
        if self.token is None:
            return {}
        kwargs: dict[str, Any] = {
            "channel": self.channel,
            "token": self.token.get_secret_value(),
            "instance": self.instance,
        }
        if self.url:
            api = self.url.rstrip("/") + "/api/v1"
            kwargs.update(url=self.url, url_resolver=lambda *args, **kw: api)
        return kwargs

    def client_environment(self) -> dict[str, str]:
        """Settings the client reads only from the environment: its IAM host, and (for a
        private endpoint) no IBM Cloud instance search. Applied by the caller."""
        env: dict[str, str] = {}
        if self.iam_url:
            env["IAM_URL"] = self.iam_url
        if self.url:
            env["QISKIT_FUNCTIONS_EXPERIMENTAL"] = "1"
        return env


# Per process: the client per account, the device per (account, name), the open
# batch/session objects by id. Constructing each costs HTTP round trips.
_SERVICES: dict[str | None, Any] = {}
_DEVICES: dict[tuple[str | None, str], Any] = {}
_GROUPS: dict[str, Any] = {}
_LOCK = threading.Lock()


class IBMBackend:
    kind = "ibm"
    may_duplicate = True  # the client retries a POST that got a 5xx: two jobs may exist
    supports_groups = True

    def __init__(
        self,
        account: IBMAccount,
        name: str | None,
        seed: int | None = None,
        deadline: float | None = None,
        call_timeout: float = CALL_TIMEOUT_S,
        fractional_gates: bool = False,
    ) -> None:
        self.account = account
        self.seed = seed
        self.deadline = deadline
        self.call_timeout = call_timeout
        self.fractional_gates = fractional_gates
        self.name = name or ""

    @property
    def service(self) -> Any:
        """One client per account and process: constructing it costs an IAM round trip."""
        with _LOCK:
            if self.account.name not in _SERVICES:
                from qiskit_ibm_runtime import QiskitRuntimeService

                kwargs = self.account.service_kwargs()
                if self.account.token is not None:
                    self._check_iam()
                _SERVICES[self.account.name] = self._call(
                    lambda: QiskitRuntimeService(**kwargs), "connecting to IBM Quantum"
                )
            return _SERVICES[self.account.name]

    @property
    def device(self) -> Any:
        if not self.name:
            raise InputError(
                "no IBM device named: set backend.name in the workload, or save a default on "
                "the block with `qprim blocks create ibm NAME --backend DEVICE`"
            )
        key = (self.account.name, self.name, self.fractional_gates)
        service = self.service
        with _LOCK:
            if key not in _DEVICES:
                _DEVICES[key] = self._call(
                    lambda: service.backend(self.name, use_fractional_gates=self.fractional_gates),
                    f"IBM device {self.name}",
                )
            return _DEVICES[key]

    @property
    def target(self) -> Target:
        return self.device.target

    @property
    def num_qubits(self) -> int:
        return self.device.num_qubits

    def submit(self, request: JobRequest, session: SessionRef | None = None) -> str:
        return self.run(request, session).job_id()

    def run(
        self, request: JobRequest, session: SessionRef | None = None, *, dry_run: bool = False
    ) -> Any:
        """The client's job for `request`: submitted, or (`dry_run`) estimated by IBM and
        never executed (its results are mock data)."""
        mode = self.device if session is None else self._group(session)
        primitive = primitive_class(request)(mode=mode, options=self._options(request))
        what = "asking IBM for a usage estimate" if dry_run else "submitting the job"
        return self._call(lambda: primitive.run(request.pubs, dry_run=dry_run), what)

    def status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        return STATUS[str(self._call(job.status, "job status", job_id))]

    def result(self, job_id: str, deadline: float | None, on_status: StatusCallback) -> bytes:
        """Poll with backoff until the job is final (or the deadline passes), then read it."""
        deadline = self.deadline if deadline is None else deadline

        def call(what: str, call: Callable[[], T]) -> T:
            return self._call(call, what, job_id, deadline)

        job = call(f"job {job_id}", lambda: self.service.job(job_id))
        pause = FIRST_POLL_S
        while (status := STATUS[str(call("job status", job.status))]) in (
            JobStatus.QUEUED,
            JobStatus.RUNNING,
        ):
            on_status(status, self._queue(job, deadline) if status is JobStatus.QUEUED else None)
            left = remaining(deadline)
            if left is not None and left <= 0:
                raise DeadlineError(f"job {job_id} is still {status.value}", (job_id,))
            time.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 1.5, MAX_POLL_S)
        on_status(status)
        if status is JobStatus.CANCELLED:
            raise failure(job_id, None)
        if status is JobStatus.ERROR:
            raise failure(job_id, call("job error", job.error_message))
        return codec.encode(storable(call("the job's result", job.result)))

    def metrics(self, job_id: str) -> JobMetrics:
        metrics = self._call(self._job(job_id).metrics, "job metrics", job_id)
        stamps = metrics.get("timestamps") or {}
        usage = metrics.get("usage") or {}
        return JobMetrics(
            created=stamps.get("created"),
            started=stamps.get("running"),
            finished=stamps.get("finished"),
            quantum_s=usage.get("quantum_seconds"),
        )

    def find_by_tag(self, tag: str) -> list[FoundJob]:
        jobs = self._call(
            lambda: self.service.jobs(job_tags=[tag], backend_name=self.name or None, limit=None),
            "searching jobs by tag",
        )
        return [
            FoundJob(
                job.job_id(),
                STATUS[str(self._call(job.status, "job status", job.job_id()))],
                job.creation_date.isoformat() if job.creation_date else None,
            )
            for job in jobs
        ]

    def cancel(self, job_id: str) -> None:
        self._call(self._job(job_id).cancel, "cancelling the job", job_id)

    def devices(self) -> list[Device]:
        """Every device of the instance, with its status and pending jobs now."""
        from qprim.backends.ibm.choose import list_devices

        return self._call(lambda: list_devices(self.service), "listing the instance's devices")

    def least_busy(
        self, min_qubits: int | None = None, dynamic_circuits: bool | None = None
    ) -> Device:
        """The device `name: least_busy` chooses now, with its filters (see `choose`)."""
        from qprim.backends.ibm.choose import choose

        return self._call(
            lambda: choose(self.service, min_qubits, dynamic_circuits, self.fractional_gates),
            "choosing the least busy device",
        )

    def usage(self) -> Quota:
        """The instance's quota: its limit, what was used, what is left."""
        from qprim.backends.ibm.usage import quota

        return self._call(lambda: quota(self.service), "the instance's usage")

    def estimate(self, request: JobRequest, deadline: float | None = None) -> float:
        """IBM's estimate of the quantum seconds `request` needs (a dry run, never executed)."""
        from qprim.backends.ibm.usage import ENDED, ESTIMATE_TAG, estimate_now

        deadline = self.deadline if deadline is None else deadline
        tagged = replace(request, tags=(*request.tags, ESTIMATE_TAG))
        job_id = self.run(tagged, dry_run=True).job_id()
        pause = FIRST_POLL_S
        while True:
            seconds, status = self._call(
                lambda: estimate_now(self.service, job_id), "the usage estimate", job_id, deadline
            )
            if seconds is not None:
                return seconds
            if status in ENDED:
                raise QprimError(f"IBM's dry run {job_id} ended {status} without an estimate")
            left = remaining(deadline)
            if left is not None and left <= 0:
                raise DeadlineError(f"IBM's dry run {job_id} gave no estimate in time")
            time.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 1.5, MAX_POLL_S)

    def queue(self, job_id: str) -> QueueInfo | None:
        """Where a queued job stands now (None: it is not queued, or IBM did not say)."""
        job = self._job(job_id)
        if STATUS[str(self._call(job.status, "job status", job_id))] is not JobStatus.QUEUED:
            return None
        return self._queue(job, self.deadline)

    def _queue(self, job: Any, deadline: float | None) -> QueueInfo | None:
        """The job's place in its device's queue (its metrics' `position_in_queue`, which
        IBM reports where it can) and the device's pending jobs. Best effort: a queue that
        cannot be read changes nothing about the wait."""
        try:
            metrics = self._call(job.metrics, "job metrics", job.job_id(), deadline)
            pending = self._call(
                lambda: job.backend().status().pending_jobs, "device status", None, deadline
            )
        except QprimError:
            return None
        position = metrics.get("position_in_queue")
        return QueueInfo(
            position=int(position) if position is not None else None,
            pending_jobs=int(pending) if pending is not None else None,
        )

    def open_group(self, mode: str, max_time: int | None = None) -> SessionRef:
        """A new batch or (dedicated) session on the device, open at most `max_time` s."""
        group_class = _group_class(mode)
        group = self._call(
            lambda: group_class(backend=self.device, max_time=max_time), f"opening a {mode}"
        )
        session = SessionRef(mode, str(group.session_id))
        _GROUPS[session.id] = group
        return session

    def close_group(self, session: SessionRef) -> None:
        """No more jobs in this batch/session; the ones in it run to the end."""
        self._call(self._group(session).close, f"closing {session.mode} {session.id}")

    def _group(self, session: SessionRef) -> Any:
        """The client's Batch/Session object: made here, or re-attached by id (a rerun)."""
        if session.id not in _GROUPS:
            group_class = _group_class(session.mode)
            _GROUPS[session.id] = self._call(
                lambda: group_class.from_id(session.id, self.service),
                f"re-attaching to {session.mode} {session.id}",
            )
        return _GROUPS[session.id]

    def _job(self, job_id: str) -> Any:
        return self._call(lambda: self.service.job(job_id), f"job {job_id}", job_id)

    def _check_iam(self) -> None:
        """Ask IBM Cloud IAM for a token with the client's own token manager first: when
        IAM fails, the client only warns and sends the raw key, and the 401 that follows
        would blame the credentials for an outage."""
        from ibm_cloud_sdk_core import ApiException
        from qiskit_ibm_runtime.api.auth import CloudAuth

        assert self.account.token is not None
        auth = CloudAuth(self.account.token.get_secret_value(), self.account.instance or "")
        try:
            self._call(auth.tm.get_token, "getting an IBM Cloud IAM token")
        except QprimError as exc:
            status = getattr(exc.__cause__, "code", None)
            if isinstance(exc.__cause__, ApiException) and status in (400, 401, 403):
                raise AuthError(
                    f"IBM Cloud IAM refused the API key (HTTP {status}): check the token "
                    "saved in the block (`qprim blocks create ibm NAME --overwrite ...`)"
                ) from None
            raise TransientBackendError(
                f"IBM Cloud IAM is unavailable ({exc}); nothing was submitted: run the same "
                "command again later"
            ) from None

    def _options(self, request: JobRequest) -> dict[str, Any]:
        options = dict(request.options)
        environment = dict(options.get("environment") or {})
        environment["job_tags"] = [*environment.get("job_tags", []), *request.tags]
        options["environment"] = environment
        if self.seed is not None:
            options["simulator"] = {**(options.get("simulator") or {}), "seed_simulator": self.seed}
        return options

    def _call(
        self,
        call: Callable[[], T],
        what: str,
        job_id: str | None = None,
        deadline: float | None = None,
    ) -> T:
        """A client call under the user's deadline, and never longer than `call_timeout`."""
        wanted = deadline or self.deadline
        cap = time.time() + self.call_timeout
        with client_errors(what):
            if wanted is not None and wanted <= cap:
                return call_before(wanted, call, what, job_id)
            try:
                return call_before(cap, call, what, job_id)
            except DeadlineError:
                raise AbandonedCall(
                    f"IBM Quantum did not answer {what} within {self.call_timeout:g} s"
                ) from None


def _group_class(mode: str) -> Any:
    from qiskit_ibm_runtime import Batch, Session

    return Batch if mode == "batch" else Session
