"""Submit a job at most once per digest, whatever crashed, retried or ran at the same time.

The order is what makes it safe: lock the digest, consult the journal, record
`prepared` with a stable tag, call the backend, record `submitted`. Whenever the
outcome of an earlier call is unknown (a crash, a lost response), the tag is looked
up at the backend before anything is submitted again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from qprim.backends.base import Backend, FoundJob, JobRequest, JobStatus
from qprim.errors import JobFailedError
from qprim.journal import Journal, Submission

# Test hook: after the backend accepted a job and before the journal records it, write
# the job id to this file and wait to be killed (proves crash recovery; see tests).
PAUSE_AFTER_ACCEPT_ENV = "QPRIM_TEST_PAUSE_AFTER_ACCEPT"


@dataclass(frozen=True)
class SubmitOutcome:
    job_id: str
    submit: Literal["new", "reused"]
    tag: str


def ensure_submitted(
    journal: Journal,
    backend: Backend,
    request: JobRequest,
    *,
    digest: str,
    workload_name: str,
    block: str | None = None,
    refresh: bool = False,
) -> SubmitOutcome:
    with journal.lock(digest):
        latest = journal.latest(digest)
        if latest is not None and not refresh:
            if latest.job_id is not None:
                return SubmitOutcome(latest.job_id, "reused", latest.tag)
            found = _attach_by_tag(journal, backend, latest)
            if found is not None:
                return found
            return _submit(journal, backend, request, latest)
        submission = journal.prepare(
            digest,
            backend_kind=backend.kind,
            backend_name=backend.name,
            block=block,
            workload=workload_name,
            primitive=request.primitive,
        )
        # a job from another machine or a lost journal carries the same first tag
        return _attach_by_tag(journal, backend, submission) or _submit(
            journal, backend, request, submission
        )


def _submit(
    journal: Journal, backend: Backend, request: JobRequest, submission: Submission
) -> SubmitOutcome:
    tagged = replace(request, tags=(submission.tag, *request.tags))
    try:
        job_id = backend.submit(tagged)
    except Exception:
        # the backend may have created the job and lost the answer: look before failing
        found = _attach_by_tag(journal, backend, submission, made_here=True)
        if found is not None:
            return found
        raise
    _pause_for_crash_test(job_id)
    journal.mark_submitted(submission, job_id)
    return SubmitOutcome(job_id, "new", submission.tag)


def _attach_by_tag(
    journal: Journal, backend: Backend, submission: Submission, made_here: bool = False
) -> SubmitOutcome | None:
    """Adopt the one live job carrying the tag; with several, stop rather than guess."""
    live = [job for job in backend.find_by_tag(submission.tag) if job.status != JobStatus.CANCELLED]
    if not live:
        return None
    if len(live) > 1:
        raise _duplicates(backend, submission.tag, live)
    journal.mark_submitted(submission, live[0].job_id)
    return SubmitOutcome(live[0].job_id, "new" if made_here else "reused", submission.tag)


def _duplicates(backend: Backend, tag: str, live: list[FoundJob]) -> JobFailedError:
    """Cancel later duplicates that have not started; explain what is left."""
    _earliest, *later = sorted(live, key=lambda job: (job.created or "", job.job_id))
    cancelled = [job.job_id for job in later if job.status == JobStatus.QUEUED]
    for job_id in cancelled:
        backend.cancel(job_id)
    kept = [job.job_id for job in live if job.job_id not in cancelled]
    lines = [
        f"{len(live)} jobs carry tag {tag}: {', '.join(job.job_id for job in live)}. "
        "qprim will not guess which one holds your result.",
    ]
    if cancelled:
        lines.append(f"Cancelled the later ones still queued: {', '.join(cancelled)}.")
    if len(kept) == 1:
        lines.append(f"Run again to use {kept[0]}, or `qprim fetch {kept[0]}`.")
    else:
        lines.append(
            f"Still running or done: {', '.join(kept)}. Fetch the one you want with "
            "`qprim fetch JOB_ID`, or run with --refresh to submit anew."
        )
    return JobFailedError(" ".join(lines))


def _pause_for_crash_test(job_id: str) -> None:
    marker = os.environ.get(PAUSE_AFTER_ACCEPT_ENV)
    if marker:
        Path(marker).write_text(job_id)
        time.sleep(3600)
