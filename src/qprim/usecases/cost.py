"""What a workload's IBM jobs will cost, known before anything is submitted.

IBM estimates a job's quantum seconds from a dry run (see `backends.ibm.usage`).
`qprim run` asks for the estimate of every job it is about to submit whenever there is
something to hold it against: the instance's quota left, or the workload's
`execution.max_usage_seconds`; more than either is an input error (exit 2) at the
workload's own line, naming both numbers, and nothing is submitted (`--no-usage-check`
skips the question). Jobs the journal already has cost nothing more. `qprim validate
--estimate` shows the estimate of every job of the workload beside the quota left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qprim.plan.prepare import Preparer
from qprim.workload.types import Location, WorkloadError

if TYPE_CHECKING:
    from qprim.backends import Backends
    from qprim.backends.ibm.usage import Quota
    from qprim.plan.jobs import JobSpec, WorkloadPlan
    from qprim.state.journal import Journal


@dataclass(frozen=True)
class JobCost:
    label: str
    digest: str
    seconds: float  # IBM's estimate, in quantum seconds


@dataclass(frozen=True)
class Cost:
    """A workload's estimated quantum seconds, beside what it may spend."""

    workload: str
    device: str | None
    jobs: list[JobCost] = field(default_factory=list)
    quota: Quota | None = None
    max_usage_s: float | None = None

    @property
    def total_s(self) -> float:
        return round(sum(job.seconds for job in self.jobs), 6)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "device": self.device,
            "jobs": [vars(job) for job in self.jobs],
            "total_s": self.total_s,
            "quota": self.quota.as_dict() if self.quota else None,
            "max_usage_s": self.max_usage_s,
        }


def estimate_cost(
    plan: WorkloadPlan,
    backends: Backends,
    preparer: Preparer | None = None,
    jobs: list[JobSpec] | None = None,
) -> Cost:
    """IBM's estimate for `jobs` (default: every job of the plan) and the quota left."""
    w = plan.workload
    if w.backend.kind != "ibm":
        raise WorkloadError(
            w.backend.where or Location(str(w.source), 1),
            "usage estimates are IBM's: this workload runs on Aer, which costs no quota",
        )
    backend: Any = backends(w.backend)
    preparer = preparer or Preparer()
    costs = []
    for job in plan.jobs if jobs is None else jobs:
        request, _facts = preparer.request(job, backend)
        costs.append(JobCost(job.label, job.digest, backend.estimate(request)))
    return Cost(w.name, w.backend.name, costs, backend.usage(), w.execution.max_usage_seconds)


def check_cost(
    plan: WorkloadPlan,
    journal: Journal,
    backends: Backends,
    preparer: Preparer,
    refresh: bool,
) -> Cost | None:
    """Refuse (WorkloadError, nothing submitted) a workload whose new IBM jobs need more
    quantum seconds than the quota left or its `max_usage_seconds`. None: nothing to check
    (not IBM, nothing new to submit, no limit anywhere)."""
    w = plan.workload
    if w.backend.kind != "ibm":
        return None
    new = [job for job in plan.jobs if refresh or _unsubmitted(journal, job)]
    if not new:
        return None
    backend: Any = backends(w.backend)
    quota = backend.usage()
    limit = w.execution.max_usage_seconds
    if quota.remaining_s is None and limit is None:
        return None
    cost = estimate_cost(plan, backends, preparer, new)
    count = f"{len(new)} job needs" if len(new) == 1 else f"{len(new)} jobs need"
    need = f"this workload's {count} {cost.total_s:g} s of quantum time by IBM's estimate"
    if limit is not None and cost.total_s > limit:
        raise WorkloadError(
            w.execution.usage_where or _where(w.backend.where, w.source),
            f"{need}, more than execution.max_usage_seconds {limit:g} s; nothing was "
            "submitted. Raise the limit, run fewer shots or points, or pass --no-usage-check",
        )
    if quota.remaining_s is not None and cost.total_s > quota.remaining_s:
        raise WorkloadError(
            _where(w.backend.where, w.source),
            f"{need}, more than the {quota.remaining_s:g} s left on the IBM instance "
            f"(limit {quota.limit_s:g} s, {quota.consumed_s:g} s used); nothing was "
            "submitted. Run it when there is quota, or pass --no-usage-check",
        )
    return cost


def _unsubmitted(journal: Journal, job: JobSpec) -> bool:
    row = journal.latest(job.digest)
    return row is None or row.job_id is None


def _where(where: Location | None, source: Any) -> Location:
    return where or Location(str(source), 1)
