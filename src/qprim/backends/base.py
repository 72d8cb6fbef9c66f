"""The one protocol every backend implements, and the plain data it speaks.

Backends know nothing of Prefect, blocks or YAML: they are built from configuration
objects, take ready PUBs and hand back results as RuntimeEncoder JSON (the bytes that
are stored and saved).
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class QueueInfo:
    """Where a queued job stands, where its service says: its place in the device's queue,
    and how many jobs (everyone's) wait on the device."""

    position: int | None = None
    pending_jobs: int | None = None

    def describe(self, device: str = "the device") -> str:
        parts = []
        if self.position is not None:
            parts.append(f"position {self.position} in the queue")
        if self.pending_jobs is not None:
            parts.append(f"{self.pending_jobs} jobs pending on {device}")
        return ", ".join(parts)


class StatusCallback(Protocol):
    """Called with each status a job is seen in while qprim waits for it (and, while it
    is queued, where it stands, if the backend knows)."""

    def __call__(self, status: JobStatus, queue: QueueInfo | None = None) -> None: ...


@dataclass(frozen=True)
class JobRequest:
    """Everything a backend needs to run one job: ISA PUBs plus primitive options."""

    primitive: Primitive
    pubs: list[Any]  # SamplerPub / EstimatorPub, already transpiled for the backend
    options: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    primitives: str = "executor"  # IBM: the client-side primitives, or "legacy"


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

    @property
    def fractional_gates(self) -> bool: ...


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
class Device:
    """A device a backend offers: one line of `qprim backends`."""

    name: str
    qubits: int
    status: str  # IBM's status message (active, paused, ...); "local" for Aer
    operational: bool
    pending_jobs: int | None  # None: no queue (Aer runs at once, here)
    processor: str | None  # e.g. "Heron r2"
    fractional_gates: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def processor_name(processor: dict[str, Any] | None) -> str | None:
    """IBM's name of a processor from its configuration's `processor_type`: `Falcon r5.11L`
    (family, revision, segment)."""
    if not processor or not processor.get("family"):
        return None
    revision = processor.get("revision")
    name = str(processor["family"]) + (f" r{revision}" if revision is not None else "")
    return name + str(processor.get("segment") or "")


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

    def open_group(self, mode: str, max_time: int | None = None) -> SessionRef: ...

    def close_group(self, session: SessionRef) -> None: ...
