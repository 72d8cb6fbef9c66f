"""One workload's run, put together from its jobs: the merged `PrimitiveResult` (every
PUB in workload order, a split PUB back in its original shape), its checks, its record.

Prefect-free and engine-free: it reads the engine's outcome and the stored results. A
workload whose every job is one unsplit job keeps that job's result bytes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qprim.errors import WaitingError, exit_code_of, worst
from qprim.report.checks import evaluate
from qprim.report.describe import observables_record, parameters_record
from qprim.report.record import (
    BackendRecord,
    ExecutionRecord,
    FlowRunRef,
    JobRecord,
    Metrics,
    PointRange,
    PubRecord,
    RunRecord,
    WorkloadRef,
    package_versions,
)
from qprim.state import codec
from qprim.workload.pubs import pub_shape

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.engine import Collected, Outcome
    from qprim.plan.jobs import JobSpec, WorkloadPlan
    from qprim.state.journal import Submission
    from qprim.workload.types import BackendSpec, Workload

# The stored result of a job: (backend kind, job id) -> RuntimeEncoder JSON.
Payloads = Callable[[str, str], bytes]


@dataclass(frozen=True)
class Assembled:
    record: RunRecord
    result: PrimitiveResult
    result_json: bytes


def assemble(
    plan: WorkloadPlan, outcome: Outcome, payloads: Payloads, flow_run: FlowRunRef | None
) -> Assembled:
    """The workload's run; raises the worst error of its jobs if any job did not finish."""
    raise_worst(plan, outcome)
    collected = [outcome.collected[job.digest] for job in plan.jobs]
    kind = plan.workload.backend.kind
    datas = [payloads(kind, done.submitted.job_id) for done in collected]
    result, result_json = combine(datas, Layout.of(plan))
    w = plan.workload
    record = RunRecord(
        workload=WorkloadRef(name=w.name, digest=w.digest, source=str(w.source)),
        primitive=w.primitive,
        backend=backend_record(w.backend, w.execution.primitives),
        execution=ExecutionRecord(mode=plan.mode, session_id=_session(collected, plan.mode)),
        jobs=[_job(job, done) for job, done in zip(plan.jobs, collected, strict=True)],
        pubs=_pubs(w, collected),
        expect=evaluate(w.expect, result),
        flow_run=flow_run,
        saved=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=package_versions(),
    )
    return Assembled(record, result, result_json)


def fetched_record(
    collected: Collected, row: Submission | None, data: bytes, flow_run: FlowRunRef
) -> tuple[RunRecord, PrimitiveResult]:
    """`qprim fetch JOB_ID`: the run of one job, known by its journal row if any."""
    from qprim.report.facts import pub_records_from_result

    result = codec.decode_result(data)
    submitted = collected.submitted
    primitive = (
        row.primitive if row else ("estimator" if hasattr(result[0].data, "evs") else "sampler")
    )
    job = JobRecord(
        job_id=submitted.job_id,
        pubs=list(range(len(result))),
        status=collected.status,
        submit="reused",
        result=collected.result,
        part=row.part if row else 1,
        parts=row.parts if row else 1,
        mode=submitted.mode,
        session_id=submitted.session_id,
        digest=row.digest if row else None,
        tag=row.tag if row else None,
        metrics=Metrics.model_validate(collected.metrics),
    )
    record = RunRecord(
        workload=WorkloadRef(name=submitted.workload, digest=row.digest if row else None),
        primitive=primitive,
        backend=backend_record(submitted.backend),
        execution=ExecutionRecord(mode=job.mode, session_id=submitted.session_id),
        jobs=[job],
        pubs=pub_records_from_result(result, submitted.facts),
        flow_run=flow_run,
        saved=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=package_versions(),
    )
    return record, result


def backend_record(spec: BackendSpec, primitives: str | None = None) -> BackendRecord:
    """The backend as run.json names it; IBM's settings only where they apply, so an Aer
    run's record is what it always was."""
    extra: dict[str, Any] = {}
    if primitives is not None:
        extra["primitives"] = primitives
    if spec.fractional_gates:
        extra["fractional_gates"] = True
    if spec.least_busy is not None:
        extra["least_busy"] = spec.least_busy.as_dict()
    return BackendRecord(
        kind=spec.kind, name=spec.name, noise=spec.noise, seed=spec.seed, block=spec.block, **extra
    )


