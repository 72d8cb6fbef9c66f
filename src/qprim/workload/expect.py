"""`expect:` checks for CI runs, validated against their PUB at load time.

A check that cannot pass (wrong PUB, wrong bitstring width, evs of the wrong
shape) is an input error now, not a confusing failure after a long run.
Bitstrings are written like Qiskit's joined counts: one character per classical
bit, the highest bit first; spaces (Qiskit's register separators, "01 1") are ignored.
"""

from __future__ import annotations

import numpy as np

from qprim.workload.model import ExpectModel
from qprim.workload.pubs import pub_shape
from qprim.workload.source import SourceDoc
from qprim.workload.types import Expectation, Primitive, PubSpec


def build_expectations(
    checks: list[ExpectModel], primitive: Primitive, pubs: tuple[PubSpec, ...], doc: SourceDoc
) -> tuple[Expectation, ...]:
    return tuple(_one(i, check, primitive, pubs, doc) for i, check in enumerate(checks))


def _one(
    i: int, check: ExpectModel, primitive: Primitive, pubs: tuple[PubSpec, ...], doc: SourceDoc
) -> Expectation:
    path = ("expect", i)
    if check.pub >= len(pubs):
        raise doc.error(
            (*path, "pub"),
            f"pub {check.pub} does not exist: the workload has "
            f'{len(pubs)} PUB(s), e.g. "pub: {len(pubs) - 1}"',
        )
    pub = pubs[check.pub]
    shape = pub_shape(pub)
    if check.shape is not None and tuple(check.shape) != shape:
        raise doc.error(
            (*path, "shape"),
            f"PUB {check.pub} has shape {list(shape)}, not "
            f'{check.shape}, e.g. "shape: {list(shape)}"',
        )
    common = {
        "pub": check.pub,
        "where": doc.at(path),
        "tolerance": check.tolerance,
        "shape": None if check.shape is None else tuple(check.shape),
    }
    if check.counts is not None:
        if primitive != "sampler":
            raise doc.error(
                (*path, "counts"),
                'counts apply to sampler PUBs; an estimator check uses evs, e.g. "evs: [1.0]"',
            )
        return Expectation(counts=_counts(check.counts, pub, doc, path), **common)
    if primitive != "estimator":
        raise doc.error(
            (*path, "evs"),
            "evs apply to estimator PUBs; a sampler check uses "
            "counts, e.g. \"counts: {'00': 0.5, '11': 0.5}\"",
        )
    _check_evs(check.evs, shape, doc, (*path, "evs"))
    return Expectation(evs=check.evs, **common)


def _counts(
    counts: dict[str, float], pub: PubSpec, doc: SourceDoc, path: tuple[str | int, ...]
) -> dict[str, float]:
    width = pub.circuit.num_clbits
    result: dict[str, float] = {}
    for written, prob in counts.items():
        key = (*path, "counts", written)
        bits = written.replace(" ", "")
        if not bits or set(bits) - {"0", "1"} or len(bits) != width:
            raise doc.error(
                key,
                f"bitstring '{written}' must have {width} bits (0/1), one per "
                f'classical bit of PUB {pub.index}\'s circuit, e.g. "{"0" * width}"; '
                "quote it so YAML keeps leading zeros",
            )
        if not 0.0 <= prob <= 1.0:
            raise doc.error(key, f"probability {prob} for '{written}' must be between 0 and 1")
        result[bits] = result.get(bits, 0.0) + prob
    if sum(result.values()) > 1.0 + 1e-9:
        raise doc.error(
            (*path, "counts"),
            f"expected probabilities add up to {sum(result.values()):g}, more than 1",
        )
    return result


def _check_evs(
    evs: object, shape: tuple[int, ...], doc: SourceDoc, path: tuple[str | int, ...]
) -> None:
    try:
        array = np.asarray(evs, dtype=np.float64)
    except ValueError:
        raise doc.error(
            path,
            'evs must be a number or a rectangular nested list of numbers, e.g. "evs: [1.0, 0.5]"',
        ) from None
    try:
        broadcast = np.broadcast_shapes(array.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise doc.error(
            path,
            f"evs of shape {array.shape} do not broadcast to the PUB's "
            f"shape {shape}; write one value per result, e.g. a list of "
            f"{shape[-1] if shape else 1} number(s)",
        )
