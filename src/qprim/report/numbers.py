"""A run's numbers as compact JSON, for `qprim run --json` (a script reads the counts or
expectation values from stdout without opening the run folder).

Shaped as Qiskit shapes them: per PUB, per classical register, the counts of each sweep
point as nested lists of the PUB's shape (a plain mapping for an unswept PUB); or the
`evs` and `stds` as nested lists. Only outcomes that occurred are listed. A big sweep
can make this large, so past `MAX_NUMBERS` numbers the document gives the run folder's
way to them instead (`qprim export`, `qprim.load_run`): stdout stays readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report.counts import counts
from qprim.report.layout import bit_arrays

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

MAX_NUMBERS = 10_000  # counts entries, or evs + stds, over the whole run


class TooMany(Exception):
    """The numbers went past the budget."""


class _Budget:
    def __init__(self, numbers: int) -> None:
        self.left = numbers

    def spend(self, numbers: int) -> None:
        self.left -= numbers
        if self.left < 0:
            raise TooMany


def results_document(result: PrimitiveResult, limit: int = MAX_NUMBERS) -> list[dict[str, Any]]:
    """Every PUB's numbers; raises `TooMany` past `limit` of them."""
    budget = _Budget(limit)
    return [_pub(index, pub_result, budget) for index, pub_result in enumerate(result)]


def _pub(index: int, pub_result: Any, budget: _Budget) -> dict[str, Any]:
    shape = list(pub_result.data.shape)
    registers = bit_arrays(pub_result)
    if registers:
        counts = {name: _counts(bits, budget) for name, bits in registers.items()}
        return {"pub": index, "shape": shape, "counts": counts}
    evs = np.asarray(pub_result.data.evs, dtype=float)
    stds = np.broadcast_to(np.asarray(pub_result.data.stds, dtype=float), evs.shape)
    budget.spend(2 * evs.size)
    return {"pub": index, "shape": shape, "evs": evs.tolist(), "stds": stds.tolist()}


def _counts(bits: Any, budget: _Budget) -> Any:
    """The counts at every point, nested like the PUB's shape."""
    nested: np.ndarray = np.empty(bits.shape, dtype=object)
    for point in np.ndindex(bits.shape):
        counted = counts(bits, point)
        budget.spend(len(counted))
        nested[point] = counted
    return nested.tolist() if bits.shape else nested.item()
