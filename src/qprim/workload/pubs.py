"""Turn one `pubs:` entry into a PubSpec: circuit, bindings, shots or observables.

Sampler PUBs need measurements and resolve their shots here (PUB, else
`options.default_shots`, else 1024); estimator PUBs get their observables and
precision (PUB, else `options.default_precision`, else none) and a circuit without
final measurements.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit

from qprim.errors import suggest
from qprim.workload.circuits import for_estimator, has_measurements
from qprim.workload.model import OptionsModel, PubModel
from qprim.workload.observables import build_observables
from qprim.workload.parameters import bind, check_points
from qprim.workload.source import SourceDoc
from qprim.workload.types import DEFAULT_SHOTS, Primitive, PubSpec


def pub_shape(pub: PubSpec) -> tuple[int, ...]:
    """The shape of the PUB's result: parameters broadcast with observables."""
    params = () if pub.parameter_values is None else tuple(pub.parameter_values.shape[:-1])
    if pub.observables is None:
        return params
    return tuple(np.broadcast_shapes(pub.observables.shape, params))


def num_points(pub: PubSpec) -> int:
    """How many points the PUB's result has (1 for a PUB of shape `()`)."""
    return math.prod(pub_shape(pub))


def executions(pub: PubSpec) -> int:
    """What the PUB costs a backend: shots times points (sampler) or points (estimator)."""
    if pub.observables is not None:
        return num_points(pub)
    if pub.shots is None:
        raise ValueError(f"sampler PUB {pub.index} has no shots")
    return pub.shots * num_points(pub)


def build_pub(
    index: int,
    pub: PubModel,
    primitive: Primitive,
    circuits: dict[str, QuantumCircuit],
    options: OptionsModel,
    doc: SourceDoc,
    base_dir: Path,
) -> tuple[PubSpec, tuple[Path, ...]]:
    """One PubSpec, plus the files its parameters were read from."""
    path = ("pubs", index)
    if pub.circuit not in circuits:
        names = list(circuits)
        raise doc.error(
            (*path, "circuit"),
            f"no circuit named '{pub.circuit}'"
            f"{suggest(pub.circuit, names)}; circuits: {', '.join(names)}",
        )
    circuit = circuits[pub.circuit]
    binding = bind(pub, circuit, pub.circuit, doc, path, base_dir)
    common = {
        "index": index,
        "circuit_name": pub.circuit,
        "where": doc.at(path),
        "parameter_names": binding.names,
        "parameter_values": binding.values,
    }
    if primitive == "sampler":
        for key in ("observables", "precision"):
            if key in pub.model_fields_set:
                raise doc.error(
                    (*path, key),
                    f"{key} applies to estimator PUBs; a sampler PUB "
                    'takes shots, e.g. "shots: 1000"',
                )
        if not has_measurements(circuit):
            raise doc.error(
                (*path, "circuit"),
                f"circuit '{pub.circuit}' has no measurements, "
                "so a sampler would return nothing; add measurements to the circuit "
                'or set "measure_all: true" on it under circuits:',
            )
        shots = pub.shots or options.default_shots or DEFAULT_SHOTS
        return PubSpec(circuit=circuit, shots=shots, **common), binding.files
    if pub.shots is not None:
        raise doc.error(
            (*path, "shots"),
            "shots applies to sampler PUBs; an estimator PUB "
            'takes precision, e.g. "precision: 0.01"',
        )
    if pub.observables is None:
        raise doc.error(path, 'an estimator PUB needs observables, e.g. "observables: ZZ"')
    logical = for_estimator(circuit)
    if logical is None:
        raise doc.error(
            (*path, "circuit"),
            f"circuit '{pub.circuit}' measures mid-circuit; "
            "an estimator PUB needs a circuit without measurements (final "
            "measurements are removed automatically)",
        )
    observables = build_observables(
        pub.observables, logical.num_qubits, doc, (*path, "observables")
    )
    try:
        shape = np.broadcast_shapes(observables.shape, binding.shape)
    except ValueError:
        raise doc.error(
            (*path, "observables"),
            f"observables shape {observables.shape} and "
            f"parameters shape {binding.shape} do not broadcast; e.g. observables "
            "[[ZZ], [XX]] (shape (2, 1)) with 4 parameter sets give shape (2, 4)",
        ) from None
    check_points(
        math.prod(shape),
        doc,
        (*path, "observables"),
        f"broadcasting observables of shape {observables.shape} with parameters of shape "
        f"{binding.shape}",
        "use fewer observables or parameter values",
    )
    precision = pub.precision or options.default_precision
    spec = PubSpec(
        circuit=logical,
        observables=observables,
        precision=None if precision is None else float(precision),
        **common,
    )
    return spec, binding.files
