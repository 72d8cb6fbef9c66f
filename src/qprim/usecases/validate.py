"""`qprim validate` (and `qprim deploy`'s check): a workload loaded, completed from its
block, planned and checked against its backend, with nothing submitted or written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qprim.files import qprim_home
from qprim.usecases.backends import in_process_backends
from qprim.usecases.choose_device import choose_device
from qprim.usecases.prepare import check_fits, plan_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from qprim.backends import Backends
    from qprim.backends.ibm import IBMAccount
    from qprim.plan.jobs import WorkloadPlan
    from qprim.workload import CircuitFileFlags


def check(
    path: Path,
    flags: CircuitFileFlags | None = None,
    then: Callable[[WorkloadPlan, Backends], None] | None = None,
) -> WorkloadPlan:
    """`qprim validate`: load, complete from the block, plan and check against the backend,
    submitting nothing; `then` sees the checked plan and its backends (`--estimate`). A
    `least_busy` device is the one least busy now (nothing recorded is consulted)."""
    from functools import partial

    from qprim.backends.aer.store import AerJobStore
    from qprim.state.locks import file_lock
    from qprim.state.storage import LocalStorage

    accounts: dict[str | None, IBMAccount] = {}
    plan = plan_for(path, accounts, flags)
    # the device's facts only: nothing is submitted, nothing written
    aer_store = AerJobStore(LocalStorage(qprim_home()), partial(file_lock, qprim_home() / "locks"))
    backends = in_process_backends(aer_store, accounts)
    plan = choose_device(plan, None, backends, refresh=True)
    check_fits(plan.workload, backends(plan.workload.backend))
    if then is not None:
        then(plan, backends)
    return plan
