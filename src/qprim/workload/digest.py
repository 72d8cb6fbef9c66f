"""The workload's identity: a sha256 of everything that changes its result.

Pickle and QPY bytes of the same circuit differ between processes (parameter
UUIDs), so circuits are hashed as OpenQASM 3 text, or, when the exporter cannot
express an instruction, as a structural listing. File paths, comments, key order,
names, tags, `expect:` and the IBM block (it names credentials) are left out.
Parameter columns are sorted by name, so the order they were written in does not
matter; `options.default_shots`/`default_precision` are left out because their
effect is already in each PUB's resolved shots/precision.

IBM settings added after the first format enter the document only when they differ
from their default, so every digest qprim 0.1 wrote still names the same work and a
rerun after an upgrade never submits it again: `fractional_gates: true`, and
`execution.primitives: legacy` (the client-side primitives are the default; jobs
recorded before they were had run on the legacy ones, with the same results). A
`least_busy` device is digested as the request (its filters), never the device it
picked: the rerun finds its job without asking which device is least busy now.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from qiskit import QuantumCircuit, qasm3
from qiskit.circuit import Instruction
from qiskit.quantum_info import SparsePauliOp

from qprim.workload.types import PubSpec, Workload

DIGEST_VERSION = 1
_RESOLVED_OPTIONS = ("default_shots", "default_precision")


def workload_digest(w: Workload) -> str:
    """`sha256:` + 64 hex digits of the canonical form of `w`."""
    return pubs_digest(w, w.pubs)


def pubs_digest(w: Workload, pubs: Sequence[PubSpec]) -> str:
    """The digest of running `pubs` with `w`'s settings: what one job of `w` carries."""
    document = {
        "digest_version": DIGEST_VERSION,
        "primitive": w.primitive,
        "backend": _backend(w),
        "transpile": (
            {"optimization_level": w.transpile.optimization_level, "seed": w.transpile.seed}
            if w.transpile.enabled
            else False
        ),
        "options": {k: v for k, v in w.options.items() if k not in _RESOLVED_OPTIONS},
        "pubs": [_pub(p) for p in pubs],
    }
    if w.execution.primitives == "legacy":
        document["primitives"] = "legacy"
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=repr
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _backend(w: Workload) -> dict[str, Any]:
    spec = w.backend
    name: Any = spec.name
    if spec.least_busy is not None:
        name = {"least_busy": spec.least_busy.as_dict()}
    backend = {"kind": spec.kind, "name": name, "noise": spec.noise, "seed": spec.seed}
    if spec.fractional_gates:
        backend["fractional_gates"] = True
    return backend


def _pub(pub: PubSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"circuit": canonical_circuit(pub.circuit)}
    if pub.parameter_values is not None:
        order = sorted(range(len(pub.parameter_names)), key=lambda i: pub.parameter_names[i])
        values = pub.parameter_values[..., order]
        entry["parameters"] = {
            "names": [pub.parameter_names[i] for i in order],
            "shape": list(values.shape),
            "values": [repr(float(v)) for v in values.flat],
        }
    if pub.shots is not None:
        entry["shots"] = pub.shots
    if pub.observables is not None:
        entry["observables"] = {
            "shape": list(pub.observables.shape),
            "ops": [canonical_observable(op) for op in pub.observables.flat],
        }
    if pub.precision is not None:
        entry["precision"] = repr(float(pub.precision))
    return entry


def canonical_circuit(circuit: QuantumCircuit) -> str | list[Any]:
    """OpenQASM 3 text, stable across processes; a structural form if export fails."""
    try:
        return qasm3.dumps(circuit)
    except Exception:  # the exporter rejects some instructions; never fall back to pickle
        return _structure(circuit, set())


def _structure(circuit: QuantumCircuit, seen: set[str]) -> list[Any]:
    rows: list[Any] = [
        circuit.num_qubits,
        circuit.num_clbits,
        sorted(p.name for p in circuit.parameters),
    ]
    for item in circuit.data:
        op = item.operation
        row: list[Any] = [
            op.name,
            [str(p) for p in getattr(op, "params", [])],
            [circuit.find_bit(q).index for q in item.qubits],
            [circuit.find_bit(c).index for c in item.clbits],
        ]
        definition = _custom_definition(op)
        if definition is not None and op.name not in seen:
            row.append(_structure(definition, seen | {op.name}))
        rows.append(row)
    return rows


def _custom_definition(op: Instruction) -> QuantumCircuit | None:
    from qiskit.circuit.library import get_standard_gate_name_mapping

    if op.name in get_standard_gate_name_mapping():
        return None
    try:
        return op.definition
    except Exception:
        return None


def canonical_observable(op: SparsePauliOp) -> list[list[str]]:
    """Simplified terms sorted by label, coefficients as repr of complex."""
    simple = op.simplify()
    terms = sorted(zip(simple.paulis.to_labels(), simple.coeffs, strict=True))
    return [[label, repr(complex(coeff))] for label, coeff in terms]
