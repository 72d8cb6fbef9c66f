"""Where each number of a PUB's result sits: its sweep point and its observable.

Why its own module: tables, plots, exports and comparisons all need to say "this value
is ⟨ZZ⟩ at theta=0.785, phi=1.571", and must agree on it. Everything here is derived
from the run record (parameter values and observable labels, recorded at run time) and
the result's shape, with Qiskit's broadcasting rules: an estimator's result has the
shape of its observables broadcast with its sweep. When the record does not know the
parameters (a `qprim fetch` of a job submitted before qprim kept them, or of a sweep too
large to keep in the journal), points are labelled by their index.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report.record import PubRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.report.record import RunRecord

SHORT_LABEL = 24  # characters of an observable label in tables and legends


@dataclass(frozen=True)
class Axis:
    """One axis of a separable sweep: the parameters that vary along it, and their values.

    `name` is the parameter to plot against (the first that varies), None when nothing
    varies along the axis (then `values` are indices)."""

    size: int
    name: str | None
    names: tuple[str, ...]
    values: np.ndarray  # (size,) coordinates of `name`
    caption: str = "index"  # the title of an axis of indices

    @property
    def title(self) -> str:
        """`theta`, `theta (and phi)` for a zip sweep, the caption for an axis of indices."""
        if self.name is None:
            return self.caption
        others = [name for name in self.names if name != self.name]
        return self.name + (f" (and {', '.join(others)})" if others else "")


@dataclass(frozen=True)
class PubLayout:
    """A PUB's result, as sweep points x observables."""

    index: int
    circuit: str | None
    shape: tuple[int, ...]  # the result's shape
    sweep_shape: tuple[int, ...]
    names: tuple[str, ...] = ()
    values: np.ndarray | None = None  # (*sweep_shape, len(names))
    observables: np.ndarray | None = None  # object array of full labels

    @property
    def points(self) -> int:
        return math.prod(self.sweep_shape)

    @property
    def swept(self) -> bool:
        """Points have labels (parameter values or indices): tables need a point column."""
        return bool(self.sweep_shape) or self.values is not None

    def point_index(self, point: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(point, self.sweep_shape))

    def parameters(self, point: int) -> dict[str, float]:
        """The parameter values of a point by name; empty when not known."""
        if self.values is None:
            return {}
        row = self.values.reshape(-1, len(self.names))[point]
        return {name: float(value) for name, value in zip(self.names, row, strict=True)}

    def label(self, point: int) -> str:
        """`theta=0.7854, phi=1.571`; `(3, 4)` when only the index is known; `` for none."""
        values = self.parameters(point)
        if values:
            return ", ".join(f"{name}={value:.4g}" for name, value in values.items())
        return index_label(self.point_index(point)) if self.sweep_shape else ""

    @property
    def observable_count(self) -> int:
        return 1 if self.observables is None else self.observables.size

    def observable(self, number: int) -> str | None:
        """The full label of observable `number` (flat index); None when not known."""
        if self.observables is None:
            return None
        return str(self.observables.flat[number])

    def elements(self) -> Iterator[tuple[tuple[int, ...], int, int]]:
        """(result index, point, observable) of every element, point by point."""
        points, observables = self._element_maps()
        order = np.lexsort((observables.ravel(), points.ravel()))
        for flat in order:
            index = tuple(int(i) for i in np.unravel_index(flat, self.shape))
            yield index, int(points.flat[flat]), int(observables.flat[flat])

    def element(self, index: tuple[int, ...]) -> tuple[int, int]:
        """The sweep point and observable (flat indices) of a result element."""
        points, observables = self._element_maps()
        return int(points[index]), int(observables[index])

    def by_observable(self, array: np.ndarray) -> np.ndarray:
        """A result-shaped array as (observables, *sweep_shape); NaN where an observable
        is not evaluated at a point (observables zipped with the sweep)."""
        grid = np.full((self.observable_count, self.points), np.nan)
        points, observables = self._element_maps()
        grid[observables.ravel(), points.ravel()] = np.broadcast_to(array, self.shape).ravel()
        return grid.reshape(self.observable_count, *self.sweep_shape)

    def axes(self) -> list[Axis] | None:
        """The sweep's axes when each parameter varies along at most one of them (a
        product sweep, a zip sweep, a single point); None otherwise (e.g. an arbitrary
        grid from a file), where points can only be drawn by index."""
        if self.values is None:
            return [Axis(n, None, (), np.arange(n, dtype=float)) for n in self.sweep_shape]
        varying = [
            [
                name
                for column, name in enumerate(self.names)
                if np.ptp(self.values[..., column], axis=axis).max(initial=0.0) > 0
            ]
            for axis in range(len(self.sweep_shape))
        ]
        if any(sum(name in names for names in varying) > 1 for name in self.names):
            return None
        axes = []
        for axis, (size, names) in enumerate(zip(self.sweep_shape, varying, strict=True)):
            if not names:
                axes.append(Axis(size, None, (), np.arange(size, dtype=float)))
                continue
            column = self.names.index(names[0])
            line = np.moveaxis(self.values[..., column], axis, 0).reshape(size, -1)[:, 0]
            axes.append(Axis(size, names[0], tuple(names), line))
        return axes

    def _element_maps(self) -> tuple[np.ndarray, np.ndarray]:
        points = np.arange(self.points).reshape(self.sweep_shape)
        observables = np.arange(self.observable_count).reshape(
            () if self.observables is None else self.observables.shape
        )
        return np.broadcast_to(points, self.shape), np.broadcast_to(observables, self.shape)


