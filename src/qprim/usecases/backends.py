"""The backends a command opens, and its deadline: how many Aer worker processes, how
long an IBM client call may take, and which backend a job id belongs to."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from qprim.backends.kinds import backend_kind
from qprim.errors import InputError
from qprim.usecases.prepare import from_block

if TYPE_CHECKING:
    from qprim.backends import Backends
    from qprim.backends.aer.execute import AerRunner
    from qprim.backends.aer.store import AerJobStore
    from qprim.backends.ibm import IBMAccount
    from qprim.state.journal import Submission
    from qprim.workload.types import BackendSpec

AER_PROCESSES_ENV = "QPRIM_AER_PROCESSES"
IBM_CALL_TIMEOUT_ENV = "QPRIM_IBM_CALL_TIMEOUT"


def deadline_after(timeout: float | None) -> float | None:
    return None if timeout is None else time.time() + timeout


def in_process_backends(
    aer_store: AerJobStore, accounts: dict[str | None, IBMAccount], deadline: float | None = None
) -> Backends:
    """Backends for work that runs at most one Aer simulation at a time, in this process."""
    from qprim.backends.aer.execute import InProcess

    return open_backends(aer_store, InProcess(), accounts, deadline)


def open_backends(
    aer_store: AerJobStore,
    aer_runner: AerRunner,
    accounts: dict[str | None, IBMAccount],
    deadline: float | None,
) -> Backends:
    from qprim.backends import Backends

    return Backends(
        aer_store=aer_store,
        aer_runner=aer_runner,
        accounts=accounts,
        deadline=deadline,
        ibm_call_timeout=ibm_call_timeout(),
    )


def ibm_call_timeout() -> float | None:
    """`QPRIM_IBM_CALL_TIMEOUT`: seconds any one IBM client call may take (default 300)."""
    value = os.environ.get(IBM_CALL_TIMEOUT_ENV)
    return float(value) if value else None


def aer_runner(jobs: int) -> AerRunner:
    """Several Aer jobs to run: a pool of up to one worker process per core (or
    `QPRIM_AER_PROCESSES`; 0 runs every simulation in this process), which starts a
    worker only for a job that simulates long enough to be worth one."""
    from qprim.backends.aer.execute import InProcess, WorkerPool

    wanted = os.environ.get(AER_PROCESSES_ENV)
    size = int(wanted) if wanted else (os.cpu_count() or 1)
    if jobs < 2 or size < 1:
        return InProcess()
    return WorkerPool(min(size, jobs))


def backend_of(
    job_id: str,
    row: Submission | None,
    block: str | None,
    aer_store: AerJobStore,
    accounts: dict[str | None, IBMAccount],
) -> BackendSpec:
    """Where a job ran: the `--block` given, its journal row, or the Aer job store."""
    from qprim.workload.types import BackendSpec

    if block is not None:
        return from_block(BackendSpec(kind="ibm", name=None, block=block), accounts)
    if row is not None:
        spec = BackendSpec(
            kind=row.backend_kind,  # type: ignore[arg-type]
            name=row.backend_name,
            block=row.block,
        )
        if not backend_kind(row.backend_kind).local:
            return from_block(spec, accounts) if spec.block else spec
        job = aer_store.get(job_id)
        return replace(spec, noise=job.header["noise"]) if job is not None else spec
    job = aer_store.get(job_id) if job_id.startswith("aer-") else None
    if job is not None:
        return BackendSpec(kind="aer", name=job.header["backend"], noise=job.header["noise"])
    raise InputError(
        f"unknown job {job_id!r}: it is not in the journal or the Aer job store; "
        "for an IBM job submitted elsewhere, name the credentials with --block NAME"
    )
