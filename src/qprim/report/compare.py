"""Two runs of the same work, point by point: ideal vs noisy, today vs a stored reference.

Sampler PUBs are compared by the total-variation distance between the two runs' counts
at each sweep point (registers joined, as `expect:` checks do); estimator PUBs by the
difference of each expectation value, B − A, with its standard error
sqrt(std_a² + std_b²). Runs whose primitive, PUB count, result shapes or classical bit
counts differ cannot be compared: `Incomparable` says every difference. Runs whose
parameter values or observables differ are compared, with a note.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.errors import InputError
from qprim.report.checks import total_variation
from qprim.report.counts import counts
from qprim.report.layout import PubLayout, layouts

if TYPE_CHECKING:
    from qprim.report.runs import SavedRun


class Incomparable(InputError):
    """The runs do not hold the same kind of numbers in the same places (exit 2)."""


@dataclass(frozen=True)
class Difference:
    """One point of one PUB (and, for an estimator, one observable) in both runs."""

    pub: int
    point: int  # flat (C order) index of the sweep point
    label: str  # the point's parameter values, from run A
    parameters: dict[str, float] = field(default_factory=dict)
    observable: str | None = None
    observable_index: int | None = None  # flat index into the PUB's observables
    # sampler: the distance, and the outcome whose probability moved most
    tvd: float | None = None
    outcome: str | None = None
    p_a: float | None = None
    p_b: float | None = None
    shots_a: int | None = None
    shots_b: int | None = None
    # estimator
    ev_a: float | None = None
    ev_b: float | None = None
    std_a: float | None = None
    std_b: float | None = None

    @property
    def diff(self) -> float | None:
        """B − A."""
        return None if self.ev_a is None or self.ev_b is None else self.ev_b - self.ev_a

    @property
    def se(self) -> float | None:
        """The standard error of the difference, sqrt(std_a² + std_b²)."""
        if self.std_a is None or self.std_b is None:
            return None
        return math.hypot(self.std_a, self.std_b)

    @property
    def sigmas(self) -> float | None:
        """|B − A| in standard errors: infinite for a difference with no error (exact
        expectation values), 0 for none."""
        diff, se = self.diff, self.se
        if diff is None or se is None:
            return None
        if se == 0:
            return 0.0 if diff == 0 else math.inf
        return abs(diff) / se

    @property
    def size(self) -> float:
        """What `--tolerance` bounds: the TVD, or |B − A|."""
        return self.tvd if self.tvd is not None else abs(self.diff or 0.0)

    def document(self) -> dict[str, Any]:
        """A JSON-able row: the set fields, the difference and its error."""
        row = {key: value for key, value in asdict(self).items() if value is not None}
        if self.diff is not None:
            row.update(diff=self.diff, se=self.se, sigmas=_finite(self.sigmas))
        return row


@dataclass(frozen=True)
class Comparison:
    primitive: str
    differences: list[Difference]  # in workload order: PUB, point, observable
    notes: list[str]

    def beyond(self, tolerance: float | None, sigma: float | None) -> list[Difference]:
        """The differences that break the limit given (none without a limit)."""
        if tolerance is not None:
            return [d for d in self.differences if d.size > tolerance]
        if sigma is not None:
            return [d for d in self.differences if (d.sigmas or 0.0) > sigma]
        return []

    def ranked(self, sigma: float | None = None) -> list[Difference]:
        """Worst first: by standard errors under `--sigma`, else by size."""
        if sigma is not None:
            return sorted(self.differences, key=lambda d: -(d.sigmas or 0.0))
        return sorted(self.differences, key=lambda d: -d.size)


def compare(a: SavedRun, b: SavedRun) -> Comparison:
    """Run B against run A, every PUB and point; raises Incomparable."""
    _comparable(a, b)
    pubs_a, pubs_b = layouts(a.record, a.result), layouts(b.record, b.result)
    differences: list[Difference] = []
    notes: list[str] = []
    for pub_a, pub_b, result_a, result_b in zip(pubs_a, pubs_b, a.result, b.result, strict=True):
        notes += _notes(pub_a, pub_b)
        if a.record.primitive == "sampler":
            differences += _sampler(pub_a, result_a.join_data(), result_b.join_data())
        else:
            differences += _estimator(pub_a, result_a, result_b)
    return Comparison(a.record.primitive, differences, notes)


def run_label(run: SavedRun) -> str:
    """`bell on aer:fake_manila, noisy, seed 42`: which run is which, in a legend or a header."""
    backend = run.record.backend
    extras = [
        "noisy" if backend.noise else "",
        f"seed {backend.seed}" if backend.seed is not None else "",
    ]
    details = ", ".join(extra for extra in extras if extra)
    return f"{run.record.workload.name} on {backend.label}" + (f", {details}" if details else "")


def _comparable(a: SavedRun, b: SavedRun) -> None:
    problems = []
    if a.record.primitive != b.record.primitive:
        problems.append(f"primitive {a.record.primitive} vs {b.record.primitive}")
    elif len(a.result) != len(b.result):
        problems.append(f"{len(a.result)} PUBs vs {len(b.result)}")
    else:
        for index, (one, other) in enumerate(zip(a.result, b.result, strict=True)):
            if one.data.shape != other.data.shape:
                problems.append(f"pub {index}: shape {one.data.shape} vs {other.data.shape}")
            elif a.record.primitive == "sampler":
                bits = (one.join_data().num_bits, other.join_data().num_bits)
                if bits[0] != bits[1]:
                    problems.append(f"pub {index}: {bits[0]} classical bits vs {bits[1]}")
    if problems:
        raise Incomparable(f"{a.path} and {b.path} cannot be compared: " + "; ".join(problems))


def _notes(a: PubLayout, b: PubLayout) -> list[str]:
    """What differs between two comparable PUBs and makes the comparison doubtful."""
    notes = []
    if a.names != b.names:
        notes.append(f"pub {a.index}: parameters {list(a.names)} vs {list(b.names)}")
    elif a.values is not None and b.values is not None and a.values.shape == b.values.shape:
        gap = float(np.abs(a.values - b.values).max(initial=0.0))
        if gap > 1e-9:
            notes.append(f"pub {a.index}: parameter values differ (by up to {gap:.3g})")
    if (
        a.observables is not None
        and b.observables is not None
        and not _same(a.observables, b.observables)
    ):
        notes.append(f"pub {a.index}: the observables differ")
    return notes


def _same(one: np.ndarray, other: np.ndarray) -> bool:
    return one.shape == other.shape and bool((one == other).all())


def _sampler(pub: PubLayout, bits_a: Any, bits_b: Any) -> list[Difference]:
    found = []
    for point in range(pub.points):
        index = pub.point_index(point) if pub.sweep_shape else ()
        counts_a, counts_b = counts(bits_a, index), counts(bits_b, index)
        shots_a, shots_b = sum(counts_a.values()), sum(counts_b.values())
        share_a = {key: value / shots_a for key, value in counts_a.items()}
        share_b = {key: value / shots_b for key, value in counts_b.items()}
        moved = max(
            sorted(set(share_a) | set(share_b)),
            key=lambda key: abs(share_b.get(key, 0.0) - share_a.get(key, 0.0)),
        )
        found.append(
            Difference(
                pub=pub.index,
                point=point,
                label=pub.label(point),
                parameters=pub.parameters(point),
                tvd=total_variation(share_a, counts_b),
                outcome=moved,
                p_a=share_a.get(moved, 0.0),
                p_b=share_b.get(moved, 0.0),
                shots_a=shots_a,
                shots_b=shots_b,
            )
        )
    return found


def _estimator(pub: PubLayout, result_a: Any, result_b: Any) -> list[Difference]:
    arrays = []
    for pub_result in (result_a, result_b):
        evs = np.asarray(pub_result.data.evs, dtype=float)
        arrays += [evs, np.broadcast_to(np.asarray(pub_result.data.stds, dtype=float), evs.shape)]
    evs_a, stds_a, evs_b, stds_b = arrays
    return [
        Difference(
            pub=pub.index,
            point=point,
            label=pub.label(point),
            parameters=pub.parameters(point),
            observable=pub.observable(observable),
            observable_index=observable,
            ev_a=float(evs_a[index]),
            ev_b=float(evs_b[index]),
            std_a=float(stds_a[index]),
            std_b=float(stds_b[index]),
        )
        for index, point, observable in pub.elements()
    ]


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: an infinite number of standard errors is written null."""
    return None if value is None or not math.isfinite(value) else value
