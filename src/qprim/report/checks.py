"""Evaluate a workload's `expect:` checks against its result (CI smoke jobs).

Sampler checks compare probabilities by total-variation distance over all classical
bits (registers joined, clbit 0 rightmost); a swept PUB passes when every point does.
Estimator checks compare expectation values elementwise, broadcast to the PUB's shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report.counts import counts
from qprim.report.record import CheckRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.workload.types import Expectation


def evaluate(expectations: tuple[Expectation, ...], result: PrimitiveResult) -> list[CheckRecord]:
    """One verdict per check, in the order written."""
    outcomes = []
    for check in expectations:
        pub_result = result[check.pub]
        if check.shape is not None:
            outcomes.append(_shape(check, tuple(pub_result.data.shape)))
        if check.counts is not None:
            outcomes.append(_counts(check, pub_result))
        if check.evs is not None:
            outcomes.append(_evs(check, np.asarray(pub_result.data.evs)))
    return outcomes


def total_variation(expected: dict[str, float], counts: dict[str, int]) -> float:
    shots = sum(counts.values())
    measured = {key: value / shots for key, value in counts.items()}
    keys = set(expected) | set(measured)
    return 0.5 * sum(abs(expected.get(k, 0.0) - measured.get(k, 0.0)) for k in keys)


def _outcome(
    check: Expectation,
    kind: str,
    passed: bool,
    detail: str,
    expected: Any,
    at: tuple[int, ...] = (),
) -> CheckRecord:
    """The verdict, with the target and the worst point so a plot can draw them."""
    return CheckRecord(
        pub=check.pub,
        kind=kind,
        passed=bool(passed),
        detail=detail,
        expected=expected,
        tolerance=None if kind == "shape" else check.tolerance,
        at=[int(i) for i in at] if at else None,
    )


def _shape(check: Expectation, actual: tuple[int, ...]) -> CheckRecord:
    passed = actual == check.shape
    detail = f"shape {actual} {'==' if passed else '!='} {check.shape}"
    return _outcome(check, "shape", passed, detail, list(check.shape or ()))


def _counts(check: Expectation, pub_result: Any) -> CheckRecord:
    bits = pub_result.join_data()
    points = list(np.ndindex(*bits.shape)) or [()]
    distances = [(total_variation(check.counts or {}, counts(bits, p)), p) for p in points]
    worst, where = max(distances)
    passed = worst <= check.tolerance
    at = f" at point {where}" if where else ""
    sign = "<=" if passed else ">"
    detail = f"TVD {worst:.4f} {sign} {check.tolerance}{at}"
    return _outcome(check, "counts", passed, detail, check.counts, where)


def _evs(check: Expectation, evs: np.ndarray) -> CheckRecord:
    expected = np.broadcast_to(np.asarray(check.evs, dtype=float), evs.shape)
    deviation = np.abs(evs - expected)
    index = np.unravel_index(int(np.argmax(deviation)), deviation.shape) if deviation.size else ()
    worst = float(deviation[index]) if deviation.size else 0.0
    passed = worst <= check.tolerance
    at = f" at {tuple(int(i) for i in index)}" if evs.ndim else ""
    sign = "<=" if passed else ">"
    return _outcome(
        check,
        "evs",
        passed,
        f"max |ev - expected| {worst:.4f} {sign} {check.tolerance}{at} "
        f"(ev {float(evs[index]):+.4f}, expected {float(expected[index]):+.4f})",
        check.evs,
        tuple(int(i) for i in index),
    )
