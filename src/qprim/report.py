"""Plain, JSON-able facts about a run, shared by `run.json`, the terminal and Prefect artifacts.

Everything here works from dictionaries and a `PrimitiveResult`, so a saved run can be
shown again exactly as it was shown the first time.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.flow import JobOutcome
    from qprim.prepare import PreparedPub
    from qprim.workload.types import Workload

MAX_POINTS = 8  # elements of a swept PUB shown in the terminal
TOP_OUTCOMES = 4


def pub_infos(workload: Workload, prepared: list[PreparedPub]) -> list[dict[str, Any]]:
    specs = {spec.index: spec for spec in workload.pubs}
    return [
        {
            "index": pub.index,
            "circuit": specs[pub.index].circuit_name,
            "shape": list(pub.shape),
            "depth": pub.depth,
            "size": pub.size,
            "shots": pub.shots,
            "precision": pub.precision,
        }
        for pub in prepared
    ]


def pub_infos_from_result(result: PrimitiveResult) -> list[dict[str, Any]]:
    """What can be said of PUBs known only from their result (`qprim fetch`)."""
    infos = []
    for index, pub_result in enumerate(result):
        bit_arrays = _bit_arrays(pub_result)
        infos.append(
            {
                "index": index,
                "circuit": None,
                "shape": list(pub_result.data.shape),
                "depth": None,
                "size": None,
                "shots": next(iter(bit_arrays.values())).num_shots if bit_arrays else None,
                "precision": pub_result.metadata.get("target_precision"),
            }
        )
    return infos


def job_records(outcomes: list[JobOutcome]) -> list[dict[str, Any]]:
    """The `jobs` list of `run.json` (spec section 3)."""
    return [
        {
            "job_id": outcome.job_id,
            "pubs": outcome.pubs,
            "status": outcome.fetched.status.value,
            "submit": outcome.submit,
            "result": outcome.result_source,
            "metrics": outcome.fetched.metrics.as_dict(),
        }
        for outcome in outcomes
    ]


def metrics_rows(
    backend: str, pubs: list[dict[str, Any]], jobs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per PUB with its job's timing: the `job-metrics` table."""
    pub_by_index = {pub["index"]: pub for pub in pubs}
    rows = []
    for job in jobs:
        metrics = job["metrics"]
        for index in job["pubs"]:
            pub = pub_by_index.get(index, {})
            rows.append(
                {
                    "job_id": job["job_id"],
                    "backend": backend,
                    "status": job["status"],
                    "pub": index,
                    "shape": "x".join(map(str, pub.get("shape", []))) or "()",
                    "depth": pub.get("depth"),
                    "size": pub.get("size"),
                    "shots": pub.get("shots") if pub.get("shots") is not None else "",
                    "created": metrics.get("created"),
                    "started": metrics.get("started"),
                    "finished": metrics.get("finished"),
                    "queue_s": metrics.get("queue_s"),
                    "run_s": metrics.get("run_s"),
                    "quantum_s": metrics.get("quantum_s"),
                }
            )
    return rows


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
