"""The Prefect flows: `qprim-run` runs a command's workloads, `qprim-fetch` gets one job.

Thin on purpose: every decision is the engine's. Each JobSpec's submit and fetch are
task runs of their own, named after the workload and part, taking a small reference
(never circuits); what they work on (the plans, the engine) is the command's, reached
through a context variable set for the flow run. `submit` is never retried by Prefect
(the journal makes it idempotent); `fetch` retries transient failures with backoff.

The flow run ends in a state that tells the story in the UI: Completed; Failed with the
failed checks' details (the results are saved all the same); Failed "TimedOut" or
Cancelled (Ctrl-C) naming the jobs that keep running. The flow returns that state with
the command's results as its data, so the caller gets them whatever the state.

A deployment's `qprim-run` flow is another flow object of the same name, made here by
`deployment_flow` around a body the layer above gives (`qprim.deployment.run_flow`):
its parameters carry the workloads themselves, which it loads, plans and runs as a
command bound to its own flow run (`run_in_this_flow`). With a shared storage block,
the fetch task's own results are kept there too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import Cancelled, Completed, Failed, State
from prefect.tasks import exponential_backoff

from qprim.errors import (
    ExitCode,
    InputError,
    Interrupted,
    TransientBackendError,
    still_running,
    worst,
)
from qprim.flows.health import api_retries_of_this_command
from qprim.report.record import FlowRunRef

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import TaskRun

    from qprim.engine import Collected, Engine, Event, Outcome, Submitted
    from qprim.plan.jobs import JobSpec, WorkloadPlan

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
FETCH_RETRIES = 4
HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
# where Prefect keeps each fetch task run's own result in a shared storage block
PREFECT_RESULT_KEY = "prefect-results/fetch-{task_run.id}"


@dataclass(frozen=True)
class JobRef:
    """What the submit task run gets: which JobSpec of the command (no circuits)."""

    digest: str
    label: str


class Ended(Protocol):
    """How one workload of the command ended, as the flow run's final state reports it."""

    @property
    def exit_code(self) -> ExitCode: ...

    def summary(self) -> str: ...


@dataclass
class RunCommand:
    """What a `qprim-run` flow run works on that is no parameter: the plans and the engine
    running them, how each workload's run is finished (assembled, checked, saved), and
    what is kept of a workload when the command is interrupted."""

    plans: list[WorkloadPlan]
    engine: Engine
    finish: Callable[[WorkloadPlan, Outcome, FlowRunRef], Ended]
    interrupted: Callable[[WorkloadPlan, Interrupted], None]
    name: str
    tags: tuple[str, ...] = ()
    result_storage: str | None = None  # a storage block (TYPE/NAME) for Prefect's results


@dataclass
class FetchCommand:
    """What a `qprim-fetch` flow run works on: one known job, and how its run is saved."""

    submitted: Submitted
    engine: Engine
    finish: Callable[[Collected, FlowRunRef], Any]
    result_storage: str | None = None


_COMMAND: ContextVar[RunCommand | FetchCommand] = ContextVar("qprim_command")


def is_transient(task: Any, task_run: TaskRun, state: State) -> bool:
    """Retry only failures the backend says are passing; a failed job or bad input is final."""
    return isinstance(state.result(raise_on_failure=False), TransientBackendError)


@task(name="submit", retries=0, cache_policy=NO_CACHE)
def submit_task(job: JobRef) -> Submitted:
    engine = _COMMAND.get().engine
    return engine.submit(engine.job(job.digest))


# How every fetch task XX is retried.
FETCH_RETRY_OPTIONS: dict[str, Any] = {
    "retries": FETCH_RETRIES,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": is_transient,
}


@task(name="fetch", cache_policy=NO_CACHE, **FETCH_RETRY_OPTIONS)
def fetch_task(submitted: Submitted) -> Collected:
    return _COMMAND.get().engine.collect(submitted)


class TaskSteps:
    """The engine's steps as Prefect task runs."""

    def __init__(self, result_storage: str | None = None) -> None:
        self.result_storage = result_storage

    def submit(self, job: JobSpec) -> Submitted:
        named = submit_task.with_options(task_run_name=f"submit {job.label}")
        return named(JobRef(job.digest, job.label))

    def collect(self, submitted: Submitted) -> Collected:
        named = fetch_task.with_options(task_run_name=f"fetch {submitted.label}")
        if self.result_storage is not None:
            # a key of its own per task run (a shared key would be read back as a cache
            # hit); Prefect persists under a given key only without a cache policy
            named = named.with_options(
                result_storage=self.result_storage,
                result_storage_key=PREFECT_RESULT_KEY,
                persist_result=True,
                cache_policy=None,
            )
        return named(submitted)


# both `qprim-run` flows: the command line's and a deployment's
RUN_FLOW: dict[str, Any] = {"name": "qprim-run", "validate_parameters": False}


