"""The use cases behind `qprim run` and `qprim fetch` (and the Python API).

The data path reads straight through: files -> workloads (every input error of every
file found first) -> plans (JobSpecs) -> the engine, inside one Prefect flow run
(submit everything, then wait for everything) -> each workload assembled, checked and
saved as a run folder. One workload failing stops none of the others.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qprim.engine.events import EventSink, ignore
from qprim.errors import (
    EXIT_CODES,
    ExitCode,
    InputError,
    Interrupted,
    QprimError,
    ServiceUnavailable,
    StateError,
    WaitingError,
    describe_failure,
    still_running,
)
from qprim.files import qprim_home
from qprim.state import runs
from qprim.workload import (
    CircuitFileFlags,
    WorkloadError,
    check_operations,
    check_width,
    load_workload,
    workload_digest,
)
from qprim.workload.types import Workload

if TYPE_CHECKING:
    from collections.abc import Callable

    from qprim.backends import Backend, Backends
    from qprim.backends.aer.execute import AerRunner
    from qprim.backends.aer.store import AerJobStore
    from qprim.backends.ibm import IBMAccount
    from qprim.engine import Collected, Engine, FaultPoint, Outcome
    from qprim.flows.run import RunCommand
    from qprim.plan.jobs import WorkloadPlan
    from qprim.report.record import FlowRunRef
    from qprim.state.journal import Journal, Submission
    from qprim.stores import Stores
    from qprim.workload.types import BackendSpec, Workload

    # how a command's flow run is made: a new one (the CLI), or the one already running
    # (a deployment's)
    Execute = Callable[[RunCommand], list["WorkloadRun"]]

log = logging.getLogger("qprim")
WORKLOAD_SUFFIXES = (".yaml", ".yml")
INPUT_SUFFIXES = (*WORKLOAD_SUFFIXES, ".qpy", ".qasm")
AER_PROCESSES_ENV = "QPRIM_AER_PROCESSES"
IBM_CALL_TIMEOUT_ENV = "QPRIM_IBM_CALL_TIMEOUT"


@dataclass(frozen=True)
class RunRequest:
    """What to run: files, folders or globs (`qprim run`), or workloads already loaded
    (the Python API), each known by its `source`."""

    inputs: Sequence[Path | Workload]
    flags: CircuitFileFlags | None = None
    out: Path | None = None
    refresh: bool = False
    timeout: float | None = None
    events: EventSink = ignore
    # told of each workload refused before anything is submitted, at once: with an IBM
    # queue ahead, a typo must not wait hours for the other workloads to be shown
    refused: Callable[[WorkloadRun], None] = lambda ended: None


@dataclass(frozen=True)
class WorkloadRun:
    """How one workload of a command ended: its saved run, or the error that stopped it
    (`exception`, for callers that raise it again, e.g. the Python API)."""

    source: Path
    name: str
    exit_code: ExitCode
    seconds: float
    saved: runs.SavedRun | None = None
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The jobs of a workload that stopped waiting: they keep running at the backend."""
        return self.exception.job_ids if isinstance(self.exception, WaitingError) else ()

    def summary(self) -> str:
        """One line on how it ended (the flow run's state message): where it was saved and
        its checks, the failed checks' details, or the error and the jobs still running."""
        if self.saved is not None:
            record = self.saved.record
            failed = record.failed_checks
            if failed:
                details = "; ".join(f"pub {c.pub} {c.kind}: {c.detail}" for c in failed)
                checks = f"{len(failed)} of {len(record.expect)} checks failed: {details}"
            elif record.expect:
                checks = f"all {len(record.expect)} checks passed"
            else:
                return f"{self.name}: saved to {self.saved.path}"
            return f"{self.name}: {checks}; saved to {self.saved.path}"
        line = f"{self.name}: {self.reason()}"
        return f"{line}; {still_running(self.job_ids)}" if self.job_ids else line

    def reason(self) -> str:
        """Why a workload that did not finish stopped, in one line."""
        exc = self.exception
        why = str(exc) if isinstance(exc, QprimError) else f"{type(exc).__name__}: {exc}"
        return f"{EXIT_CODES[self.exit_code].status}: {' '.join(why.split())}"


