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

from qprim.backends.base import Backend, JobRequest
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
        found = _attach_by_tag(journal, backend, submission)
        if found is not None:
            return found
        raise
    _pause_for_crash_test(job_id)
    journal.mark_submitted(submission, job_id)
    return SubmitOutcome(job_id, "new", submission.tag)


def _attach_by_tag(
    journal: Journal, backend: Backend, submission: Submission
) -> SubmitOutcome | None:
    found = backend.find_by_tag(submission.tag)
    if not found:
        return None
    if len(found) > 1:
        raise JobFailedError(
            f"{len(found)} jobs carry tag {submission.tag} ({', '.join(found)}); qprim will "
            "not guess which one is yours. Fetch the one you want with `qprim fetch JOB_ID`, "
            "or run again with --refresh to submit anew."
        )
    journal.mark_submitted(submission, found[0])
    return SubmitOutcome(found[0], "reused", submission.tag)


def _pause_for_crash_test(job_id: str) -> None:
    marker = os.environ.get(PAUSE_AFTER_ACCEPT_ENV)
    if marker:
        Path(marker).write_text(job_id)
        time.sleep(3600)
