"""What IBM work costs before it runs: a job's estimated quantum seconds, the quota left.

The estimate is IBM's own: the primitive's `run(..., dry_run=True)` submits the job to
the device's `mock_` twin, which validates and times it without executing it, and
`job.usage_estimation["quantum_seconds"]` reads the estimate from the job
(`estimated_running_time_seconds`). The client fetches that once and keeps it, even
when it is still empty, so the job is looked up afresh until the estimate is there or
the dry run ended. A dry run never carries the work's attempt tag: it must not look
like the job itself to the tag search that protects against duplicates.
`service.usage()` gives the instance's limit and consumption; the client computes
`usage_remaining_seconds` when there is a limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ENDED = ("DONE", "ERROR", "CANCELLED")
# on every dry run, so a person looking at the instance's jobs knows what it was
ESTIMATE_TAG = "qprim-estimate"


@dataclass(frozen=True)
class Quota:
    """The instance's quantum seconds: `limit_s` None means no limit."""

    limit_s: float | None
    consumed_s: float
    remaining_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def quota(service: Any) -> Quota:
    usage = service.usage()
    limit = usage.get("usage_limit_seconds") or usage.get("usage_allocation_seconds")
    left = usage.get("usage_remaining_seconds")
    return Quota(
        limit_s=float(limit) if limit is not None else None,
        consumed_s=float(usage.get("usage_consumed_seconds") or 0.0),
        remaining_s=float(left) if left is not None else None,
    )


def estimate_now(service: Any, job_id: str) -> tuple[float | None, str]:
    """The dry run's estimate if IBM has made it, and the dry run's status."""
    job = service.job(job_id)
    seconds = job.usage_estimation.get("quantum_seconds")
    return (float(seconds) if seconds is not None else None), str(job.status())
