"""Estimator observables: YAML forms -> numpy object array of SparsePauliOp.

Observables are written against the circuit's own (virtual) qubits, qubit 0 being
the RIGHTMOST character of a label, so every observable must be exactly as wide as
the circuit. Nested lists give the array's shape; a single observable has shape ().
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qprim.workload.model import SparseObservableModel
from qprim.workload.source import Path_, SourceDoc

_PAULIS = set("IXYZ")


def build_observables(spec: Any, num_qubits: int, doc: SourceDoc, path: Path_) -> np.ndarray:
    """`path` is the key path of `observables:`."""
    shape = _shape(spec, doc, path)
    array = np.empty(shape, dtype=object)
    leaves = list(_leaves(spec, path))
    for flat, (leaf, leaf_path) in enumerate(leaves):
        array[np.unravel_index(flat, shape) if shape else ()] = _one(
            leaf, num_qubits, doc, leaf_path
        )
    return array


def _shape(spec: Any, doc: SourceDoc, path: Path_) -> tuple[int, ...]:
    if not isinstance(spec, list):
        return ()
    if not spec:
        raise doc.error(path, 'an observables list must not be empty, e.g. "observables: [ZZ]"')
    shapes = [_shape(item, doc, (*path, i)) for i, item in enumerate(spec)]
    for i, item_shape in enumerate(shapes):
        if item_shape != shapes[0]:
            raise doc.error(
                (*path, i),
                f"nested observables lists must be rectangular: "
                f"item {i} has shape {item_shape}, item 0 has {shapes[0]}",
            )
    return (len(spec), *shapes[0])


def _leaves(spec: Any, path: Path_) -> Any:
    if isinstance(spec, list):
        for i, item in enumerate(spec):
            yield from _leaves(item, (*path, i))
    else:
        yield spec, path


def _one(spec: Any, num_qubits: int, doc: SourceDoc, path: Path_) -> SparsePauliOp:
    if isinstance(spec, str):
        _check_label(spec, num_qubits, doc, path)
        return SparsePauliOp(spec)
    if isinstance(spec, SparseObservableModel):
        return _sparse(spec, num_qubits, doc, path)
    if not spec:
        raise doc.error(path, 'a weighted observable needs at least one term, e.g. "{XX: 1.0}"')
    for label in spec:
        _check_label(label, num_qubits, doc, (*path, label))
    return SparsePauliOp.from_list(list(spec.items()))


def _check_label(label: str, num_qubits: int, doc: SourceDoc, path: Path_) -> None:
    example = "Z" * num_qubits
    if not label or set(label) - _PAULIS:
        raise doc.error(
            path,
            f"'{label}' is not a Pauli label: use the letters I, X, Y, Z, "
            f'one per qubit, e.g. "{example}"',
        )
    if len(label) != num_qubits:
        raise doc.error(
            path,
            f"Pauli label '{label}' has {len(label)} qubits but the circuit "
            f"has {num_qubits}; write one letter per qubit (qubit 0 rightmost), "
            f'e.g. "{example}"',
        )


def _sparse(
    spec: SparseObservableModel, num_qubits: int, doc: SourceDoc, path: Path_
) -> SparsePauliOp:
    if spec.num_qubits != num_qubits:
        raise doc.error(
            (*path, "num_qubits"),
            f"num_qubits is {spec.num_qubits} but the "
            f'circuit has {num_qubits} qubits, e.g. "num_qubits: {num_qubits}"',
        )
    if not spec.sparse:
        raise doc.error((*path, "sparse"), 'sparse needs at least one term, e.g. "[[Z, [0], 1.0]]"')
    for i, (paulis, qubits, _) in enumerate(spec.sparse):
        term = (*path, "sparse", i)
        if not paulis or set(paulis) - _PAULIS or len(paulis) != len(qubits):
            raise doc.error(
                term,
                f"sparse term {paulis!r} on qubits {qubits} needs one Pauli "
                'letter (I, X, Y, Z) per qubit index, e.g. "[ZZ, [0, 1], 1.0]"',
            )
        if any(q < 0 or q >= num_qubits for q in qubits) or len(set(qubits)) != len(qubits):
            raise doc.error(
                term, f"sparse term qubits {qubits} must be distinct indices in 0..{num_qubits - 1}"
            )
    return SparsePauliOp.from_sparse_list(spec.sparse, num_qubits=num_qubits)
