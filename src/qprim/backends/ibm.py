"""IBM Quantum through the native qiskit-ibm-runtime client (no hand-written REST).

Credentials come from a qprim block (`backend.block`) or, without one, from Qiskit's
own account discovery (saved account, QISKIT_IBM_TOKEN, ...). Every client call runs
under qprim's deadline, and every client exception leaves as a qprim error (see
`ibm_errors`). The client's deprecation warnings are never shown to the user.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from qprim.backends.base import FoundJob, JobMetrics, JobRequest, JobStatus
from qprim.backends.ibm_errors import client_errors
from qprim.deadline import call_before, remaining
from qprim.errors import DeadlineError, InputError, JobFailedError

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult
    from qiskit.transpiler import Target

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
# Per process: the client per block, and the device per (block, name). A run looks the
# device up to check widths and transpile, then again in its submit task; its
# configuration and properties are one HTTP round trip each.
_SERVICES: dict[str | None, Any] = {}
_DEVICES: dict[tuple[str | None, str], Any] = {}
FIRST_POLL_S = 0.5
MAX_POLL_S = 10.0


@contextmanager
def quiet_client() -> Iterator[None]:
    """The client warns about its own deprecations; that is qprim's business, not the user's."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        yield


def service_kwargs(block: str | None) -> dict[str, Any]:
    """QiskitRuntimeService arguments from a block; {} lets Qiskit find the account itself."""
    if block is None:
        return {}
    from qprim.blocks import load_ibm_config

    config = load_ibm_config(block)
    kwargs: dict[str, Any] = {
        "channel": config.channel,
        "token": config.token.get_secret_value(),
        "instance": config.instance,
    }
    if config.iam_url:
        os.environ["IAM_URL"] = config.iam_url  # the client reads its IAM host only from here
    if config.url:
        api = config.url.rstrip("/") + "/api/v1"
        kwargs.update(url=config.url, url_resolver=lambda *args, **kw: api)
        # a private endpoint has no IBM Cloud instance search to consult
        os.environ.setdefault("QISKIT_FUNCTIONS_EXPERIMENTAL", "1")
    return kwargs


class IBMBackend:
    kind = "ibm"

    def __init__(
        self,
        name: str | None,
        block: str | None = None,
        seed: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self.block = block
        self.seed = seed
        self.deadline = deadline
        self.name = name or ""

    @property
    def service(self) -> Any:
        """One client per block and process: constructing it costs an IAM round trip."""
        if self.block not in _SERVICES:
            from qiskit_ibm_runtime import QiskitRuntimeService

            kwargs = service_kwargs(self.block)
            with quiet_client():
                _SERVICES[self.block] = self._call(
                    lambda: QiskitRuntimeService(**kwargs), "connecting to IBM Quantum"
                )
        return _SERVICES[self.block]

    @property
    def device(self) -> Any:
        if not self.name:
            raise InputError(
                "no IBM device named: set backend.name in the workload, or save a default on "
                "the block with `qprim blocks create ibm NAME --backend DEVICE`"
            )
        key = (self.block, self.name)
        if key not in _DEVICES:
            _DEVICES[key] = self._call(
                lambda: self.service.backend(self.name), f"IBM device {self.name}"
            )
        return _DEVICES[key]

    @property
    def target(self) -> Target:
        return self.device.target

    @property
    def num_qubits(self) -> int:
        return self.device.num_qubits

    def submit(self, request: JobRequest) -> str:
        with quiet_client():
            from qiskit_ibm_runtime import EstimatorV2, SamplerV2

            primitive_class = SamplerV2 if request.primitive == "sampler" else EstimatorV2
            primitive = primitive_class(mode=self.device, options=self._options(request))
            job = self._call(lambda: primitive.run(request.pubs), "submitting the job")
        return job.job_id()

    def status(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        return STATUS[str(self._call(job.status, "job status", job_id))]

    def result(self, job_id: str, deadline: float | None = None) -> PrimitiveResult:
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
            left = remaining(deadline)
            if left is not None and left <= 0:
                raise DeadlineError(f"job {job_id} is still {status.value}", job_id)
            time.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 1.5, MAX_POLL_S)
        if status is JobStatus.CANCELLED:
            raise JobFailedError(f"IBM job {job_id} was cancelled")
        if status is JobStatus.ERROR:
            reason = call("job error", job.error_message)
            raise JobFailedError(f"IBM job {job_id} failed: {reason}")
        with quiet_client():
            return call("the job's result", job.result)

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

    def _job(self, job_id: str) -> Any:
        return self._call(lambda: self.service.job(job_id), f"job {job_id}", job_id)

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
        with client_errors(what):
            return call_before(deadline or self.deadline, call, what, job_id)
