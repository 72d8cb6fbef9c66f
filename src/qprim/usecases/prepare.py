"""A workload made ready to submit, by every use case that submits or checks: loaded
(unless it is loaded), completed from its block, split into JobSpecs, and checked
against its backend before anything is submitted."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from qprim.errors import InputError
from qprim.workload import (
    CircuitFileFlags,
    WorkloadError,
    check_operations,
    check_width,
    load_workload,
    workload_digest,
)
from qprim.workload.backend import least_busy_from_block
from qprim.workload.types import Workload

if TYPE_CHECKING:
    from qprim.backends import Backend, Backends
    from qprim.backends.ibm import IBMAccount
    from qprim.plan.jobs import WorkloadPlan
    from qprim.state.journal import Journal
    from qprim.workload.types import BackendSpec


def plan_for(
    source: Path | Workload,
    accounts: dict[str | None, IBMAccount],
    flags: CircuitFileFlags | None = None,
) -> WorkloadPlan:
    """Load a workload (unless it is loaded), complete its backend from its block, split it
    into JobSpecs; an IBM block's account is kept in `accounts`."""
    from qprim.plan.jobs import plan_workload

    workload = source if isinstance(source, Workload) else load_workload(source, flags)
    if workload.backend.block is not None:
        backend = least_busy_from_block(from_block(workload.backend, accounts))
        workload = replace(workload, backend=backend)
        workload = replace(workload, digest=workload_digest(workload))
    return plan_workload(workload)


def from_block(spec: BackendSpec, accounts: dict[str | None, IBMAccount]) -> BackendSpec:
    """`spec` completed from its block; an IBM block's account is kept in `accounts`, and
    the settings the client reads only from the environment are set for this process."""
    use_prefect()
    from qprim.flows.blocks import resolve
    from qprim.flows.health import check_prefect_api

    check_prefect_api()

    try:
        filled, account = resolve(spec)
    except InputError as exc:  # the block's name is wrong: say where the workload wrote it
        if spec.where is None:
            raise
        raise WorkloadError(spec.where, str(exc)) from None
    if account is not None:
        accounts[spec.block] = account
        os.environ.update(account.client_environment())
    return filled


def use_prefect() -> None:
    """Settle this process's Prefect server (starting qprim's own if need be) only once
    one is needed: bad input never waits for a server, nor leaves one running."""
    from qprim.flows.env import use_prefect

    use_prefect()


def needs_submitting(plan: WorkloadPlan, journal: Journal, refresh: bool) -> bool:
    """Some job of the plan has no recorded job yet (or `--refresh` asks for new ones)."""
    if refresh:
        return True
    latest = [journal.latest(job.digest) for job in plan.jobs]
    return any(row is None or row.job_id is None for row in latest)


def check_against_backend(
    plan: WorkloadPlan, journal: Journal, backends: Backends, refresh: bool
) -> None:
    """A circuit wider than the backend is an input error, found before anything is
    submitted; a workload whose jobs all exist was checked when they were submitted."""
    if not needs_submitting(plan, journal, refresh):
        return
    check_fits(plan.workload, backends(plan.workload.backend))


def check_fits(w: Workload, backend: Backend) -> None:
    """The workload's circuits fit the backend: its width, the control flow it runs."""
    label = f"{backend.kind}:{backend.name}"
    check_width(w, backend.num_qubits, label)
    check_operations(w, backend.target.operation_names, label)
