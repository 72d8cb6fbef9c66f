"""Plain, JSON-able facts about a run, shared by `run.json`, the terminal and Prefect artifacts.

Everything here works from a run record and a `PrimitiveResult`, so a saved run can be
shown again exactly as it was shown the first time.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from qprim.report.record import JobRecord, PubRecord, RunRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

MAX_POINTS = 8  # elements of a swept PUB shown in the terminal
TOP_OUTCOMES = 4


def pub_records_from_result(
    result: PrimitiveResult, facts: Sequence[dict[str, Any]] = ()
) -> list[PubRecord]:
    """What can be said of PUBs known only from their result (`qprim fetch`), plus the
    depth and size recorded when the job was submitted, if any."""
    by_pub = {int(fact["pub"]): fact for fact in facts}
    records = []
    for index, pub_result in enumerate(result):
        bit_arrays = _bit_arrays(pub_result)
        fact = by_pub.get(index, {})
        records.append(
            PubRecord(
                index=index,
                circuit=None,
                shape=list(pub_result.data.shape),
                depth=fact.get("depth"),
                size=fact.get("size"),
                shots=next(iter(bit_arrays.values())).num_shots if bit_arrays else None,
                precision=pub_result.metadata.get("target_precision"),
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


def top_counts(result: PrimitiveResult) -> list[dict[str, Any]]:
    """Sampler: the most frequent outcomes per PUB, per classical register, per sweep point."""
    rows = []
    for pub_index, pub_result in enumerate(result):
        for register, bits in _bit_arrays(pub_result).items():
            for point in islice(_points(bits.shape), MAX_POINTS):
                counts = bits[point].get_counts() if point else bits.get_counts()
                shots = sum(counts.values())
                top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                rows.append(
                    {
                        "pub": pub_index,
                        "register": register,
                        "point": list(point),
                        "shots": shots,
                        "top": [[key, value, value / shots] for key, value in top[:TOP_OUTCOMES]],
                        "distinct": len(counts),
                    }
                )
    return rows


def expectation_values(result: PrimitiveResult) -> list[dict[str, Any]]:
    """Estimator: each expectation value with its standard deviation, per PUB and index."""
    import numpy as np

    rows = []
    for pub_index, pub_result in enumerate(result):
        evs = np.asarray(pub_result.data.evs)
        stds = np.asarray(pub_result.data.stds)
        for point in islice(_points(evs.shape), MAX_POINTS * 4):
            rows.append(
                {
                    "pub": pub_index,
                    "point": list(point),
                    "ev": float(evs[point]),
                    "std": float(stds[point]),
                }
            )
    return rows


def _bit_arrays(pub_result: Any) -> dict[str, Any]:
    from qiskit.primitives import BitArray

    return {name: value for name, value in pub_result.data.items() if isinstance(value, BitArray)}


def _points(shape: tuple[int, ...]) -> Any:
    import numpy as np

    return np.ndindex(*shape) if shape else iter([()])


def point_label(point: list[int] | tuple[int, ...]) -> str:
    """A sweep point's index as Python writes a tuple: `(3, 4)`, `(2,)`, `()`."""
    return "(" + ", ".join(map(str, point)) + ("," if len(point) == 1 else "") + ")"
