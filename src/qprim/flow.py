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
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from qprim import checks, report, results
from qprim.backends import JobMetrics, JobRequest, JobStatus, open_backend
from qprim.errors import JobFailedError, TransientBackendError
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
    deadline: float | None = None  # epoch seconds (--timeout from the start of the run)


@dataclass(frozen=True)
class FetchedJob:
    """What fetch returns and Prefect caches by job id."""

    result: PrimitiveResult
    status: JobStatus
    metrics: JobMetrics


@dataclass(frozen=True)
class FlowOutcome:
    """What a flow hands back to be saved: the run.json manifest and the result."""

    manifest: dict[str, Any]
    result: PrimitiveResult


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
    """Job ids are unique per backend kind, so a result is found whoever asks for it."""
    spec: BackendSpec = parameters["backend"]
    return f"qprim-fetch-{spec.kind}-{parameters['job_id']}"


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
        open_backend(workload.backend, plan.deadline),
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
def fetch(backend: BackendSpec, job_id: str, deadline: float | None = None) -> FetchedJob:
    vendor = open_backend(backend, deadline)
    try:
        result = vendor.result(job_id, deadline)
    except JobFailedError:
        Journal().record_status(job_id, JobStatus.ERROR.value)
        raise
    return FetchedJob(result, JobStatus.DONE, vendor.metrics(job_id))


def fetch_job(backend: BackendSpec, job_id: str, deadline: float | None) -> tuple[FetchedJob, str]:
    """Run the fetch task; say whether its result came from the cache."""
    state = fetch(backend, job_id, deadline, return_state=True)
    fetched: FetchedJob = state.result()
    Journal().record_status(job_id, fetched.status.value)
    return fetched, "cached" if state.name == "Cached" else "fetched"


def current_flow_run() -> dict[str, str]:
    from prefect.runtime import flow_run

    return {"id": str(flow_run.id), "name": str(flow_run.name)}


@dataclass(frozen=True)
class FetchRequest:
    """`qprim fetch`: a job id, where it ran, and what the journal knows of its workload."""

    backend: BackendSpec
    job_id: str
    workload: dict[str, Any]  # {name, digest, source} for run.json
    primitive: str | None = None
    deadline: float | None = None


@flow(name="qprim-run", validate_parameters=False)
def run_flow(plan: RunPlan) -> FlowOutcome:
    submitted = submit(plan)
    fetched, source = fetch_job(plan.workload.backend, submitted.job_id, plan.deadline)
    job = JobOutcome(
        job_id=submitted.job_id,
        pubs=[prepared.index for prepared in plan.pubs],
        submit=submitted.submit,
        result_source=source,  # type: ignore[arg-type]
        fetched=fetched,
    )
    workload = plan.workload
    manifest = results.manifest(
        workload={"name": workload.name, "digest": workload.digest, "source": str(workload.source)},
        primitive=workload.primitive,
        backend=backend_record(workload.backend),
        jobs=report.job_records([job]),
        pubs=report.pub_infos(workload, plan.pubs),
        expect=checks.evaluate(workload.expect, fetched.result),
        flow_run=current_flow_run(),
    )
    publish(manifest, fetched.result)
    return FlowOutcome(manifest, fetched.result)


@flow(name="qprim-fetch", validate_parameters=False)
def fetch_flow(request: FetchRequest) -> FlowOutcome:
    fetched, source = fetch_job(request.backend, request.job_id, request.deadline)
    pubs = list(range(len(fetched.result)))
    job = JobOutcome(request.job_id, pubs, "reused", source, fetched)  # type: ignore[arg-type]
    manifest = results.manifest(
        workload=request.workload,
        primitive=request.primitive or primitive_of(fetched.result),
        backend=backend_record(request.backend),
        jobs=report.job_records([job]),
        pubs=report.pub_infos_from_result(fetched.result),
        flow_run=current_flow_run(),
    )
    publish(manifest, fetched.result)
    return FlowOutcome(manifest, fetched.result)


def primitive_of(result: PrimitiveResult) -> str:
    return "estimator" if hasattr(result[0].data, "evs") else "sampler"


def backend_record(spec: BackendSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "name": spec.name,
        "noise": spec.noise,
        "seed": spec.seed,
        "block": spec.block,
    }


def publish(manifest: dict[str, Any], result: PrimitiveResult) -> None:
    """Artifacts, so the Prefect UI shows what the terminal shows: the `job-metrics` table
    and a markdown summary (counts or expectation values, checks)."""
    from qprim.summary_md import markdown_summary

    workload = manifest["workload"]
    create_table_artifact(
        key="job-metrics",
        table=report.metrics_rows(
            manifest["backend"]["name"] or "", manifest["pubs"], manifest["jobs"]
        ),
        description=f"Jobs of workload {workload['name']} ({workload['digest']})",
    )
    create_markdown_artifact(
        key="run-summary",
        markdown=markdown_summary(manifest, result),
        description=f"Results of workload {workload['name']}",
    )


def run_workload(plan: RunPlan) -> FlowOutcome:
    """Run the flow under the workload's name."""
    name = plan.workload.name
    flow_run_name = f"{name}-{plan.workload.digest.removeprefix('sha256:')[:8]}"
    return run_flow.with_options(name=name, flow_run_name=flow_run_name)(plan)
