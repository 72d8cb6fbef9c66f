"""A JSON-able description of a loaded workload, for `qprim validate --json`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from qprim.workload.pubs import pub_shape
from qprim.workload.types import Expectation, PubSpec, Workload


def summarize(w: Workload) -> dict[str, Any]:
    backend = asdict(w.backend)
    backend.pop("where", None)
    return {
        "name": w.name,
        "digest": w.digest,
        "source": str(w.source),
        "primitive": w.primitive,
        "backend": backend,
        "transpile": asdict(w.transpile),
        "options": w.options,
        "tags": list(w.tags),
        "execution": {
            "max_pubs_per_job": w.execution.max_pubs_per_job,
            "max_executions_per_job": w.execution.max_executions_per_job,
            "mode": w.execution.mode,
        },
        "pubs": [_pub(p) for p in w.pubs],
        "expect": [_expect(e) for e in w.expect],
    }


def _pub(pub: PubSpec) -> dict[str, Any]:
    circuit = pub.circuit
    entry: dict[str, Any] = {
        "index": pub.index,
        "circuit": pub.circuit_name,
        "qubits": circuit.num_qubits,
        "clbits": circuit.num_clbits,
        "depth": circuit.depth(),
        "size": circuit.size(),
        "parameters": list(pub.parameter_names),
        "shape": list(pub_shape(pub)),
    }
    if pub.observables is None:
        entry["shots"] = pub.shots
    else:
        entry["observables"] = [observable_label(op) for op in pub.observables.flat]
        entry["observables_shape"] = list(pub.observables.shape)
        entry["precision"] = pub.precision
    return entry


def observable_label(op: Any) -> str:
    """`XX`, or `1*XX - 0.5*YY` for a weighted sum: the full text, every term."""
    terms = list(zip(op.paulis.to_labels(), op.coeffs, strict=True))
    if len(terms) == 1 and terms[0][1] == 1:
        return terms[0][0]
    return " + ".join(f"{_coeff(c)}*{label}" for label, c in terms).replace("+ -", "- ")


def _coeff(c: complex) -> str:
    return f"{c.real:g}" if c.imag == 0 else f"({c.real:g}{c.imag:+g}j)"


def _expect(e: Expectation) -> dict[str, Any]:
    entry: dict[str, Any] = {"pub": e.pub, "tolerance": e.tolerance, "line": e.where.line}
    if e.counts is not None:
        entry["counts"] = e.counts
    else:
        entry["evs"] = e.evs
    if e.shape is not None:
        entry["shape"] = list(e.shape)
    return entry
