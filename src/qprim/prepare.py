"""Turn a workload's logical PUBs into ISA PUBs for one backend target.

Transpiles per the workload's `transpile:` settings, binds parameter values by name
and maps estimator observables through the transpiled layout (`apply_layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import Target

    from qprim.workload.types import PubSpec, Workload


@dataclass(frozen=True)
class PreparedPub:
    """An ISA PUB ready to submit, with the numbers the metrics table shows."""

    index: int
    pub: Any  # SamplerPub | EstimatorPub
    shape: tuple[int, ...]
    depth: int
    size: int
    shots: int | None
    precision: float | None


def prepare_pubs(workload: Workload, target: Target) -> list[PreparedPub]:
    circuits = [spec.circuit for spec in workload.pubs]
    if workload.transpile.enabled:
        from qiskit.transpiler import generate_preset_pass_manager

        manager = generate_preset_pass_manager(
            optimization_level=workload.transpile.optimization_level,
            target=target,
            seed_transpiler=workload.transpile.seed,
        )
        circuits = manager.run(circuits)
    return [
        _prepare(workload.primitive, spec, isa)
        for spec, isa in zip(workload.pubs, circuits, strict=True)
    ]


def _prepare(primitive: str, spec: PubSpec, isa: QuantumCircuit) -> PreparedPub:
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    bindings = (
        BindingsArray.coerce({spec.parameter_names: spec.parameter_values})
        if spec.parameter_values is not None
        else None
    )
    if primitive == "sampler":
        pub = SamplerPub.coerce((isa, bindings, spec.shots))
    else:
        pub = EstimatorPub.coerce((isa, _map_observables(spec, isa), bindings, spec.precision))
    return PreparedPub(
        index=spec.index,
        pub=pub,
        shape=tuple(pub.shape),
        depth=isa.depth(),
        size=isa.size(),
        shots=spec.shots,
        precision=spec.precision,
    )


def _map_observables(spec: PubSpec, isa: QuantumCircuit) -> list[Any]:
    """Observables are written on the circuit's virtual qubits; move them onto the device's."""
    import numpy as np

    layout, width = isa.layout, isa.num_qubits

    def on_device(op: Any) -> Any:
        return op.apply_layout(layout) if layout is not None else op.apply_layout(None, width)

    mapped = np.vectorize(on_device, otypes=[object])(spec.observables)
    return mapped.tolist()