@flow(**RUN_FLOW)
def run_flow(workloads: list[dict[str, Any]], team: str | None = None) -> Any:
    """`workloads` is what a person reads in the UI; the work itself is the command's
    (`team` is a deployment's parameter: see `deployment_flow`)."""
    command = _COMMAND.get(None)
    if not isinstance(command, RunCommand):
        raise InputError(
            "this qprim-run flow run has no command: a deployment runs "
            "qprim.deployment.run_flow; run `qprim deploy` again to update a deployment "
            "made by an earlier qprim"
        )
    return _run_bound(command)


def deployment_flow(body: Callable[P, R]) -> Flow[P, R]:
    """The `qprim-run` flow a deployment runs, around `body` (which must be a module's
    attribute of its own name: that is the entrypoint a worker loads). The body binds its
    command to this flow run with `run_in_this_flow`."""
    return flow(**RUN_FLOW)(body)


def run_in_this_flow(command: RunCommand) -> list[Any]:
    """Run the command's workloads inside the flow run already running (a deployment's)."""
    with _bound(command), tags(*command.tags):
        return _results(_run_bound(command))


def _run_bound(command: RunCommand) -> State:
    try:
        outcome = command.engine.run(command.plans, TaskSteps(command.result_storage))
    except Interrupted as stopped:
        for plan in command.plans:
            command.interrupted(plan, stopped)
        message = f"interrupted (Ctrl-C): qprim stopped waiting; {still_running(stopped.job_ids)}"
        return Cancelled(message=message, data=stopped)
    flow_run = current_flow_run()
    return ending([command.finish(plan, outcome, flow_run) for plan in command.plans])


def ending(ended: list[Ended]) -> State:
    """The flow run's final state: its type from the worst exit code, its message how each
    workload ended (the failed checks' details, the jobs still running); `ended` its data."""
    code = worst([run.exit_code for run in ended])
    message = "; ".join(run.summary() for run in ended)
    if code == ExitCode.OK:
        return Completed(message=message, data=ended)
    if code == ExitCode.DEADLINE:
        # Prefect's own name for a run that ran out of time (a Failed state)
        return Failed(name="TimedOut", message=message, data=ended)
    return Failed(message=message, data=ended)


@flow(name="qprim-fetch", validate_parameters=False)
def fetch_flow(job_id: str, backend: str) -> Any:
    command = _COMMAND.get()
    assert isinstance(command, FetchCommand)
    collected = TaskSteps(command.result_storage).collect(command.submitted)
    return command.finish(collected, current_flow_run())


def run_command(command: RunCommand) -> list[Any]:
    """Run the command's workloads as one flow run: what `finish` returned for each, whatever
    the flow run's final state; an interruption is raised again once it is recorded."""
    with (
        _bound(command),
        tags(*command.tags),
        _heartbeats_as_configured(),
        api_retries_of_this_command(),
    ):
        named = run_flow.with_options(name=command.name, flow_run_name=_flow_run_name(command))
        state = named([describe(plan) for plan in command.plans], return_state=True)
    return _results(state)


def _results(state: State) -> list[Any]:
    """What `finish` returned for each workload, whatever the state's type; an
    interruption is raised again once the state has recorded it."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    return result


def fetch_command(command: FetchCommand) -> Any:
    job = command.submitted
    with _bound(command), _heartbeats_as_configured(), api_retries_of_this_command():
        named = fetch_flow.with_options(flow_run_name=f"fetch-{job.job_id}")
        return named(job.job_id, f"{job.backend.kind}:{job.backend.name}")


def describe(plan: WorkloadPlan) -> dict[str, Any]:
    """A workload as the flow run's parameters show it: no circuits, no secrets."""
    w = plan.workload
    return {
        "name": w.name,
        "source": str(w.source),
        "digest": w.digest,
        "backend": f"{w.backend.kind}:{w.backend.name}",
        "jobs": len(plan.jobs),
        "mode": plan.mode,
    }


def log_event(event: Event) -> None:
    """An engine event as a line in the flow run's logs (outside a run: nowhere)."""
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is not None:
        get_run_logger().info(event.line())


def current_flow_run() -> FlowRunRef:
    from prefect.runtime import flow_run

    return FlowRunRef(id=str(flow_run.id), name=str(flow_run.name))


@contextmanager
def _heartbeats_as_configured() -> Iterator[None]:
    """Prefect's flow-run heartbeat thread is joined at the end of every flow run, about a
    second of nothing; the heartbeats only matter to a zombie-flow automation a team sets
    up. So they are off unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY asks for them."""
    if HEARTBEAT_ENV in os.environ:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextmanager
def _bound(command: RunCommand | FetchCommand) -> Iterator[None]:
    token = _COMMAND.set(command)
    try:
        yield
    finally:
        _COMMAND.reset(token)


def _flow_run_name(command: RunCommand) -> str:
    digests = "".join(plan.workload.digest for plan in command.plans)
    if len(command.plans) == 1:
        return f"{command.name}-{digests.removeprefix('sha256:')[:8]}"
    return f"{command.name}-{hashlib.sha256(digests.encode()).hexdigest()[:8]}"