def raise_worst(plan: WorkloadPlan, outcome: Outcome) -> None:
    """The worst error of the workload's jobs, if any (its job ids: all of the workload's)."""
    errors = [outcome.errors[job.digest] for job in plan.jobs if job.digest in outcome.errors]
    if not errors:
        return
    code = worst([exit_code_of(error) for error in errors])
    error = next(error for error in errors if exit_code_of(error) == code)
    if isinstance(error, WaitingError):
        # every job of the workload that exists keeps running: say all of them
        error.job_ids = outcome.job_ids([job.digest for job in plan.jobs])
    raise error


@dataclass(frozen=True)
class Layout:
    """Which PUBs, or points of a split PUB, each job of a workload carries: how the jobs'
    results combine into the workload's. Small, so a job handle can carry it."""

    carried: tuple[tuple[tuple[int, int], ...], ...]  # per job: (PUB, its first point) per part
    shapes: tuple[tuple[int, ...], ...]  # per PUB of the workload, in order
    whole: bool  # one job with every PUB whole: its result is the workload's, byte for byte

    @classmethod
    def of(cls, plan: WorkloadPlan) -> Layout:
        pubs = plan.workload.pubs
        return cls(
            carried=tuple(
                tuple((part.pub, part.points[0] if part.points else 0) for part in job.parts)
                for job in plan.jobs
            ),
            shapes=tuple(pub_shape(pub) for pub in pubs),
            whole=len(plan.jobs) == 1 and plan.jobs[0].pubs == [pub.index for pub in pubs],
        )


def combine(datas: list[bytes], layout: Layout) -> tuple[PrimitiveResult, bytes]:
    """The workload's `PrimitiveResult` (and its RuntimeEncoder JSON) from its jobs' results,
    in job order: every PUB in workload order, a split PUB back in its original shape."""
    if layout.whole:
        return codec.decode_result(datas[0]), datas[0]
    from qiskit.primitives import PrimitiveResult

    from qprim.plan.split import merge_pub_results

    pieces: dict[int, list[tuple[int, Any]]] = {}
    for carried, data in zip(layout.carried, datas, strict=True):
        for (pub, start), pub_result in zip(carried, codec.decode_result(data), strict=True):
            pieces.setdefault(pub, []).append((start, pub_result))
    merged = [
        merge_pub_results([found for _, found in sorted(pieces[pub], key=lambda p: p[0])], shape)
        for pub, shape in enumerate(layout.shapes)
    ]
    result = PrimitiveResult(merged, metadata={"version": 2})
    return result, codec.encode(result)


def _job(job: JobSpec, done: Collected) -> JobRecord:
    submitted = done.submitted
    replaced = {"replaces": submitted.replaces} if submitted.replaces else {}
    return JobRecord(
        job_id=submitted.job_id,
        pubs=job.pubs,
        points=[
            PointRange(pub=part.pub, start=part.points[0], stop=part.points[1])
            for part in job.parts
            if part.points
        ],
        status=done.status,
        submit=submitted.submit,
        result=done.result,
        part=job.number,
        parts=job.count,
        mode=submitted.mode,
        session_id=submitted.session_id,
        digest=job.digest,
        tag=submitted.tag,
        metrics=Metrics.model_validate(done.metrics),
        **replaced,
    )


def _pubs(w: Workload, collected: list[Collected]) -> list[PubRecord]:
    """Each PUB as submitted: its depth and size come from what its job recorded; its
    parameter values and observable labels from the workload, so the run folder can
    label its results without the workload."""
    facts: dict[int, dict[str, Any]] = {}
    for done in collected:
        for fact in done.submitted.facts:
            facts.setdefault(int(fact["pub"]), fact)  # type: ignore[call-overload]
    return [
        PubRecord(
            index=pub.index,
            circuit=pub.circuit_name,
            shape=list(pub_shape(pub)),
            depth=facts.get(pub.index, {}).get("depth"),
            size=facts.get(pub.index, {}).get("size"),
            shots=pub.shots,
            precision=pub.precision,
            parameters=parameters_record(pub),
            observables=observables_record(pub),
        )
        for pub in w.pubs
    ]


def _session(collected: list[Collected], mode: str) -> str | None:
    """The batch or session of the workload's own mode its jobs ran in; jobs reused from a
    run of another mode name theirs in their own records."""
    return next(
        (
            done.submitted.session_id
            for done in collected
            if done.submitted.session_id and done.submitted.mode == mode
        ),
        None,
    )
