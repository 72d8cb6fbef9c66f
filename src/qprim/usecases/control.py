"""Jobs outside a run: `qprim cancel JOB_ID` and `qprim jobs --refresh`.

Both ask the backend the journal names for the job (an IBM job through the block it was
submitted with) and record what it says, so the journal, `qprim jobs` and the next run
agree with the backend. Nothing here submits anything.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qprim.backends.kinds import backend_kind
from qprim.errors import InputError, JobFailedError, QprimError
from qprim.usecases.backends import backend_of, in_process_backends

if TYPE_CHECKING:
    from qprim.backends.base import QueueInfo
    from qprim.backends.ibm import IBMAccount
    from qprim.workload.types import BackendSpec

log = logging.getLogger("qprim")


@dataclass(frozen=True)
class Cancellation:
    """What `cancel` found and did: the job's status before and after, and whether the
    backend was asked to cancel it (False: it had ended already)."""

    job_id: str
    backend: str
    before: str
    after: str
    requested: bool


@dataclass(frozen=True)
class Refreshed:
    """A job whose recorded status the backend changed, or that waits in a queue (`queue`:
    its place and the device's pending jobs, where the backend says)."""

    job_id: str
    workload: str
    before: str | None
    after: str
    backend: str = ""
    queue: QueueInfo | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def cancel(job_id: str, *, block: str | None = None) -> Cancellation:
    """Cancel a job that has not ended, through its backend, and record its new status.

    A job that already ended is left as it is (and its status recorded). Aer cancels only
    jobs no worker has started: a running Aer job is refused, as InputError."""
    from qprim.backends.base import JobStatus
    from qprim.usecases.stores import open_stores

    stores = open_stores()
    journal = stores.journal
    row = journal.by_job_id(job_id)
    accounts: dict[str | None, IBMAccount] = {}
    backends = in_process_backends(stores.aer, accounts)
    spec = backend_of(job_id, row, block, stores.aer, accounts)
    backend = backends(spec)
    label = f"{spec.kind}:{spec.name}"
    before = backend.status(job_id)
    if before.final:
        journal.record_status(job_id, before.value)
        return Cancellation(job_id, label, before.value, before.value, requested=False)
    with contextlib.suppress(JobFailedError):  # it ended meanwhile: the status below says how
        backend.cancel(job_id)
    after = backend.status(job_id)
    journal.record_status(job_id, after.value)
    if after == JobStatus.RUNNING and not backend_kind(spec.kind).cancels_running:
        raise InputError(
            f"Aer job {job_id} is already running and cannot be cancelled (Aer cancels only "
            "queued jobs); it finishes on its own"
        )
    return Cancellation(job_id, label, before.value, after.value, requested=True)


def refresh(limit: int) -> list[Refreshed]:
    """Ask each job's backend for the status of every job of the newest `limit` not known
    to have ended, and record it; for a queued job, where it stands (if the backend says).
    A backend that cannot answer is reported and skipped, never fatal."""
    from qprim.backends.base import JobStatus
    from qprim.usecases.stores import open_stores

    stores = open_stores()
    journal = stores.journal
    accounts: dict[str | None, IBMAccount] = {}
    backends = in_process_backends(stores.aer, accounts)
    specs: dict[tuple[str, str, str | None], BackendSpec] = {}
    changed = []
    for row in journal.recent(limit):
        if row.job_id is None or (row.status and JobStatus(row.status).final):
            continue
        try:
            key = (row.backend_kind, row.backend_name, row.block)
            if key not in specs:
                specs[key] = backend_of(row.job_id, row, None, stores.aer, accounts)
            backend = backends(specs[key])
            status = backend.status(row.job_id).value
            queue = _queue(backend, row.job_id) if status == JobStatus.QUEUED.value else None
        except QprimError as exc:
            log.warning("could not refresh job %s: %s", row.job_id, exc)
            continue
        if status != row.status:
            journal.record_status(row.job_id, status)
        if status != row.status or queue is not None:
            label = f"{row.backend_kind}:{row.backend_name}"
            changed.append(Refreshed(row.job_id, row.workload, row.status, status, label, queue))
    return changed


def _queue(backend: object, job_id: str) -> QueueInfo | None:
    """Where a queued job stands, from a backend that knows (IBM; Aer runs at once)."""
    ask = getattr(backend, "queue", None)
    return ask(job_id) if ask is not None else None
