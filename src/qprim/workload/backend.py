"""Backend and transpile settings from the workload, and the width check.

What a device name may be is the backend kind's to say (`qprim.backends.kinds`): Aer's
fake devices are validated against qiskit_ibm_runtime.fake_provider, imported only when
a fake name is actually used (it costs about a second).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from qiskit import QuantumCircuit
from qiskit.circuit import CONTROL_FLOW_OP_NAMES

from qprim.backends.kinds import backend_kind
from qprim.workload.model import BackendModel, TranspileModel
from qprim.workload.source import SourceDoc
from qprim.workload.types import (
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
    `where` is the `block:` line when a block is named (the block is looked up later).
    A device left to a block is filled in from it; else the kind's default applies, and
    the kind says what it rejects (an unknown fake device, noise without a device)."""
    key = ("backend", "block") if model.block is not None else ("backend",)
    where = doc.at(key) if doc is not None else None
    kind = backend_kind(model.kind)
    least_busy = _device_request(model, kind.runtime_service, doc)
    name = None if least_busy is not None else model.name
    if kind.device is not None and not (model.block is not None and name is None):
        name = name or kind.device
    if name is not None:
        problem = kind.device_problem(name, model.noise)
        if problem is not None:
            _fail(doc, ("backend", problem.key), problem.message)
    return BackendSpec(
        kind=model.kind,
        name=name,
        noise=model.noise,
        seed=model.seed,
        block=model.block,
        where=where,
        fractional_gates=model.fractional_gates,
        least_busy=least_busy,
    )


def _device_request(
    model: BackendModel, runtime_service: bool, doc: SourceDoc | None
) -> LeastBusy | None:
    """`name: least_busy` with its filters, where the kind has devices to choose from (and
    fractional gates); the filters without it, or any of it elsewhere, is an input error."""
    for field in ("fractional_gates", "min_qubits", "dynamic_circuits"):
        if field in model.model_fields_set and not runtime_service:
            _fail(
                doc,
                ("backend", field),
                f"{field} is an IBM device setting; on {model.kind} remove it",
            )
    if model.name == LEAST_BUSY:
        if not runtime_service:
            _fail(
                doc,
                ("backend", "name"),
                f"least_busy chooses among IBM devices; on {model.kind} name the device",
            )
        return LeastBusy(min_qubits=model.min_qubits, dynamic_circuits=model.dynamic_circuits)
    for field in ("min_qubits", "dynamic_circuits"):
        if getattr(model, field) is not None:
            _fail(
                doc,
                ("backend", field),
                f"{field} filters the devices least_busy chooses from; add "
                '"name: least_busy" to the backend, or remove it',
            )
    return None


def least_busy_from_block(spec: BackendSpec) -> BackendSpec:
    """A block's default device may be `least_busy` too: then it is a request, unfiltered."""
    if spec.name != LEAST_BUSY or not backend_kind(spec.kind).runtime_service:
        return spec
    return replace(spec, name=None, least_busy=spec.least_busy or LeastBusy())


def build_transpile(model: TranspileModel | bool) -> TranspileSpec:
    if isinstance(model, bool):
        return TranspileSpec() if model else TranspileSpec(enabled=False)
    return TranspileSpec(optimization_level=model.optimization_level, seed=model.seed)


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
