"""The use cases behind `qprim run` and `qprim fetch`: load, check, prepare, flow, save.

The data path reads straight through: file -> workload -> ISA PUBs + digest -> flow
(submit -> fetch) -> saved run. The CLI calls these and renders what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qprim import report, results
from qprim.errors import InputError
from qprim.workload import CircuitFileFlags, check_width, load_workload
from qprim.workload.types import BackendSpec

if TYPE_CHECKING:
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


def load_checked(path: Path, flags: CircuitFileFlags | None) -> Workload:
    """Load a workload and check it against its backend: every input error before submitting."""
    from qprim.backends import open_backend

    workload = load_workload(path, flags)
    backend = open_backend(workload.backend)
    check_width(workload, backend.num_qubits, f"{backend.kind}:{backend.name}")
    return workload


def run(request: RunRequest) -> results.SavedRun:
    workload = load_checked(request.path, request.flags)
    from qprim.backends import open_backend
    from qprim.flow import RunPlan, run_workload
    from qprim.prepare import prepare_pubs

    prepared = prepare_pubs(workload, open_backend(workload.backend).target)
    outcome = run_workload(RunPlan(workload, prepared, request.refresh, request.timeout))
    manifest = results.manifest(
        workload={"name": workload.name, "digest": workload.digest, "source": str(request.path)},
        primitive=workload.primitive,
        backend=_backend_record(workload.backend),
        jobs=report.job_records(outcome.jobs),
        pubs=report.pub_infos(workload, prepared),
        flow_run=outcome.flow_run,
    )
    return _save(
        request.out or results.default_run_dir(workload.name, workload.digest),
        manifest,
        outcome,
        workload.files,
    )


def fetch(job_id: str, *, out: Path | None, timeout: float | None) -> results.SavedRun:
    """Fetch a job by id, in any process: the journal says where it ran."""
    from qprim.flow import fetch_flow
    from qprim.journal import Journal

    submission = Journal().by_job_id(job_id)
    spec = _backend_of(job_id, submission)
    outcome = fetch_flow(spec, job_id, timeout)
    name = submission.workload if submission else job_id
    digest = submission.digest if submission else None
    manifest = results.manifest(
        workload={"name": name, "digest": digest, "source": None},
        primitive=submission.primitive if submission else _primitive_of(outcome),
        backend=_backend_record(spec),
        jobs=report.job_records(outcome.jobs),
        pubs=report.pub_infos_from_result(outcome.jobs[0].fetched.result),
        flow_run=outcome.flow_run,
    )
    return _save(out or results.RUNS_DIR / f"fetch-{job_id}", manifest, outcome, ())


def _save(
    out: Path, manifest: dict, outcome: FlowOutcome, files: tuple[Path, ...]
) -> results.SavedRun:
    result = outcome.jobs[0].fetched.result
    results.save_run(out, manifest, result, files)
    return results.SavedRun(out, result, manifest)


def _backend_record(spec: BackendSpec) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "name": spec.name,
        "noise": spec.noise,
        "seed": spec.seed,
        "block": spec.block,
    }


def _backend_of(job_id: str, submission: Submission | None) -> BackendSpec:
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
        f"unknown job {job_id!r}: it is not in this machine's journal or Aer job store"
    )


def _primitive_of(outcome: FlowOutcome) -> str:
    pub_result = outcome.jobs[0].fetched.result[0]
    return "estimator" if hasattr(pub_result.data, "evs") else "sampler"
