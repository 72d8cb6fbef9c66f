"""Facts about a run, shared by `run.json`, the terminal, Prefect artifacts and exports.

Everything here works from a run record and a `PrimitiveResult`, so a saved run can be
shown again exactly as it was shown the first time. Rows name their sweep point by its
parameter values and their observable by its label (`qprim.report.layout`); a table that
leaves points out says how many (`omitted_notice`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from qprim.report.counts import counts
from qprim.report.layout import PubLayout, bit_arrays, layouts, short_label
from qprim.report.record import JobRecord, ParametersRecord, PubRecord, RunRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

MAX_POINTS = 16  # sweep points of a PUB shown in tables (all of them with --all)
TOP_OUTCOMES = 4

RowT = TypeVar("RowT")


def pub_records_from_result(
    result: PrimitiveResult, facts: Sequence[dict[str, Any]] = ()
) -> list[PubRecord]:
    """What can be said of PUBs known only from their result (`qprim fetch`), plus what
    was recorded of each when the job was submitted, if any: depth, size and parameter
    values. `facts` are in the job's order, one per PUB of its result."""
    records = []
    for index, pub_result in enumerate(result):
        registers = bit_arrays(pub_result)
        fact = facts[index] if index < len(facts) else {}
        parameters = fact.get("parameters")
        records.append(
            PubRecord(
                index=index,
                circuit=None,
                shape=list(pub_result.data.shape),
                depth=fact.get("depth"),
                size=fact.get("size"),
                shots=next(iter(registers.values())).num_shots if registers else None,
                precision=pub_result.metadata.get("target_precision"),
                parameters=ParametersRecord(**parameters) if parameters else None,
            )
        )
    return records


def metrics_rows(record: RunRecord) -> list[dict[str, Any]]:
    """One row per job with its part, PUBs, mode and timing: the `job-metrics` table."""
    rows = []
    for job in record.jobs:
        metrics = job.metrics
        rows.append(
            {
                "job_id": job.job_id,
                "backend": record.backend.label,
                "part": f"{job.part}/{job.parts}",
                "pubs": pubs_label(job),
                "status": job.status,
                "submit": job.submit,
                "result": job.result,
                "mode": job.mode,
                "session_id": job.session_id or "",
                "created": metrics.created,
                "started": metrics.started,
                "finished": metrics.finished,
                "queue_s": metrics.queue_s,
                "run_s": metrics.run_s,
                "quantum_s": metrics.quantum_s,
            }
        )
    return rows


def pubs_label(job: JobRecord) -> str:
    """`0, 1` or, for a split PUB, `0[400:800]`: which PUBs (and points) a job carried."""
    ranges = {point.pub: f"[{point.start}:{point.stop}]" for point in job.points}
    return ", ".join(f"{pub}{ranges.get(pub, '')}" for pub in job.pubs)


@dataclass(frozen=True)
class CountsRow:
    """The top outcomes of one PUB's register at one sweep point."""

    pub: int
    register: str
    point: str  # parameter values (`theta=0.7854`), an index, or `` for a single point
    shots: int
    top: list[tuple[str, int, float]]  # (outcome, count, share of shots)
    distinct: int


@dataclass(frozen=True)
class EvRow:
    """One expectation value: a PUB's observable at a sweep point."""

    pub: int
    point: str
    observable: str  # shortened to fit a column; the export has the full text
    ev: float
    std: float


@dataclass(frozen=True)
class Omitted:
    """A PUB whose points were not all shown."""

    pub: int
    shown: int
    total: int


@dataclass(frozen=True)
class Rows(Generic[RowT]):
    rows: list[RowT]
    omitted: list[Omitted]
    swept: bool  # some PUB has labelled points: show a point column


@dataclass(frozen=True)
class Extremum:
    """Where an observable of a swept PUB is lowest and highest."""

    pub: int
    observable: str
    low: float
    low_std: float
    low_at: str
    high: float
    high_std: float
    high_at: str


