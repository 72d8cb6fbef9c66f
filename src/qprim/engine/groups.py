"""IBM batches and sessions: one per workload whose jobs run in that mode, recorded in the
journal, so a rerun after a crash submits its missing jobs into the batch it had opened.

The group is opened when the first job that needs it is submitted, and closed (no more
jobs; the ones inside run to the end) once every job of the workload exists.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from qprim.backends.base import SessionRef

if TYPE_CHECKING:
    from qprim.backends.base import Backend
    from qprim.plan.jobs import JobSpec, WorkloadPlan
    from qprim.state.journal import Journal


class Groups:
    def __init__(
        self, journal: Journal, plans: list[WorkloadPlan], deadline: float | None, refresh: bool
    ) -> None:
        self.journal = journal
        self.deadline = deadline
        self.refresh = refresh
        self.plan_of = {job.digest: plan for plan in plans for job in plan.jobs}
        self._lock = threading.Lock()

    def session_for(self, job: JobSpec, backend: Backend) -> SessionRef:
        """The open batch/session for `job`'s workload, opening it if needed."""
        plan = self.plan_of[job.digest]
        journal = self.journal
        with self._lock, journal.hold(plan.group_key, self.deadline):
            group = journal.claim_group(
                plan.group_key, plan.mode, (backend.kind, backend.name), refresh=self.refresh
            )
            if group.session_id is None:
                opened = backend.open_group(plan.mode, plan.workload.execution.max_time)
                group = journal.set_group_session(group, opened.id)
            assert group.session_id is not None
            return SessionRef(plan.mode, group.session_id)

    def close(self, plan: WorkloadPlan, backend: Backend) -> None:
        """Every job of `plan` exists: its open group (if this command used one) takes no more."""
        journal = self.journal
        with self._lock, journal.hold(plan.group_key, self.deadline):
            group = journal.group(plan.group_key)
            if group is None or group.closed or group.session_id is None:
                return
            backend.close_group(SessionRef(plan.mode, group.session_id))
            journal.close_group(group)
