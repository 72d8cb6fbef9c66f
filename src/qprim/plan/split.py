"""Split a PUB along its flattened sweep into several jobs, and merge their results back.

A backend caps how much one job may execute, so a large sweep is cut into slices
of consecutive points of the PUB's broadcast shape, flattened in C order. Each
slice is a 1-D PUB of its own; the slices' results, concatenated in order and
reshaped, are the result the unsplit PUB would have given.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from qiskit.primitives import BitArray, DataBin, PubResult

from qprim.workload.pubs import num_points, pub_shape
from qprim.workload.types import PubSpec


def slice_pub(pub: PubSpec, start: int, stop: int) -> PubSpec:
    """The points `[start, stop)` of the PUB's flattened shape, as a PUB of shape `(n,)`.

    Parameters and observables are broadcast to the PUB's full shape first, so each
    point of the slice carries the parameter values and observable it had unsplit.
    A PUB with neither (a sampler PUB without parameters) has one point and no
    sweep to cut: its only slice, `[0, 1)`, is the PUB itself.
    """
    total = num_points(pub)
    if not 0 <= start < stop <= total:
        raise ValueError(
            f"slice [{start}, {stop}) of PUB {pub.index} is out of range: "
            f"need 0 <= start < stop <= {total}"
        )
    shape = pub_shape(pub)
    values = pub.parameter_values
    if values is not None:
        width = values.shape[-1]
        values = np.broadcast_to(values, (*shape, width)).reshape(-1, width)[start:stop].copy()
    observables = pub.observables
    if observables is not None:
        observables = np.broadcast_to(observables, shape).reshape(-1)[start:stop].copy()
    return dataclasses.replace(pub, parameter_values=values, observables=observables)


def merge_pub_results(parts: Sequence[PubResult], shape: tuple[int, ...]) -> PubResult:
    """One result of the unsplit PUB's `shape` from the results of its consecutive slices.

    Every field (sampler `BitArray` registers, estimator arrays such as `evs` and
    `stds`, with any trailing dimensions) is concatenated along the points and
    reshaped. The result has the parts' class (`SamplerPubResult` keeps `join_data`)
    and the first part's metadata: every slice ran with the same shots or precision.
    """
    if not parts:
        raise ValueError("no results to merge")
    shape = tuple(shape)
    if len(parts) == 1 and tuple(parts[0].data.shape) == shape:
        return parts[0]
    shapes = [tuple(part.data.shape) for part in parts]
    sizes = [math.prod(part_shape) for part_shape in shapes]
    if sum(sizes) != math.prod(shape):
        raise ValueError(
            f"the parts hold {sum(sizes)} points in all ({' + '.join(map(str, sizes))}) "
            f"but shape {shape} has {math.prod(shape)}"
        )
    names = tuple(parts[0].data.keys())
    for i, part in enumerate(parts):
        if tuple(part.data.keys()) != names:
            raise ValueError(
                f"part {i} has fields {list(part.data.keys())}, part 0 has {list(names)}"
            )
    fields = {
        name: _merge_field([part.data[name] for part in parts], shapes, shape) for name in names
    }
    first = parts[0]
    return type(first)(DataBin(shape=shape, **fields), metadata=dict(first.metadata))


def _merge_field(
    values: list[object], part_shapes: list[tuple[int, ...]], shape: tuple[int, ...]
) -> BitArray | np.ndarray:
    """One field of every part, flattened to `(points, ...)`, joined, reshaped to `shape`."""
    sizes = [math.prod(part_shape) for part_shape in part_shapes]
    if all(isinstance(value, BitArray) for value in values):
        flat = [value.reshape(size) for value, size in zip(values, sizes, strict=True)]
        return BitArray.concatenate(flat).reshape(shape)
    if all(isinstance(value, np.ndarray) for value in values):
        flat = [
            value.reshape(size, *value.shape[len(part_shape) :])
            for value, part_shape, size in zip(values, part_shapes, sizes, strict=True)
        ]
        joined = np.concatenate(flat)
        return joined.reshape(*shape, *joined.shape[1:])
    kinds = sorted({type(value).__name__ for value in values})
    raise TypeError(f"cannot merge a field holding {', '.join(kinds)}")
