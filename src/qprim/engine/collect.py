"""Get a submitted job's result: from the result store when it is there and whole (no
backend call), else by waiting for the job and reading it, storing it the moment it
arrives.

The result is stored first, then recorded in the journal with its digest: a crash
between the two leaves a stored result that verifies against the digest written beside
it, never a journal entry that claims a result which is not there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from qprim.backends.base import JobStatus, QueueInfo
from qprim.engine.events import Event, EventKind
from qprim.errors import JobFailedError, JobNotFoundError, StateError, describe_failure
from qprim.state.codec import sha256

if TYPE_CHECKING:
    from qprim.engine.context import Context
    from qprim.engine.submit import Submitted
    from qprim.state.journal import Submission


@dataclass(frozen=True)
class Collected:
    """A job's outcome (small): its result stays in the result store, by job id."""

    submitted: Submitted
    status: str
    result: Literal["fetched", "cached"]
    sha256: str
    metrics: dict[str, Any] = field(default_factory=dict)


def collect(engine: Context, submitted: Submitted) -> Collected:
    kind, job_id = submitted.backend.kind, submitted.job_id
    row = engine.journal.by_job_id(job_id)
    stored = engine.results.get(kind, job_id, row.result_sha256 if row else None)
    if stored is not None:
        engine.remember(job_id, stored)
        _emit(engine, submitted, "cached", detail="restored from the result store")
        metrics = (row.metrics if row else None) or {}
        return Collected(submitted, JobStatus.DONE.value, "cached", sha256(stored), metrics)
    backend = engine.backends(submitted.backend)
    seen: list[JobStatus] = []
    shown: list[str] = []

    def on_status(status: JobStatus, queue: QueueInfo | None = None) -> None:
        detail = queue.describe(submitted.backend.name or "the device") if queue else ""
        if not seen or seen[-1] != status:
            seen.append(status)
            engine.journal.record_status(job_id, status.value)
        elif not detail or shown[-1:] == [detail]:
            return
        shown.append(detail)
        _emit(engine, submitted, "status", status=status.value, detail=detail)

    try:
        try:
            data = backend.result(job_id, engine.deadline, on_status)
        except JobNotFoundError as exc:
            if row is None:
                raise  # an id given by hand that no backend knows: the user's input
            raise _gone(engine, submitted, row) from exc
    except JobFailedError as exc:
        _emit(engine, submitted, "failed", detail=str(exc))
        raise
    engine.fault("fetched", submitted)
    try:
        saved = engine.results.put(kind, job_id, data)
    except OSError as exc:
        _, why = describe_failure(exc)
        raise StateError(
            f"job {job_id} finished, but its result could not be stored "
            f"({why.removeprefix('error: ')}); the backend keeps it: `qprim fetch {job_id}` "
            "gets it once there is room"
        ) from exc
    metrics = backend.metrics(job_id).as_dict()
    engine.journal.record_result(job_id, sha256=saved.sha256, size=saved.size, metrics=metrics)
    engine.remember(job_id, data)
    _emit(engine, submitted, "fetched")
    return Collected(submitted, JobStatus.DONE.value, "fetched", saved.sha256, metrics)


def _gone(engine: Context, submitted: Submitted, row: Submission) -> JobFailedError:
    """A job the journal recorded that its backend no longer knows (deleted, expired, or
    the block now points at another instance): it ended as far as this work goes, like a
    failed job (exit 3), and only `--refresh` makes the work again."""
    backend = f"{submitted.backend.kind}:{submitted.backend.name}"
    return JobFailedError(
        f"job {submitted.job_id} is gone: {backend} no longer knows it (deleted, expired, "
        f"or another instance behind the same name). The journal ({engine.journal.where}) "
        f"recorded it on {row.created} for workload '{row.workload}', and the result store "
        "does not have its result. Run the same command with --refresh to submit the work "
        "anew"
    )


def _emit(
    engine: Context,
    submitted: Submitted,
    kind: EventKind,
    status: str | None = None,
    detail: str = "",
) -> None:
    event = Event(submitted.label, submitted.workload, kind, submitted.job_id, status, detail)
    engine.events(event)
