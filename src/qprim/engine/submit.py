"""Submit a JobSpec's job at most once, whatever crashed, retried or ran at the same time.

The order is what makes it safe: hold the digest, claim it in the journal (one
transaction), record `prepared` with a stable tag, call the backend, record
`submitted`. Whenever the outcome of an earlier call is unknown (a crash, a lost
response), the tag is looked up at the backend before anything is submitted again; and
where one submission can make several jobs (a client that retries a POST after a 5xx),
the tag is looked up after every submit: the earliest live job is kept, later ones
still queued are cancelled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from qprim.backends.base import FoundJob, JobStatus
from qprim.errors import (
    AbandonedCall,
    DeadlineError,
    PendingLimitReached,
    TransientBackendError,
)
from qprim.state.journal import Submission, SubmissionMeta

if TYPE_CHECKING:
    from qprim.backends.base import Backend
    from qprim.engine.context import Context
    from qprim.plan.jobs import JobSpec
    from qprim.workload.types import BackendSpec

MAX_LIMIT_WAIT_S = 60.0


@dataclass(frozen=True)
class Submitted:
    """A JobSpec's job at its backend: all the fetch step needs (small, no circuits)."""

    digest: str
    label: str
    workload: str
    backend: BackendSpec
    job_id: str
    submit: Literal["new", "reused"]
    tag: str
    session_id: str | None = None
    # how the job was run, as the journal recorded it when it was submitted: a job reused
    # by a workload of another mode keeps the mode (and batch or session) it ran in
    mode: str = "job"
    # each part's facts after transpilation (depth, size), as recorded when submitted
    facts: tuple[dict[str, object], ...] = ()
    # the job this one replaced because it failed for a transient reason (`retry:`)
    replaces: str | None = None


def submit(engine: Context, job: JobSpec) -> Submitted:
    backend = engine.backends(job.workload.backend)
    with engine.journal.hold(job.digest, engine.deadline):
        claim = engine.journal.claim(job.digest, _meta(job, backend), refresh=engine.refresh)
        row = claim.submission
        if not claim.claimed and row.job_id is not None:
            engine.emit(job, "reused", row.job_id, detail="recorded in the journal")
            if row.uncertain and backend.may_duplicate:
                # an earlier submit was given up on: its job may have landed since
                return replace(_keep_one(engine, job, backend, row), submit="reused")
            return _submitted(job, row, "reused")
        # a crash left `prepared`, or (new attempt) another machine made the same job
        found = adopt(engine, job, backend, row)
        if found is not None:
            engine.emit(job, "found", found.job_id, detail=f"by its tag {row.tag}")
            return replace(found, submit="reused")
        engine.fault("claimed", job)
        return _submit_new(engine, job, backend, row)


def _submit_new(engine: Context, job: JobSpec, backend: Backend, row: Submission) -> Submitted:
    request, facts = engine.preparer.request(job, backend)
    tagged = replace(request, tags=(row.tag, *request.tags))
    session = engine.groups.session_for(job, backend) if job.mode != "job" else None
    session_id = session.id if session else None
    pause = engine.limit_pause
    while True:
        try:
            job_id = backend.submit(tagged, session)
            break
        except PendingLimitReached as exc:
            _wait_for_room(engine, job, str(exc), pause)
            pause = min(pause * 2, MAX_LIMIT_WAIT_S)
        except Exception as exc:
            # the backend may have created the job and lost the answer: look before failing
            found = _look_after_failed_submit(engine, job, backend, row, exc)
            if found is not None:
                return _keep_one(engine, job, backend, found, facts, session_id)
            raise
    engine.fault("accepted", job)
    row = engine.journal.mark_submitted(row, job_id, session_id=session_id, pubs=facts)
    engine.emit(job, "submitted", job_id)
    if backend.may_duplicate:
        return _keep_one(engine, job, backend, row)
    return _submitted(job, row, "new")


