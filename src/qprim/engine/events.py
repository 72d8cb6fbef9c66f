"""What the engine tells the world while it works: one event per decision or change.

The terminal's live table, the Prefect logs and the tests all read the same events, so
a line in the UI ("reused JOB", "found JOB by tag") is exactly what the engine did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal[
    "chosen",  # least_busy: the device the work runs on
    "submitted",  # a new job was accepted by the backend
    "reused",  # the journal already had this work's job
    "found",  # a job whose id was never recorded was found by its tag
    "resubmitted",  # its job failed for a transient reason: a new job replaces it
    "duplicates",  # several jobs carried one tag: the earliest kept, later ones cancelled
    "waiting",  # for the pending-job limit, or for another process holding the work
    "status",  # the job was seen QUEUED, RUNNING, ...
    "cached",  # the result was restored from the result store, no backend call
    "fetched",  # the result was read from the backend and stored
    "failed",  # this job's step ended with an error
    "warning",  # something went wrong that changes nothing for the result
]


@dataclass(frozen=True)
class Event:
    job: str  # the JobSpec's label: "sweep part 2/3"
    workload: str
    kind: EventKind
    job_id: str | None = None
    status: str | None = None
    detail: str = ""
    at: float = field(default_factory=time.time)

    def line(self) -> str:
        """One line for a log or a terminal that is not interactive."""
        job = f" {self.job_id}" if self.job_id else ""
        status = f" {self.status}" if self.status and self.kind == "status" else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.job}: {self.kind}{job}{status}{detail}"


EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The sink when nobody listens."""