def layouts(record: RunRecord, result: PrimitiveResult) -> list[PubLayout]:
    """Every PUB's layout, in workload order."""
    pubs = {pub.index: pub for pub in record.pubs}
    return [
        pub_layout(pubs.get(index) or PubRecord(index=index, circuit=None, shape=[]), pub_result)
        for index, pub_result in enumerate(result)
    ]


def pub_layout(pub: PubRecord, pub_result: Any) -> PubLayout:
    """A PUB's layout from its record; by index where the record and result disagree."""
    shape = tuple(pub_result.data.shape)
    names: tuple[str, ...] = ()
    values = observables = None
    if pub.parameters is not None and pub.parameters.names:
        names = tuple(pub.parameters.names)
        values = np.asarray(pub.parameters.values, dtype=float)
        if values.ndim == 0 or values.shape[-1] != len(names):
            return PubLayout(pub.index, pub.circuit, shape, shape)
    if pub.observables is not None:
        observables = np.array(pub.observables.labels, dtype=object)
        if observables.shape != tuple(pub.observables.shape):
            return PubLayout(pub.index, pub.circuit, shape, shape)
    sweep = values.shape[:-1] if values is not None else (() if observables is not None else shape)
    try:
        fits = np.broadcast_shapes(sweep, () if observables is None else observables.shape)
    except ValueError:
        fits = None
    if fits != shape:  # not what this result holds: fall back to indices
        return PubLayout(pub.index, pub.circuit, shape, shape)
    return PubLayout(pub.index, pub.circuit, shape, tuple(sweep), names, values, observables)


def bit_arrays(pub_result: Any) -> dict[str, Any]:
    """A sampler PUB result's classical registers by name (BitArrays of the sweep's shape)."""
    from qiskit.primitives import BitArray

    return {name: value for name, value in pub_result.data.items() if isinstance(value, BitArray)}


def index_label(point: tuple[int, ...] | list[int]) -> str:
    """A sweep point's index as Python writes a tuple: `(3, 4)`, `(2,)`, `()`."""
    return "(" + ", ".join(map(str, point)) + ("," if len(point) == 1 else "") + ")"


def short_label(label: str, width: int = SHORT_LABEL) -> str:
    """A label that fits a table column or a legend: whole terms, then `… (N terms)`."""
    if len(label) <= width:
        return label
    terms = label.replace(" - ", " + -").split(" + ")
    kept = ""
    for term in terms:
        candidate = f"{kept} + {term}" if kept else term
        if len(candidate) > width - 12 and kept:
            break
        kept = candidate
    return f"{kept.replace(' + -', ' - ')} … ({len(terms)} terms)"