def _look_after_failed_submit(
    engine: Context, job: JobSpec, backend: Backend, row: Submission, failure: Exception
) -> Submission | None:
    """After a submit that failed or was given up on: the job, if the service made it.

    Raises what the user needs to know when there is none: whether a job exists."""
    abandoned = isinstance(failure, DeadlineError | AbandonedCall)
    if abandoned:
        engine.journal.mark_uncertain(row)  # the call may still land a job later
    may_still_come = (
        "the service may still make it: the next run looks it up by its tag "
        f"{row.tag} before submitting, and later runs keep checking for a second job"
    )
    try:
        found = [f for f in backend.find_by_tag(row.tag) if f.status != JobStatus.CANCELLED]
    except (TransientBackendError, DeadlineError):
        engine.journal.mark_uncertain(row)
        if isinstance(failure, DeadlineError):  # the user's deadline: say it as such
            raise DeadlineError(f"{failure}; {may_still_come}") from failure
        raise TransientBackendError(
            f"{failure}. Whether the service made the job is unknown (looking up its tag "
            f"{row.tag} failed too); run the same command again: qprim looks the job up by "
            "its tag before submitting anything"
        ) from failure
    if found:
        engine.emit(job, "found", found[0].job_id, detail="after a failed submit")
        return engine.journal.mark_submitted(row, found[0].job_id)
    if abandoned:
        raise type(failure)(f"{failure}. No job carries its tag yet, but {may_still_come}") from (
            failure
        )
    if isinstance(failure, TransientBackendError):
        raise TransientBackendError(
            f"{failure}. No job was made (none carries its tag {row.tag}); run the same "
            "command again when the service answers"
        ) from failure
    return None


def _keep_one(
    engine: Context,
    job: JobSpec,
    backend: Backend,
    row: Submission,
    facts: list[dict[str, object]] | None = None,
    session_id: str | None = None,
) -> Submitted:
    """Look the tag up once: a client that retried the POST may have made several jobs.
    Best effort: the job is recorded already, so a lookup that fails costs nothing."""
    try:
        kept = adopt(
            engine,
            job,
            backend,
            row,
            facts=facts or row.pubs,
            session_id=session_id or row.session_id,
        )
    except (TransientBackendError, DeadlineError) as exc:
        engine.emit(job, "warning", row.job_id, detail=f"could not look for duplicates: {exc}")
        kept = None
    return kept or _submitted(job, row, "new")


def _wait_for_room(engine: Context, job: JobSpec, why: str, pause: float) -> None:
    """The service refused the job (too many pending jobs) and created nothing: wait."""
    if engine.deadline is not None and time.time() + pause > engine.deadline:
        raise DeadlineError(f"{why}; gave up waiting for room (--timeout reached)")
    engine.emit(job, "waiting", detail=f"{why}; submitting again in {pause:.0f} s")
    time.sleep(pause)


def adopt(
    engine: Context,
    job: JobSpec,
    backend: Backend,
    row: Submission,
    *,
    facts: list[dict[str, object]] | None = None,
    session_id: str | None = None,
) -> Submitted | None:
    """The job carrying this attempt's tag, if any: the earliest live one. Later live
    ones still queued are cancelled (the same work must not run twice). With none live,
    the earliest cancelled one: the attempt was made and then cancelled, which the rerun
    reports (as for `qprim cancel`) until `--refresh` asks for new work."""
    tagged = sorted(
        backend.find_by_tag(row.tag), key=lambda found: (found.created or "", found.job_id)
    )
    live = [found for found in tagged if found.status != JobStatus.CANCELLED]
    if not live:
        if not tagged:
            return None
        row = engine.journal.mark_submitted(
            row, tagged[0].job_id, session_id=session_id, pubs=facts
        )
        return _submitted(job, row, "new")
    keep, *later = live
    if later:
        _cancel_duplicates(engine, job, backend, keep, later)
    row = engine.journal.mark_submitted(row, keep.job_id, session_id=session_id, pubs=facts)
    return _submitted(job, row, "new")


def _cancel_duplicates(
    engine: Context, job: JobSpec, backend: Backend, keep: FoundJob, later: list[FoundJob]
) -> None:
    cancelled = [found.job_id for found in later if found.status == JobStatus.QUEUED]
    for job_id in cancelled:
        backend.cancel(job_id)
    others = [found.job_id for found in later if found.job_id not in cancelled]
    detail = f"kept the earliest, {keep.job_id}"
    if cancelled:
        detail += f"; cancelled {', '.join(cancelled)} (still queued)"
    if others:
        detail += f"; {', '.join(others)} already started and could not be cancelled"
    engine.emit(job, "duplicates", keep.job_id, detail=detail)


def _submitted(job: JobSpec, row: Submission, how: Literal["new", "reused"]) -> Submitted:
    assert row.job_id is not None
    return Submitted(
        digest=job.digest,
        label=job.label,
        workload=job.workload.name,
        backend=job.workload.backend,
        job_id=row.job_id,
        submit=how,
        tag=row.tag,
        session_id=row.session_id,
        mode=row.mode,
        facts=tuple(row.pubs or ()),
    )


def _meta(job: JobSpec, backend: Backend) -> SubmissionMeta:
    return SubmissionMeta(
        backend_kind=backend.kind,
        backend_name=backend.name,
        block=job.workload.backend.block,
        workload=job.workload.name,
        primitive=job.workload.primitive,
        part=job.number,
        parts=job.count,
        mode=job.mode,
    )