def expand(inputs: Sequence[Path | Workload]) -> dict[Path, Path | Workload]:
    """Each input by its path: files as given; folders by their workload files (*.yaml,
    *.yml); globs expanded; a loaded workload by its source. Each path once, in order."""
    paths: list[Path | Workload] = []
    for item in inputs:
        if isinstance(item, Workload):
            paths.append(item)
        elif item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix in WORKLOAD_SUFFIXES)
            if not found:
                raise InputError(f"{item}: no workload files (*.yaml, *.yml) in this folder")
            paths.extend(found)
        elif not item.exists() and glob.has_magic(str(item)):
            matches = sorted(Path(m) for m in glob.glob(str(item)))
            if not matches:
                raise InputError(f"{item}: no file matches this pattern")
            paths.extend(m for m in matches if m.suffix in INPUT_SUFFIXES)
        else:
            paths.append(item)
    expanded: dict[Path, Path | Workload] = {}
    for item in paths:
        expanded.setdefault(item.source if isinstance(item, Workload) else item, item)
    return expanded


def deadline_after(timeout: float | None) -> float | None:
    return None if timeout is None else time.time() + timeout


def run(
    request: RunRequest,
    fault: FaultPoint | None = None,
    *,
    team: str | None = None,
    execute: Execute | None = None,
) -> list[WorkloadRun]:
    """Run every workload of `request`; one result per input, in input order. `team` names
    the team block that says where the state is (else this machine's settings)."""
    from qprim.stores import open_stores, settings

    started = time.monotonic()
    deadline = deadline_after(request.timeout)
    sources = expand(request.inputs)
    paths = list(sources)
    outs = _out_dirs(request.out, paths, several=len(paths) > 1)
    for folder in outs.values():
        runs.check_destination(folder)
    ended: dict[Path, WorkloadRun] = {}
    stores = open_stores(settings(team))
    journal = stores.journal
    accounts: dict[str | None, IBMAccount] = {}
    plans: dict[Path, WorkloadPlan] = {}
    for path, source in sources.items():
        try:
            plans[path] = plan_for(source, accounts, request.flags)
        except Exception as exc:
            name = source.name if isinstance(source, Workload) else None
            ended[path] = _failed(path, exc, started, name)
    backends = _backends(list(plans.values()), stores, accounts, deadline, request.refresh)
    try:
        for path, plan in list(plans.items()):
            try:
                check_against_backend(plan, journal, backends, request.refresh)
            except Exception as exc:
                ended[path] = _failed(path, exc, started, plan.workload.name)
                del plans[path]
        for refused in ended.values():
            request.refused(refused)
        if plans:
            starting = _start_prefect()  # meanwhile: Prefect imported, jobs transpiled
            engine = _engine(stores, backends, request, deadline, fault)
            _prepare_while(starting, list(plans.values()), engine, request.refresh)
            _use_prefect()
            done = _run_flow(
                list(plans.values()), engine, outs, started, paths, execute, stores.settings.results
            )
            for workload_run in done:
                ended[workload_run.source] = workload_run
    finally:
        backends.aer_runner.close()
    return [ended[path] for path in paths]


def _run_flow(
    plans: list[WorkloadPlan],
    engine: Engine,
    outs: dict[Path, Path | None],
    started: float,
    paths: list[Path],
    execute: Execute | None,
    result_storage: str | None,
) -> list[WorkloadRun]:
    """The engine, inside one Prefect flow run. If the Prefect server goes away, what was
    finished stays finished (its run folder is saved), and every other workload ends with
    what it had done (job ids, stored results)."""
    from qprim.flows.health import check_prefect_api, is_prefect_unreachable
    from qprim.flows.run import RunCommand, run_command

    finished: dict[Path, WorkloadRun] = {}

    def finish(plan: WorkloadPlan, outcome: Outcome, flow_run: FlowRunRef) -> WorkloadRun:
        done = _finish(plan, outcome, engine, flow_run, outs[plan.workload.source], started)
        finished[done.source] = done
        return done

    def interrupted(plan: WorkloadPlan, stopped: Interrupted) -> None:
        _publish_unfinished(plan, engine, "interrupted (Ctrl-C): qprim stopped waiting", True)

    command = RunCommand(
        plans=plans,
        engine=engine,
        finish=finish,
        interrupted=interrupted,
        name=_command_name(plans, paths),
        tags=tuple(dict.fromkeys(tag for plan in plans for tag in plan.workload.tags)),
        result_storage=result_storage,
    )
    try:
        check_prefect_api()
        return (execute or run_command)(command)
    except Exception as exc:
        if not is_prefect_unreachable(exc) and not isinstance(exc, ServiceUnavailable):
            raise
        log.warning(
            "the Prefect server stopped answering: the UI's record of this run is incomplete"
        )
        return [
            finished.get(plan.workload.source)
            or _failed(
                plan.workload.source, _survived(exc, plan, engine), started, plan.workload.name
            )
            for plan in plans
        ]


