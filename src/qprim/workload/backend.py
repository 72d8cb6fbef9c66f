"""Backend and transpile settings from the workload, and the width check.

Fake device names are validated against qiskit_ibm_runtime.fake_provider, which is
imported only when a fake name is actually used (it costs about a second).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from typing import Any

from qiskit import QuantumCircuit
from qiskit.circuit import CONTROL_FLOW_OP_NAMES

from qprim.workload.circuits import suggest
from qprim.workload.model import BackendModel, TranspileModel
from qprim.workload.source import SourceDoc
from qprim.workload.types import (
    AER_SIMULATOR,
    LEAST_BUSY,
    BackendSpec,
    LeastBusy,
    TranspileSpec,
    Workload,
    WorkloadError,
)

# Operations the transpiler passes through only when the target names them.
STRUCTURAL = frozenset({*CONTROL_FLOW_OP_NAMES, "store"})


def build_backend(model: BackendModel, doc: SourceDoc | None) -> BackendSpec:
    """`doc` is None for bare circuit files (flags): errors then name no line. The spec's
    `where` is the `block:` line when a block is named (the block is looked up later)."""
    key = ("backend", "block") if model.block is not None else ("backend",)
    where = doc.at(key) if doc is not None else None
    if model.kind == "ibm":
        return _ibm_backend(model, doc, where)
    for field in ("fractional_gates", "min_qubits", "dynamic_circuits"):
        if field in model.model_fields_set:
            _fail(doc, ("backend", field), f"{field} is an IBM device setting; on aer remove it")
    if model.block is not None and model.name is None:
        # device, noise and seed come from the saved block when the run starts
        return BackendSpec(
            kind="aer",
            name=None,
            noise=model.noise,
            seed=model.seed,
            block=model.block,
            where=where,
        )
    name = model.name or AER_SIMULATOR
    if name != AER_SIMULATOR:
        valid = fake_device_names()
        if name not in valid:
            _fail(
                doc,
                ("backend", "name"),
                f"unknown aer backend '{name}'"
                f"{suggest(name, sorted(valid))}; use aer_simulator or a fake device such as "
                f"{', '.join(sorted(valid)[:4])}, ... (qiskit_ibm_runtime.fake_provider)",
            )
    elif model.noise:
        _fail(
            doc,
            ("backend", "noise"),
            "noise: true needs a fake device to take the noise "
            'model from, e.g. "name: fake_manila"',
        )
    return BackendSpec(
        kind="aer", name=name, noise=model.noise, seed=model.seed, block=model.block, where=where
    )


def _ibm_backend(model: BackendModel, doc: SourceDoc | None, where: Any) -> BackendSpec:
    """An IBM device by name, or (`name: least_busy`) the request that chooses one."""
    least_busy = None
    if model.name == LEAST_BUSY:
        least_busy = LeastBusy(min_qubits=model.min_qubits, dynamic_circuits=model.dynamic_circuits)
    else:
        for field in ("min_qubits", "dynamic_circuits"):
            if getattr(model, field) is not None:
                _fail(
                    doc,
                    ("backend", field),
                    f"{field} filters the devices least_busy chooses from; add "
                    '"name: least_busy" to the backend, or remove it',
                )
    return BackendSpec(
        kind="ibm",
        name=None if least_busy else model.name,
        noise=model.noise,
        seed=model.seed,
        block=model.block,
        where=where,
        fractional_gates=model.fractional_gates,
        least_busy=least_busy,
    )


def least_busy_from_block(spec: BackendSpec) -> BackendSpec:
    """A block's default device may be `least_busy` too: then it is a request, unfiltered."""
    if spec.kind != "ibm" or spec.name != LEAST_BUSY:
        return spec
    from dataclasses import replace

    return replace(spec, name=None, least_busy=spec.least_busy or LeastBusy())


def build_transpile(model: TranspileModel | bool) -> TranspileSpec:
    if isinstance(model, bool):
        return TranspileSpec() if model else TranspileSpec(enabled=False)
    return TranspileSpec(optimization_level=model.optimization_level, seed=model.seed)


@cache
def fake_device_names() -> frozenset[str]:
    """Snake names (`fake_manila`) of the fake devices in qiskit_ibm_runtime."""
    import inspect

    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import fake_provider

    names = set()
    for attr, value in vars(fake_provider).items():
        if attr.startswith("Fake") and inspect.isclass(value) and issubclass(value, BackendV2):
            stem = attr.removesuffix("V2")
            names.add(re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower())
    return frozenset(names)


def check_width(w: Workload, num_qubits: int, backend_label: str) -> None:
    """Raise at the first PUB whose circuit is wider than the backend."""
    for pub in w.pubs:
        if pub.circuit.num_qubits > num_qubits:
            raise WorkloadError(
                pub.where,
                f"circuit '{pub.circuit_name}' uses "
                f"{pub.circuit.num_qubits} qubits but {backend_label} has only "
                f"{num_qubits}; choose a larger backend",
            )


def check_operations(w: Workload, target_operations: Collection[str], backend_label: str) -> None:
    """Raise at the first PUB whose circuit uses control flow the backend cannot run.

    The transpiler translates gates, but control flow (`box`, `while`, ...) and classical
    stores only pass when the target lists them: otherwise it fails after the job was
    recorded, as a TranspilerError."""
    for pub in w.pubs:
        missing = sorted(_structural_operations(pub.circuit) - set(target_operations))
        if missing:
            raise WorkloadError(
                pub.where,
                f"circuit '{pub.circuit_name}' uses {', '.join(missing)}, which "
                f"{backend_label} cannot run (its target lacks it); remove it from the "
                "circuit (e.g. unroll the loop) or choose a backend whose target has it",
            )


def _structural_operations(circuit: QuantumCircuit) -> set[str]:
    """Names of the control-flow and store operations in `circuit`, nested ones too."""
    found: set[str] = set()
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name in STRUCTURAL:
            found.add(operation.name)
        for block in getattr(operation, "blocks", ()):
            found |= _structural_operations(block)
    return found


def _fail(doc: SourceDoc | None, path: tuple[str, ...], message: str) -> None:
    from qprim.errors import InputError

    if doc is None:
        raise InputError(message)
    raise doc.error(path, message)
