"""The one protocol every backend implements, and the plain data it speaks.

Backends know nothing of Prefect, blocks or YAML: they are built from configuration
objects, take ready PUBs and hand back results as RuntimeEncoder JSON (the bytes that
are stored and saved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from qiskit.transpiler import Target

Primitive = Literal["sampler", "estimator"]


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"

    @property
    def final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED)


# Called with each status a job is seen in while qprim waits for it.
StatusCallback = Callable[[JobStatus], None]


@dataclass(frozen=True)
class JobRequest:
    """Everything a backend needs to run one job: ISA PUBs plus primitive options."""

    primitive: Primitive
    pubs: list[Any]  # SamplerPub / EstimatorPub, already transpiled for the backend
    options: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptionProblem:
    """What a backend rejects in a workload's `options:`, found before anything is
    submitted; `path` is the key path inside `options:`, for the message's line."""

    path: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class DeviceProblem:
    """What a backend kind rejects in a workload's device (`key`: `name` or `noise` under
    `backend:`, for the message's line)."""

    key: str
    message: str


class BackendChoice(Protocol):
    """Which backend a command asks for: a workload's `backend:` completed from its block
    (`qprim.workload.types.BackendSpec`). Backends are built from it."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def noise(self) -> bool: ...

    @property
    def seed(self) -> int | None: ...

    @property
    def block(self) -> str | None: ...


@dataclass(frozen=True)
class SessionRef:
    """An IBM batch or session that jobs are submitted into."""

    mode: str  # batch | session
    id: str


@dataclass(frozen=True)
class FoundJob:
    """A job found at the backend by its tag."""

    job_id: str
    status: JobStatus
    created: str | None = None


@dataclass(frozen=True)
class JobMetrics:
    """Timing of one job, as shown in the metrics table and `run.json`."""

    created: str | None = None
    started: str | None = None
    finished: str | None = None
    quantum_s: float | None = None

    @property
    def queue_s(self) -> float | None:
        return _seconds_between(self.created, self.started)

    @property
    def run_s(self) -> float | None:
        return _seconds_between(self.started, self.finished)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "queue_s": self.queue_s, "run_s": self.run_s}


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(delta.total_seconds(), 3)


class Backend(Protocol):
    """A place that runs primitive jobs, addressed by job id and findable by tag."""

    kind: str
    name: str
    # True where one submission can create several jobs (a client that retries POSTs):
    # qprim then looks the tag up after every submit and keeps one job.
    may_duplicate: bool
    # True where jobs can be grouped in an execution mode (IBM batches and sessions).
    supports_groups: bool

    @property
    def target(self) -> Target: ...

    @property
    def num_qubits(self) -> int: ...

    def submit(self, request: JobRequest, session: SessionRef | None = None) -> str: ...

    def status(self, job_id: str) -> JobStatus: ...

    def result(self, job_id: str, deadline: float | None, on_status: StatusCallback) -> bytes: ...

    def metrics(self, job_id: str) -> JobMetrics: ...

    def find_by_tag(self, tag: str) -> list[FoundJob]: ...

    def cancel(self, job_id: str) -> None: ...

    def open_group(self, mode: str) -> SessionRef: ...

    def close_group(self, session: SessionRef) -> None: ...
