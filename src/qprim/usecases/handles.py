"""Submit now, collect later: the use cases behind the public Prefect tasks
(`qprim.tasks.submit_pubs` and `fetch_result`), for people who wire qprim's
guarantees into flows of their own.

`submit` makes (or finds) each job of a workload exactly as `qprim run` does (the
journal's claim, the digest lock, tags, batches) and returns a `JobHandle`: a small,
picklable reference with no circuits. `collect` waits for those jobs and restores their
results from the result store when they are there, like qprim's own fetch; a split
workload's results are merged back into one `PrimitiveResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qprim.backends.kinds import backend_kind
from qprim.usecases.assemble import Layout, combine, raise_worst
from qprim.usecases.backends import deadline_after, in_process_backends
from qprim.usecases.prepare import check_against_backend, plan_for

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.backends import Backends
    from qprim.backends.ibm import IBMAccount
    from qprim.engine import Collected, Engine, Submitted
    from qprim.plan.jobs import JobSpec
    from qprim.usecases.stores import Stores
    from qprim.workload.types import BackendSpec, Workload


@dataclass(frozen=True)
class JobHandle:
    """The jobs of one submitted workload: pass it to `fetch_result` (in this flow run, a
    later one, or another process). No circuits and no secrets: an IBM backend is named by
    its block."""

    workload: str
    digest: str
    backend: BackendSpec
    jobs: tuple[Submitted, ...]
    layout: Layout

    @property
    def job_ids(self) -> tuple[str, ...]:
        return tuple(job.job_id for job in self.jobs)

    @property
    def reused(self) -> bool:
        """Every job existed already: nothing was submitted this time."""
        return all(job.submit == "reused" for job in self.jobs)


def submit(workload: Workload, *, refresh: bool = False, timeout: float | None = None) -> JobHandle:
    """Make (or find, if this work ran before) every job of `workload`; wait for none."""
    from qprim.usecases.stores import open_stores

    accounts: dict[str | None, IBMAccount] = {}
    plan = plan_for(workload, accounts)
    stores = open_stores()
    deadline = deadline_after(timeout)
    backends = in_process_backends(stores.aer, accounts, deadline)
    engine = _engine(stores, backends, deadline, refresh)
    check_against_backend(plan, stores.journal, backends, refresh)
    outcome = engine.run([plan], _SubmitOnly(engine))
    raise_worst(plan, outcome)
    return JobHandle(
        workload=plan.workload.name,
        digest=plan.workload.digest,
        backend=plan.workload.backend,
        jobs=tuple(outcome.submitted[job.digest] for job in plan.jobs),
        layout=Layout.of(plan),
    )


def collect(handle: JobHandle, *, timeout: float | None = None) -> PrimitiveResult:
    """Wait for the handle's jobs and return the workload's `PrimitiveResult`, each job's
    result from the result store when it is there (no backend call), else fetched and
    stored the moment it arrives."""
    accounts: dict[str | None, IBMAccount] = {}
    if handle.backend.block is not None and backend_kind(handle.backend.kind).accounts:
        from qprim.usecases.prepare import from_block

        from_block(handle.backend, accounts)
    from qprim.usecases.stores import open_stores

    stores = open_stores()
    deadline = deadline_after(timeout)
    engine = _engine(stores, in_process_backends(stores.aer, accounts, deadline), deadline, False)
    for job in handle.jobs:
        engine.collect(job)
    datas = [engine.payload(handle.backend.kind, job.job_id) for job in handle.jobs]
    result, _ = combine(datas, handle.layout)
    return result


class _SubmitOnly:
    """The engine's steps with nothing collected: the handle's holder collects later."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def submit(self, job: JobSpec) -> Submitted:
        return self.engine.submit(job)

    def collect(self, submitted: Submitted) -> Collected:
        return None  # type: ignore[return-value]


def _engine(stores: Stores, backends: Backends, deadline: float | None, refresh: bool) -> Engine:
    from qprim.engine import Engine
    from qprim.flows.run import log_event

    return Engine(
        stores.journal,
        backends,
        stores.results,
        events=log_event,
        deadline=deadline,
        refresh=refresh,
    )
