"""Resubmit a job that failed for a reason its service marks transient, when the workload
asks for it (`retry: {failed: N}`), at most N times in a row.

The failed job has ended before anything replaces it, so two jobs of the same work are
never live at once. The replacement is a new attempt claimed in the journal in ONE
transaction, and only while the failed attempt is still the latest (`claim_replacement`),
under the digest's lock: a process that crashed, a Prefect retry of the fetch step, or
another machine collecting the same failed job all find the replacement instead of making
one. From the claim on, the replacement is an ordinary attempt: a crash before its job
id is recorded is resolved by its tag, like any other. Every other failure ends the
work as before (exit 3), and so does a transient one once the budget is spent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from qprim.engine import collect as collecting
from qprim.engine.submit import _meta, _submit_new, _submitted, adopt
from qprim.errors import TransientJobFailure

if TYPE_CHECKING:
    from qprim.engine.collect import Collected
    from qprim.engine.context import Context
    from qprim.engine.submit import Submitted


def collect(engine: Context, submitted: Submitted) -> Collected:
    """`collect.collect`, resubmitting the work while its job fails transiently."""
    while True:
        try:
            return collecting.collect(engine, submitted)
        except TransientJobFailure as failure:
            replacement = resubmit(engine, submitted, failure)
            if replacement is None:
                raise
            submitted = replacement


def resubmit(
    engine: Context, submitted: Submitted, failure: TransientJobFailure
) -> Submitted | None:
    """The job that replaces `submitted`'s failed one; None when the workload allows no
    (more) resubmissions, or the job is not one of this command's (`qprim fetch`)."""
    plan = engine.groups.plan_of.get(submitted.digest)
    if plan is None:
        return None
    job = next(job for job in plan.jobs if job.digest == submitted.digest)
    budget = job.workload.execution.retry_failed
    failed = engine.journal.by_job_id(submitted.job_id)
    if budget == 0 or failed is None:
        return None
    backend = engine.backends(job.workload.backend)
    with engine.journal.hold(job.digest, engine.deadline):
        claim = engine.journal.claim_replacement(failed, _meta(job, backend), budget)
        if claim is None:
            spent = f"the {budget} resubmission{'s' if budget > 1 else ''} retry.failed allows"
            engine.emit(job, "failed", submitted.job_id, detail=f"{spent} are spent")
            return None
        row = claim.submission
        if not claim.claimed and row.job_id is not None:  # replaced by someone else
            return replace(_submitted(job, row, "reused"), replaces=submitted.job_id)
        engine.emit(
            job,
            "resubmitted",
            submitted.job_id,
            detail=f"IBM error {failure.reason_code} is transient: attempt {row.attempt} "
            f"replaces job {submitted.job_id}",
        )
        engine.fault("replacing", job)
        made = adopt(engine, job, backend, row) or _submit_new(engine, job, backend, row)
    if job.mode != "job":  # the batch or session was closed once every job existed
        engine.groups.close(plan, backend)
    return replace(made, replaces=submitted.job_id)
