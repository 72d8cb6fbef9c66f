"""The Prefect flow: a `submit` task and a `fetch` task.

submit is never retried by Prefect and has no Prefect cache: the journal makes it
idempotent (see `qprim.submission`). fetch retries transient errors only, with
backoff, and its result is cached by job id, so a rerun restores it without calling
the backend. The flow knows nothing of files: it gets ready PUBs and returns results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from qprim.backends import JobMetrics, JobRequest, JobStatus, open_backend
from qprim.errors import TransientBackendError
from qprim.journal import Journal
from qprim.submission import SubmitOutcome, ensure_submitted

if TYPE_CHECKING:
    from prefect.client.schemas.objects import TaskRun
    from prefect.states import State
    from qiskit.primitives import PrimitiveResult

    from qprim.prepare import PreparedPub
    from qprim.workload.types import BackendSpec, Workload

FETCH_RETRIES = 4


@dataclass(frozen=True)
class RunPlan:
    """What the flow runs. Passed whole: Prefect records it only as a placeholder."""

    workload: Workload
    pubs: list[PreparedPub]
    refresh: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class FetchedJob:
    """What fetch returns and Prefect caches by job id."""

    result: PrimitiveResult
    status: JobStatus
    metrics: JobMetrics


@dataclass(frozen=True)
class FlowOutcome:
    jobs: list[JobOutcome]
    flow_run: dict[str, str]


@dataclass(frozen=True)
class JobOutcome:
    job_id: str
    pubs: list[int]
    submit: Literal["new", "reused"]
    result_source: Literal["fetched", "cached"]
    fetched: FetchedJob


def is_transient(task: Any, task_run: TaskRun, state: State) -> bool:
    """Retry only failures the backend says are passing; a failed job or bad input is final."""
    return isinstance(state.result(raise_on_failure=False), TransientBackendError)


def fetch_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    spec: BackendSpec = parameters["backend"]
    return f"qprim-fetch-{spec.kind}-{spec.name}-{parameters['job_id']}"


@task(name="submit", retries=0, cache_policy=NO_CACHE)
def submit(plan: RunPlan) -> SubmitOutcome:
    workload = plan.workload
    request = JobRequest(
        primitive=workload.primitive,
        pubs=[prepared.pub for prepared in plan.pubs],
        options=workload.options,
        tags=workload.tags,
    )
    return ensure_submitted(
        Journal(),
        open_backend(workload.backend),
        request,
        digest=workload.digest,
        workload_name=workload.name,
        block=workload.backend.block,
        refresh=plan.refresh,
    )


@task(
    name="fetch",
    cache_key_fn=fetch_cache_key,
    persist_result=True,
    retries=FETCH_RETRIES,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    retry_condition_fn=is_transient,
)
def fetch(backend: BackendSpec, job_id: str, timeout: float | None = None) -> FetchedJob:
    vendor = open_backend(backend)
    result = vendor.result(job_id, timeout=timeout)
    return FetchedJob(result, JobStatus.DONE, vendor.metrics(job_id))


def fetch_job(backend: BackendSpec, job_id: str, timeout: float | None) -> tuple[FetchedJob, str]:
    """Run the fetch task; say whether its result came from the cache."""
    state = fetch(backend, job_id, timeout, return_state=True)
    fetched: FetchedJob = state.result()
    Journal().record_status(job_id, fetched.status.value)
    return fetched, "cached" if state.name == "Cached" else "fetched"


def current_flow_run() -> dict[str, str]:
    from prefect.runtime import flow_run

    return {"id": str(flow_run.id), "name": str(flow_run.name)}


@flow(name="qprim-run", validate_parameters=False)
def run_flow(plan: RunPlan) -> FlowOutcome:
    submitted = submit(plan)
    fetched, source = fetch_job(plan.workload.backend, submitted.job_id, plan.timeout)
    outcome = JobOutcome(
        job_id=submitted.job_id,
        pubs=[prepared.index for prepared in plan.pubs],
        submit=submitted.submit,
        result_source=source,  # type: ignore[arg-type]
        fetched=fetched,
    )
    publish_metrics(plan, [outcome])
    return FlowOutcome([outcome], current_flow_run())


@flow(name="qprim-fetch", validate_parameters=False)
def fetch_flow(backend: BackendSpec, job_id: str, timeout: float | None = None) -> FlowOutcome:
    fetched, source = fetch_job(backend, job_id, timeout)
    pubs = list(range(len(fetched.result)))
    job = JobOutcome(job_id, pubs, "reused", source, fetched)  # type: ignore[arg-type]
    return FlowOutcome([job], current_flow_run())


def publish_metrics(plan: RunPlan, outcomes: list[JobOutcome]) -> None:
    """The `job-metrics` table artifact: the same rows the terminal shows."""
    from qprim import report

    rows = report.metrics_rows(
        plan.workload.backend.name or "",
        report.pub_infos(plan.workload, plan.pubs),
        report.job_records(outcomes),
    )
    create_table_artifact(
        key="job-metrics",
        table=rows,
        description=f"Jobs of workload {plan.workload.name} ({plan.workload.digest})",
    )


def run_workload(plan: RunPlan) -> FlowOutcome:
    """Run the flow under the workload's name."""
    name = plan.workload.name
    flow_run_name = f"{name}-{plan.workload.digest.removeprefix('sha256:')[:8]}"
    return run_flow.with_options(name=name, flow_run_name=flow_run_name)(plan)