def top_counts(
    record: RunRecord, result: PrimitiveResult, limit: int | None = MAX_POINTS
) -> Rows[CountsRow]:
    """Sampler: the most frequent outcomes per PUB, sweep point and classical register,
    for the first `limit` points of each PUB (None: all)."""
    rows, omitted = [], []
    pubs = layouts(record, result)
    for pub, pub_result in zip(pubs, result, strict=True):
        shown = _shown(pub, limit, omitted)
        for point in range(shown):
            index = pub.point_index(point)
            for register, bits in bit_arrays(pub_result).items():
                counted = counts(bits, index)
                shots = sum(counted.values())
                top = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
                rows.append(
                    CountsRow(
                        pub=pub.index,
                        register=register,
                        point=pub.label(point),
                        shots=shots,
                        top=[(key, value, value / shots) for key, value in top[:TOP_OUTCOMES]],
                        distinct=len(counted),
                    )
                )
    return Rows(rows, omitted, any(pub.swept for pub in pubs))


def expectation_values(
    record: RunRecord, result: PrimitiveResult, limit: int | None = MAX_POINTS
) -> Rows[EvRow]:
    """Estimator: each expectation value with its standard deviation, point by point,
    every observable of the first `limit` points of each PUB (None: all)."""
    rows, omitted = [], []
    pubs = layouts(record, result)
    for pub, pub_result in zip(pubs, result, strict=True):
        shown = _shown(pub, limit, omitted)
        evs, stds = _evs(pub_result)
        rows += [
            EvRow(
                pub=pub.index,
                point=pub.label(point),
                observable=short_label(pub.observable(observable) or "-"),
                ev=float(evs[index]),
                std=float(stds[index]),
            )
            for index, point, observable in pub.elements()
            if point < shown
        ]
    return Rows(rows, omitted, any(pub.swept for pub in pubs))


def extrema(record: RunRecord, result: PrimitiveResult) -> list[Extremum]:
    """Estimator sweeps: each observable's lowest and highest value, and where."""
    found = []
    for pub, pub_result in zip(layouts(record, result), result, strict=True):
        if pub.points < 2:
            continue
        evs, stds = _evs(pub_result)
        grid = pub.by_observable(evs).reshape(pub.observable_count, -1)
        errors = pub.by_observable(stds).reshape(pub.observable_count, -1)
        for number, (values, spread) in enumerate(zip(grid, errors, strict=True)):
            if np.isnan(values).all():
                continue
            low, high = first_extreme(values, np.min), first_extreme(values, np.max)
            found.append(
                Extremum(
                    pub=pub.index,
                    observable=short_label(pub.observable(number) or "-"),
                    low=float(values[low]),
                    low_std=float(spread[low]),
                    low_at=pub.label(low),
                    high=float(values[high]),
                    high_std=float(spread[high]),
                    high_at=pub.label(high),
                )
            )
    return found


def plus_minus(value: float, std: float) -> str:
    """`-1.845551 ± 0.000000`: an expectation value and its standard deviation."""
    return f"{value:+.6f} ± {std:.6f}"


def omitted_notice(omitted: list[Omitted], run_dir: str | None = None) -> str | None:
    """`65 more points not shown (pub 0: 16 of 81) ...`: said whenever rows were left out."""
    if not omitted:
        return None
    more = sum(item.total - item.shown for item in omitted)
    where = "; ".join(f"pub {item.pub}: {item.shown} of {item.total}" for item in omitted)
    folder = run_dir or "RUN_DIR"
    return (
        f"{more} more point{'s' if more != 1 else ''} not shown ({where} shown): "
        f"see `qprim show {folder} --all` or `qprim export {folder}`"
    )


def first_extreme(values: np.ndarray, which: Callable[[np.ndarray], Any]) -> int:
    """The first point (C order) at the lowest (`min`) or highest (`max`) value: ties
    within rounding go to the first, so the answer does not hang on 1e-16 noise."""
    finite = values[~np.isnan(values)]
    extreme = float(which(finite))
    tolerance = 1e-9 * max(1.0, float(np.abs(finite).max()))
    return int(np.flatnonzero(np.abs(values - extreme) <= tolerance)[0])


def _shown(pub: PubLayout, limit: int | None, omitted: list[Omitted]) -> int:
    """How many points of `pub` to show; notes the PUB in `omitted` when that cuts it."""
    if limit is None or pub.points <= limit:
        return pub.points
    omitted.append(Omitted(pub.index, limit, pub.points))
    return limit


def _evs(pub_result: Any) -> tuple[np.ndarray, np.ndarray]:
    evs = np.asarray(pub_result.data.evs, dtype=float)
    return evs, np.broadcast_to(np.asarray(pub_result.data.stds, dtype=float), evs.shape)
