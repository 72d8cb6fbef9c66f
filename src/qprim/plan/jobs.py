"""A workload becomes JobSpecs: which PUBs, or which points of one PUB's sweep, each job
carries, with a digest of its own.

A job's digest covers exactly what it runs (the workload's settings and its PUBs or
slices), so an unsplit workload's one job has the workload's digest, and a part that
did not change keeps its digest (and its job) when another part does. Limits come from
`execution:`, else from the backend kind (`qprim.backends.kinds`): none on Aer, IBM's 10
million executions per Sampler job (IBM splits Estimator jobs itself).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise

from qprim.backends.kinds import backend_kind
from qprim.plan.split import slice_pub
from qprim.workload.digest import pubs_digest
from qprim.workload.pubs import executions, num_points
from qprim.workload.types import PubSpec, Workload, WorkloadError


@dataclass(frozen=True)
class Part:
    """One PUB of a job: a whole workload PUB, or the points [start, stop) of its sweep."""

    pub: int  # the PUB's index in the workload
    spec: PubSpec  # what the job runs: the PUB, or a 1-D slice of it
    points: tuple[int, int] | None = None


@dataclass(frozen=True)
class JobSpec:
    workload: Workload
    number: int  # 1-based
    count: int
    parts: tuple[Part, ...]
    digest: str
    mode: str  # job | batch | session

    @property
    def label(self) -> str:
        name = self.workload.name
        return name if self.count == 1 else f"{name} part {self.number}/{self.count}"

    @property
    def pubs(self) -> list[int]:
        return list(dict.fromkeys(part.pub for part in self.parts))


@dataclass(frozen=True)
class WorkloadPlan:
    workload: Workload
    jobs: tuple[JobSpec, ...]
    mode: str

    @property
    def group_key(self) -> str:
        """Identifies the batch/session these jobs share (the same jobs: the same group)."""
        text = "|".join([self.mode, *(job.digest for job in self.jobs)])
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def plan_workload(w: Workload) -> WorkloadPlan:
    max_pubs, max_executions = limits(w)
    batches = _pack(_items(w, max_executions), max_pubs, max_executions)
    mode = _mode(w, len(batches))
    jobs = tuple(
        JobSpec(
            workload=w,
            number=number,
            count=len(batches),
            parts=tuple(parts),
            digest=w.digest if len(batches) == 1 else pubs_digest(w, [p.spec for p in parts]),
            mode=mode,
        )
        for number, parts in enumerate(batches, start=1)
    )
    return WorkloadPlan(w, jobs, mode)


def limits(w: Workload) -> tuple[int | None, int | None]:
    """(max PUBs, max executions) per job: the workload's, else the backend's."""
    backend_max = backend_kind(w.backend.kind).max_executions.get(w.primitive)
    ours = w.execution.max_executions_per_job
    return w.execution.max_pubs_per_job, ours if ours is not None else backend_max


def _items(w: Workload, max_executions: int | None) -> list[tuple[Part, int]]:
    """Every PUB, or the even slices of one too large for a job, with its executions."""
    items: list[tuple[Part, int]] = []
    for pub in w.pubs:
        cost = executions(pub)
        if max_executions is None or cost <= max_executions:
            items.append((Part(pub.index, pub), cost))
            continue
        per_point = cost // num_points(pub)
        if per_point > max_executions:
            raise WorkloadError(
                w.execution.where or pub.where,
                f"PUB {pub.index} needs {per_point} executions per point ({pub.shots} shots), "
                f"more than max_executions_per_job {max_executions}; raise the limit or "
                "lower the shots",
            )
        total = num_points(pub)
        chunks = -(-total // (max_executions // per_point))
        bounds = [total * k // chunks for k in range(chunks + 1)]
        for start, stop in pairwise(bounds):
            sliced = slice_pub(pub, start, stop)
            items.append((Part(pub.index, sliced, (start, stop)), per_point * (stop - start)))
    return items


def _pack(
    items: list[tuple[Part, int]], max_pubs: int | None, max_executions: int | None
) -> list[list[Part]]:
    """Consecutive items into jobs, a new job whenever the next item would break a limit."""
    batches: list[list[Part]] = []
    load = 0
    for part, cost in items:
        full = batches and (
            (max_pubs is not None and len(batches[-1]) >= max_pubs)
            or (max_executions is not None and load + cost > max_executions)
        )
        if not batches or full:
            batches.append([])
            load = 0
        batches[-1].append(part)
        load += cost
    return batches


def _mode(w: Workload, jobs: int) -> str:
    """auto: a batch when the workload makes several jobs on a backend that groups jobs
    (IBM), else plain jobs."""
    mode = w.execution.mode
    if mode == "auto":
        return "batch" if "batch" in backend_kind(w.backend.kind).modes and jobs > 1 else "job"
    return mode