def _kept_jobs(plan: WorkloadPlan, journal: Journal) -> list[tuple[str, str | None, str]]:
    """Each job of the workload as the journal knows it: (label, job id, what is known)."""
    kept = []
    for job in plan.jobs:
        row = journal.latest(job.digest)
        if row is None or row.job_id is None:
            kept.append((job.label, None, "not submitted"))
        elif row.result_sha256:
            kept.append((job.label, row.job_id, "result stored"))
        else:
            kept.append((job.label, row.job_id, row.status or "submitted"))
    return kept


def _survived(failure: BaseException, plan: WorkloadPlan, engine: Engine) -> ServiceUnavailable:
    """The failure, and what of the workload's work is kept: so nobody submits it again."""
    kept = [
        f"{label}: job {job_id} ({known})"
        for label, job_id, known in _kept_jobs(plan, engine.journal)
        if job_id is not None
    ]
    note = "; ".join(kept) or "nothing was submitted"
    return ServiceUnavailable(
        f"{failure}. Kept: {note}. Run the same command again when it answers: nothing is "
        "submitted twice"
    )


def check(path: Path, flags: CircuitFileFlags | None = None) -> WorkloadPlan:
    """`qprim validate`: load, complete from the block, plan and check against the backend,
    submitting nothing."""
    from functools import partial

    from qprim.backends.aer.store import AerJobStore
    from qprim.state.locks import file_lock
    from qprim.state.storage import LocalStorage

    accounts: dict[str | None, IBMAccount] = {}
    plan = plan_for(path, accounts, flags)
    # the device's facts only: nothing is submitted, nothing written
    aer_store = AerJobStore(LocalStorage(qprim_home()), partial(file_lock, qprim_home() / "locks"))
    _check_fits(plan.workload, in_process_backends(aer_store, accounts)(plan.workload.backend))
    return plan


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
        workload = replace(workload, backend=from_block(workload.backend, accounts))
        workload = replace(workload, digest=workload_digest(workload))
    return plan_workload(workload)


def from_block(spec: BackendSpec, accounts: dict[str | None, IBMAccount]) -> BackendSpec:
    """`spec` completed from its block; an IBM block's account is kept in `accounts`, and
    the settings the client reads only from the environment are set for this process."""
    _use_prefect()
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


def _start_prefect() -> Callable[[], bool]:
    """Start the Prefect server in the background; whether it is still starting."""
    from qprim.flows.env import prefect_starting, start_prefect

    start_prefect()
    return prefect_starting


def _prepare_while(
    starting: Callable[[], bool], plans: list[WorkloadPlan], engine: Engine, refresh: bool
) -> None:
    """Transpile the jobs to submit, one by one, for as long as the Prefect server starts:
    their submit task finds them transpiled. A failure is left to that task to report."""
    for plan in plans:
        if not _needs_submitting(plan, engine.journal, refresh):
            continue
        for job in plan.jobs:
            if not starting():
                return
            with contextlib.suppress(Exception):
                engine.preparer.request(job, engine.backends(job.workload.backend))


def _use_prefect() -> None:
    """Settle this process's Prefect server (starting qprim's own if need be) only once
    one is needed: bad input never waits for a server, nor leaves one running."""
    from qprim.flows.env import use_prefect

    use_prefect()


def _needs_submitting(plan: WorkloadPlan, journal: Journal, refresh: bool) -> bool:
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
    if not _needs_submitting(plan, journal, refresh):
        return
    _check_fits(plan.workload, backends(plan.workload.backend))


