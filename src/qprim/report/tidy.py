"""A run's numbers as one tidy table: a row per PUB x sweep point x outcome (sampler) or
observable (estimator), parameter values by name as columns.

Why one function: `qprim export` (CSV, JSON, Parquet) and `SavedRun.to_dataframe()`
must give the same numbers with the same columns, so they all write these rows. Values
are the result's own (counts as integers, evs and stds as floats, unrounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report.counts import counts
from qprim.report.layout import PubLayout, bit_arrays, layouts

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.report.record import RunRecord

KEYS = ("pub", "circuit", "point")
SAMPLER = ("register", "outcome", "count", "probability", "shots")
ESTIMATOR = ("observable_index", "observable", "ev", "std")


@dataclass(frozen=True)
class Tidy:
    """Rows that all have every column, in `columns` order (None where a PUB lacks a
    parameter)."""

    columns: list[str]
    rows: list[dict[str, Any]]


def tidy(record: RunRecord, result: PrimitiveResult) -> Tidy:
    """Every number of the run. Sampler rows are the outcomes seen at each point (an
    outcome never measured has no row); `point` is the flat (C order) index of the
    sweep point, `observable_index` the flat index into the PUB's observables."""
    sampler = record.primitive == "sampler"
    fixed = SAMPLER if sampler else ESTIMATOR
    pubs = layouts(record, result)
    names = list(dict.fromkeys(name for pub in pubs for name in pub.names))
    columns = {name: f"param_{name}" if name in (*KEYS, *fixed) else name for name in names}
    rows = []
    for pub, pub_result in zip(pubs, result, strict=True):
        rows_of = _sampler_rows if sampler else _estimator_rows
        for point, row in rows_of(pub, pub_result):
            params = pub.parameters(point)
            rows.append(
                {
                    "pub": pub.index,
                    "circuit": pub.circuit,
                    "point": point,
                    **{columns[name]: params.get(name) for name in names},
                    **row,
                }
            )
    return Tidy([*KEYS, *columns.values(), *fixed], rows)


def _sampler_rows(pub: PubLayout, pub_result: Any) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for point in range(pub.points):
        index = pub.point_index(point)
        for register, bits in bit_arrays(pub_result).items():
            counted = counts(bits, index)
            shots = sum(counted.values())
            for outcome in sorted(counted):
                count = counted[outcome]
                rows.append(
                    (
                        point,
                        {
                            "register": register,
                            "outcome": outcome,
                            "count": count,
                            "probability": count / shots,
                            "shots": shots,
                        },
                    )
                )
    return rows


def _estimator_rows(pub: PubLayout, pub_result: Any) -> list[tuple[int, dict[str, Any]]]:
    evs = np.asarray(pub_result.data.evs, dtype=float)
    stds = np.broadcast_to(np.asarray(pub_result.data.stds, dtype=float), evs.shape)
    return [
        (
            point,
            {
                "observable_index": observable,
                "observable": pub.observable(observable),
                "ev": float(evs[index]),
                "std": float(stds[index]),
            },
        )
        for index, point, observable in pub.elements()
    ]
