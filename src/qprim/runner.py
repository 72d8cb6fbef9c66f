"""The use cases behind `qprim run` and `qprim fetch`: load, check, prepare, flow, save.

The data path reads straight through: file -> workload -> ISA PUBs + digest -> flow
(submit -> fetch) -> saved run. The CLI calls these and renders what they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qprim import results
from qprim.errors import InputError, Interrupted
from qprim.workload import CircuitFileFlags, check_width, load_workload, workload_digest
from qprim.workload.types import BackendSpec

if TYPE_CHECKING:
    from qprim.backends import Backend
    from qprim.flow import FlowOutcome
    from qprim.journal import Submission
    from qprim.workload.types import Workload


@dataclass(frozen=True)
class RunRequest:
    path: Path
    flags: CircuitFileFlags | None = None
    out: Path | None = None
    refresh: bool = False
    timeout: float | None = None


def load_checked(
    path: Path, flags: CircuitFileFlags | None, deadline: float | None = None
) -> tuple[Workload, Backend]:
    """Load a workload and check it against its backend: every input error before submitting.

    What the workload leaves to a saved block becomes part of it (and of its digest).
    """
    from qprim.backends import open_backend, resolve_spec

    workload = load_workload(path, flags)
    spec = resolve_spec(workload.backend)
    if spec != workload.backend:
        workload = replace(workload, backend=spec)
        workload = replace(workload, digest=workload_digest(workload))
    backend = open_backend(spec, deadline)
    check_width(workload, backend.num_qubits, f"{backend.kind}:{backend.name}")
    return workload, backend


def deadline_after(timeout: float | None) -> float | None:
    return None if timeout is None else time.time() + timeout


def run(request: RunRequest) -> results.SavedRun:
    deadline = deadline_after(request.timeout)
    workload, backend = load_checked(request.path, request.flags, deadline)
    from qprim.flow import RunPlan, run_workload
    from qprim.prepare import prepare_pubs

    prepared = prepare_pubs(workload, backend.target)
    try:
        outcome = run_workload(RunPlan(workload, prepared, request.refresh, deadline))
    except KeyboardInterrupt:
        from qprim.journal import Journal

        latest = Journal().latest(workload.digest)
        raise Interrupted(latest.job_id if latest else None) from None
    out = request.out or results.default_run_dir(workload.name, workload.digest)
    return _save(out, outcome, workload.files)


def fetch(
    job_id: str, *, out: Path | None, timeout: float | None, block: str | None = None
) -> results.SavedRun:
    """Fetch a job by id, in any process: the journal says where it ran (or `block` does)."""
    from qprim.flow import FetchRequest, fetch_flow
    from qprim.journal import Journal

    submission = Journal().by_job_id(job_id)
    request = FetchRequest(
        backend=_backend_of(job_id, submission, block),
        job_id=job_id,
        workload={
            "name": submission.workload if submission else job_id,
            "digest": submission.digest if submission else None,
            "source": None,
        },
        primitive=submission.primitive if submission else None,
        deadline=deadline_after(timeout),
    )
    try:
        outcome = fetch_flow(request)
    except KeyboardInterrupt:
        raise Interrupted(job_id) from None
    return _save(out or results.RUNS_DIR / f"fetch-{job_id}", outcome, ())


def _save(out: Path, outcome: FlowOutcome, files: tuple[Path, ...]) -> results.SavedRun:
    results.save_run(out, outcome.manifest, outcome.result, files)
    return results.SavedRun(out, outcome.result, outcome.manifest)


def _backend_of(job_id: str, submission: Submission | None, block: str | None) -> BackendSpec:
    if block is not None:
        return BackendSpec(kind="ibm", name=None, block=block)
    if submission is not None:
        return BackendSpec(
            kind=submission.backend_kind,
            name=submission.backend_name,  # type: ignore[arg-type]
            block=submission.block,
        )
    if job_id.startswith("aer-"):
        from qprim.backends.aer import AerBackend

        store = AerBackend().store
        job = store.get(job_id)
        if job is not None:
            return BackendSpec(kind="aer", name=job.header["backend"], noise=job.header["noise"])
    raise InputError(
        f"unknown job {job_id!r}: it is not in this machine's journal or Aer job store; "
        "for an IBM job submitted elsewhere, name the credentials with --block NAME"
    )
