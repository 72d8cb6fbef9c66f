"""The device a `least_busy` workload runs on: chosen once, then the one its jobs record.

The digest covers the request (`least_busy` and its filters), never the device, so a
rerun finds its jobs in the journal without asking IBM anything; the device they were
submitted to is read back from their journal rows (the run records it, and a job not
yet submitted goes where its siblings went: one workload, one device, one batch).
Only when no job of the workload was ever claimed, or `--refresh` asks for new work,
does qprim ask which device is least busy now.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from qprim.engine.events import Event, EventSink, ignore

if TYPE_CHECKING:
    from qprim.backends import Backends
    from qprim.plan.jobs import WorkloadPlan
    from qprim.state.journal import Journal


def choose_device(
    plan: WorkloadPlan,
    journal: Journal | None,
    backends: Backends,
    refresh: bool,
    events: EventSink = ignore,
) -> WorkloadPlan:
    """`plan` with its device named: as recorded, or (none yet) the least busy now.
    `journal` None: nothing recorded counts (`qprim validate` shows today's choice)."""
    spec = plan.workload.backend
    if spec.least_busy is None or spec.name is not None:
        return plan
    recorded = None if refresh or journal is None else recorded_device(plan, journal)
    if recorded is not None:
        name, detail = recorded, f"least_busy: {recorded}, as its jobs recorded"
    else:
        request = spec.least_busy
        chosen = backends(spec).least_busy(  # type: ignore[attr-defined]
            request.min_qubits, request.dynamic_circuits
        )
        name = chosen.name
        detail = f"least_busy chose {name} ({chosen.pending_jobs} pending jobs)"
    workload = replace(plan.workload, backend=replace(spec, name=name))
    for job in plan.jobs:
        events(Event(job.label, workload.name, "chosen", detail=detail))
    jobs = tuple(replace(job, workload=workload) for job in plan.jobs)
    return replace(plan, workload=workload, jobs=jobs)


def recorded_device(plan: WorkloadPlan, journal: Journal) -> str | None:
    """The device the workload's jobs were claimed for, if any was."""
    for job in plan.jobs:
        row = journal.latest(job.digest)
        if row is not None and row.backend_name:
            return row.backend_name
    return None