def _check_fits(w: Workload, backend: Backend) -> None:
    """The workload's circuits fit the backend: its width, the control flow it runs."""
    label = f"{backend.kind}:{backend.name}"
    check_width(w, backend.num_qubits, label)
    check_operations(w, backend.target.operation_names, label)


def _backends(
    plans: list[WorkloadPlan],
    stores: Stores,
    accounts: dict[str | None, IBMAccount],
    deadline: float | None,
    refresh: bool,
) -> Backends:
    unfinished = [
        job
        for plan in plans
        if plan.workload.backend.kind == "aer"
        for job in plan.jobs
        if refresh or not _has_result(stores.journal.latest(job.digest))
    ]
    return _open_backends(stores.aer, _aer_runner(len(unfinished)), accounts, deadline)


def in_process_backends(
    aer_store: AerJobStore, accounts: dict[str | None, IBMAccount], deadline: float | None = None
) -> Backends:
    """Backends for work that runs at most one Aer simulation at a time, in this process."""
    from qprim.backends.aer.execute import InProcess

    return _open_backends(aer_store, InProcess(), accounts, deadline)


def _open_backends(
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


def _has_result(row: Submission | None) -> bool:
    return row is not None and row.result_sha256 is not None


def _aer_runner(jobs: int) -> AerRunner:
    """Several Aer jobs to run: a pool of worker processes, one per core (or
    `QPRIM_AER_PROCESSES`; 0 runs every simulation in this process)."""
    from qprim.backends.aer.execute import InProcess, WorkerPool

    wanted = os.environ.get(AER_PROCESSES_ENV)
    size = int(wanted) if wanted else (os.cpu_count() or 1)
    if jobs < 2 or size < 1:
        return InProcess()
    return WorkerPool(min(size, jobs))


def _engine(
    stores: Stores,
    backends: Backends,
    request: RunRequest,
    deadline: float | None,
    fault: FaultPoint | None,
) -> Engine:
    from qprim.engine import Engine
    from qprim.engine.core import pause_from_environment
    from qprim.flows.run import log_event

    def events(event: object) -> None:
        request.events(event)  # type: ignore[arg-type]
        log_event(event)  # type: ignore[arg-type]

    return Engine(
        stores.journal,
        backends,
        stores.results,
        events=events,
        fault=fault or pause_from_environment(),
        deadline=deadline,
        refresh=request.refresh,
    )


def _finish(
    plan: WorkloadPlan,
    outcome: Outcome,
    engine: Engine,
    flow_run: FlowRunRef,
    out: Path | None,
    started: float,
) -> WorkloadRun:
    """Assemble, check and save one workload's run, and show it in the Prefect UI."""
    from qprim.assemble import assemble
    from qprim.flows.artifacts import publish
    from qprim.flows.health import is_prefect_unreachable

    w = plan.workload
    try:
        done = assemble(plan, outcome, engine.payload, flow_run)
    except Exception as exc:
        if is_prefect_unreachable(exc):
            return _failed(w.source, _survived(exc, plan, engine), started, w.name)
        failed = _failed(w.source, exc, started, w.name)
        _publish_unfinished(plan, engine, failed.reason(), isinstance(exc, WaitingError))
        return failed
    folder = out or runs.default_run_dir(w.name, w.digest)
    try:
        runs.save_run(folder, done.record, done.result_json, w.files)
    except OSError as exc:
        return _failed(w.source, _not_saved(exc, folder, done.record.job_ids), started, w.name)
    saved = runs.SavedRun(folder, done.result, done.record)
    try:
        publish(saved)
    except Exception as exc:
        if not is_prefect_unreachable(exc):
            raise
        log.warning("the run's Prefect artifacts were not created: the server stopped answering")
    code = ExitCode.CHECKS_FAILED if done.record.failed_checks else ExitCode.OK
    return WorkloadRun(w.source, w.name, code, time.monotonic() - started, saved)


def _publish_unfinished(plan: WorkloadPlan, engine: Engine, why: str, running: bool) -> None:
    """The workload's `run-summary` artifact when it did not finish: why, and its jobs (the
    ones still `running` at the backend can be collected later)."""
    from qprim.flows.artifacts import publish_unfinished
    from qprim.flows.health import is_prefect_unreachable

    jobs = _kept_jobs(plan, engine.journal)
    submitted = any(job_id is not None for _, job_id, _ in jobs)
    hint = (
        "The jobs keep running at the backend. Run the same command again to collect them "
        "(nothing is submitted twice), or `qprim fetch JOB_ID` for one of them."
        if running and submitted
        else ""
    )
    try:
        publish_unfinished(plan.workload.name, why, jobs, hint)
    except Exception as exc:
        if not is_prefect_unreachable(exc):
            raise
        log.warning("the run's Prefect artifacts were not created: the server stopped answering")


def _not_saved(exc: OSError, folder: Path, job_ids: list[str]) -> StateError:
    """The run finished but its folder could not be written: say where the result is."""
    _, why = describe_failure(exc)
    fetch = " ".join(f"`qprim fetch {job_id} --out DIR`" for job_id in job_ids)
    return StateError(
        f"the run folder {folder} was not saved ({why.removeprefix('error: ')}). The jobs "
        f"finished and their results are kept (result store, and at the backend): {fetch} "
        "writes them out again once there is room"
    )


def _failed(path: Path, exc: BaseException, started: float, name: str | None = None) -> WorkloadRun:
    code, message = describe_failure(exc)
    seconds = time.monotonic() - started
    return WorkloadRun(path, name or path.stem, code, seconds, error=message, exception=exc)


def _out_dirs(out: Path | None, paths: list[Path], several: bool) -> dict[Path, Path | None]:
    """`--out DIR`: the run folder itself, or (several workloads) DIR/<workload stem>."""
    if out is None:
        return dict.fromkeys(paths)
    return {path: out / path.stem if several else out for path in paths}


def _command_name(plans: list[WorkloadPlan], paths: list[Path]) -> str:
    """The flow's name: the workload's, or for several the folder they came from."""
    if len(paths) == 1:
        return plans[0].workload.name
    parents = {path.parent.name for path in paths}
    return parents.pop() if len(parents) == 1 and "" not in parents else "qprim-run"


# ----- qprim fetch JOB_ID -----------------------------------------------------------------
def fetch(
    job_id: str,
    *,
    out: Path | None,
    timeout: float | None,
    block: str | None = None,
    events: EventSink = ignore,
) -> runs.SavedRun:
    """Fetch a job by id, in any process: the journal says where it ran (or `block` does)."""
    from qprim.engine import Engine, Submitted
    from qprim.stores import open_stores

    folder = out or runs.RUNS_DIR / f"fetch-{job_id}"
    runs.check_destination(folder)
    stores = open_stores()
    row = stores.journal.by_job_id(job_id)
    accounts: dict[str | None, IBMAccount] = {}
    spec = backend_of(job_id, row, block, stores.aer, accounts)
    _use_prefect()
    from qprim.flows.run import FetchCommand, fetch_command, log_event

    deadline = deadline_after(timeout)
    backends = in_process_backends(stores.aer, accounts, deadline)

    def both(event: object) -> None:
        events(event)  # type: ignore[arg-type]
        log_event(event)  # type: ignore[arg-type]

    engine = Engine(stores.journal, backends, stores.results, events=both, deadline=deadline)
    submitted = Submitted(
        digest=row.digest if row else "",
        label=job_id,
        workload=row.workload if row else job_id,
        backend=spec,
        job_id=job_id,
        submit="reused",
        tag=row.tag if row else "",
        session_id=row.session_id if row else None,
        mode=row.mode if row else "job",
        facts=tuple(row.pubs or ()) if row else (),
    )

    def finish(collected: Collected, flow_run: FlowRunRef) -> runs.SavedRun:
        from qprim.assemble import fetched_record
        from qprim.flows.artifacts import publish

        data = engine.payload(spec.kind, job_id)
        record, result = fetched_record(collected, row, data, flow_run)
        runs.save_run(folder, record, data)
        saved = runs.SavedRun(folder, result, record)
        publish(saved)
        return saved

    return fetch_command(FetchCommand(submitted, engine, finish, stores.settings.results))


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
        if row.backend_kind == "ibm":
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
