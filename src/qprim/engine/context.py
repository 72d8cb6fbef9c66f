"""What the engine's steps share for one command: the journal, the backends, the result
store, the open batches and sessions, the deadline, where events go and the fault points.

The steps (`submit`, `collect`, `groups`) take this context, not the `Engine` that runs
them, so they import nothing of the code that calls them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from qprim.engine.events import Event, EventKind, EventSink, ignore
from qprim.engine.groups import Groups
from qprim.plan.prepare import Preparer

if TYPE_CHECKING:
    from qprim.backends.base import Backend
    from qprim.plan.jobs import JobSpec
    from qprim.state.journal import Journal
    from qprim.state.results import ResultStore
    from qprim.workload.types import BackendSpec

# Called at each crash point ("claimed", "accepted", "fetched", and "replacing": a failed
# job's replacement claimed, not yet submitted) with the JobSpec or the submitted job;
# tests make it raise to prove nothing is lost or submitted twice.
FaultPoint = Callable[[str, object], None]


def no_fault(point: str, subject: object) -> None:
    """No fault injected."""


class Context:
    """One command's shared state; the results fetched so far are kept by job id."""

    def __init__(
        self,
        journal: Journal,
        backends: Callable[[BackendSpec], Backend],
        results: ResultStore,
        *,
        preparer: Preparer | None = None,
        events: EventSink = ignore,
        fault: FaultPoint = no_fault,
        deadline: float | None = None,
        refresh: bool = False,
        limit_pause: float = 2.0,
    ) -> None:
        self.journal = journal
        self.backends = backends
        self.results = results
        self.preparer = preparer or Preparer()
        self.events = events
        self.fault = fault
        self.deadline = deadline
        self.refresh = refresh
        # first wait (doubling) after the service refused a job for its pending-job limit
        self.limit_pause = limit_pause
        self.groups = Groups(journal, [], deadline, refresh)
        self._payloads: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def emit(
        self,
        job: JobSpec,
        kind: EventKind,
        job_id: str | None = None,
        status: str | None = None,
        detail: str = "",
    ) -> None:
        self.events(Event(job.label, job.workload.name, kind, job_id, status, detail))

    def remember(self, job_id: str, data: bytes) -> None:
        with self._lock:
            self._payloads[job_id] = data

    def payload(self, kind: str, job_id: str) -> bytes:
        """A collected job's result (RuntimeEncoder JSON)."""
        with self._lock:
            data = self._payloads.get(job_id)
        if data is None:
            data = self.results.get(kind, job_id)
        if data is None:
            raise LookupError(f"no stored result for job {job_id}")
        return data
