"""`qprim run` (and the Python API's `qprim.run`): many workloads, one flow run.

The data path reads straight through: files -> workloads (every input error of every
file found first) -> plans (JobSpecs) -> the engine, inside one Prefect flow run
(submit everything, then wait for everything) -> each workload assembled, checked and
saved as a run folder. One workload failing stops none of the others.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qprim.backends.kinds import backend_kind
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
from qprim.plan.prepare import Preparer
from qprim.report import runs
from qprim.usecases.backends import aer_runner, deadline_after, open_backends
from qprim.usecases.choose_device import choose_device
from qprim.usecases.cost import check_cost
from qprim.usecases.prepare import check_against_backend, needs_submitting, plan_for, use_prefect
from qprim.workload import CircuitFileFlags
from qprim.workload.types import Workload

if TYPE_CHECKING:
    from collections.abc import Callable

    from qprim.backends import Backends
    from qprim.backends.ibm import IBMAccount
    from qprim.engine import Engine, FaultPoint, Outcome
    from qprim.flows.run import RunCommand
    from qprim.plan.jobs import WorkloadPlan
    from qprim.report.record import FlowRunRef
    from qprim.state.journal import Journal, Submission
    from qprim.usecases.stores import Stores

    # how a command's flow run is made: a new one (the CLI), or the one already running
    # (a deployment's)
    Execute = Callable[[RunCommand], list["WorkloadRun"]]

log = logging.getLogger("qprim")
WORKLOAD_SUFFIXES = (".yaml", ".yml")
INPUT_SUFFIXES = (*WORKLOAD_SUFFIXES, ".qpy", ".qasm")


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
    # ask IBM for the estimate of the jobs to submit, against the quota and max_usage_seconds
    check_usage: bool = True


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


def run(
    request: RunRequest,
    fault: FaultPoint | None = None,
    *,
    team: str | None = None,
    execute: Execute | None = None,
) -> list[WorkloadRun]:
    """Run every workload of `request`; one result per input, in input order. `team` names
    the team block that says where the state is (else this machine's settings)."""
    from qprim.usecases.stores import open_stores, settings

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
    preparer = Preparer()  # what the cost check transpiles, the engine submits
    try:
        for path, plan in list(plans.items()):
            try:
                plan = choose_device(plan, journal, backends, request.refresh, request.events)
                plans[path] = plan
                check_against_backend(plan, journal, backends, request.refresh)
                if request.check_usage:
                    check_cost(plan, journal, backends, preparer, request.refresh)
            except Exception as exc:
                ended[path] = _failed(path, exc, started, plan.workload.name)
                del plans[path]
        for refused in ended.values():
            request.refused(refused)
        if plans:
            starting = _start_prefect()  # meanwhile: Prefect imported, jobs transpiled
            engine = _engine(stores, backends, request, deadline, fault, preparer)
            _prepare_while(starting, list(plans.values()), engine, request.refresh)
            use_prefect()
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
        if not needs_submitting(plan, engine.journal, refresh):
            continue
        for job in plan.jobs:
            if not starting():
                return
            with contextlib.suppress(Exception):
                engine.preparer.request(job, engine.backends(job.workload.backend))


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
        if backend_kind(plan.workload.backend.kind).local
        for job in plan.jobs
        if refresh or not _has_result(stores.journal.latest(job.digest))
    ]
    return open_backends(stores.aer, aer_runner(len(unfinished)), accounts, deadline)


def _has_result(row: Submission | None) -> bool:
    return row is not None and row.result_sha256 is not None


def _engine(
    stores: Stores,
    backends: Backends,
    request: RunRequest,
    deadline: float | None,
    fault: FaultPoint | None,
    preparer: Preparer,
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
        preparer=preparer,
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
    from qprim.flows.artifacts import publish
    from qprim.flows.health import is_prefect_unreachable
    from qprim.usecases.assemble import assemble

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
    publish(saved)
    code = ExitCode.CHECKS_FAILED if done.record.failed_checks else ExitCode.OK
    return WorkloadRun(w.source, w.name, code, time.monotonic() - started, saved)


def _publish_unfinished(plan: WorkloadPlan, engine: Engine, why: str, running: bool) -> None:
    """The workload's `run-summary` artifact when it did not finish: why, and its jobs (the
    ones still `running` at the backend can be collected later)."""
    from qprim.flows.artifacts import publish_unfinished

    jobs = _kept_jobs(plan, engine.journal)
    submitted = any(job_id is not None for _, job_id, _ in jobs)
    hint = (
        "The jobs keep running at the backend. Run the same command again to collect them "
        "(nothing is submitted twice), or `qprim fetch JOB_ID` for one of them."
        if running and submitted
        else ""
    )
    publish_unfinished(plan.workload.name, why, jobs, hint)


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
