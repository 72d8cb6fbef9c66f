"""The resolved workload: what every other part of qprim consumes.

The loader turns a file (YAML, QPY, QASM) into these frozen objects after every
check of spec section 3 has passed, so nothing downstream re-validates input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from qprim.backends.aer.devices import AER_SIMULATOR
from qprim.backends.base import Primitive
from qprim.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    from qiskit import QuantumCircuit

BackendKind = Literal["aer", "ibm"]  # the keys of qprim.backends.kinds.KINDS

DEFAULT_SHOTS = 1024


@dataclass(frozen=True)
class Location:
    """Where a piece of input was written: reported as `FILE:LINE`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class WorkloadError(InputError):
    """An input error in a workload, reported as `FILE:LINE: message` (exit code 2)."""

    def __init__(self, where: Location, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.detail = message


LEAST_BUSY = "least_busy"


@dataclass(frozen=True)
class LeastBusy:
    """`backend: {name: least_busy, ...}`: the filters of the device choice. The request,
    not the device it picks, is what the digest covers."""

    min_qubits: int | None = None
    dynamic_circuits: bool | None = None

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class BackendSpec:
    kind: BackendKind = "aer"
    # ibm: None until resolved from the block, or (least_busy) until the device is chosen
    name: str | None = AER_SIMULATOR
    noise: bool = False
    seed: int | None = None
    block: str | None = None
    where: Location | None = None
    fractional_gates: bool = False  # ibm: the device's fractional gates (rzz, rx) in its target
    least_busy: LeastBusy | None = None  # ibm: the device is chosen when the work is submitted


@dataclass(frozen=True)
class TranspileSpec:
    enabled: bool = True
    optimization_level: int = 1
    seed: int | None = None


ExecutionMode = Literal["auto", "job", "batch", "session"]
Primitives = Literal["executor", "legacy"]


@dataclass(frozen=True)
class ExecutionSpec:
    """`execution:` (and `retry:`): limits that split the workload into jobs, the IBM
    execution mode, primitives and time and usage limits, and resubmission of jobs that
    failed for a transient reason.

    None means "the backend's own limit" (none on Aer, the service's on IBM)."""

    max_pubs_per_job: int | None = None
    max_executions_per_job: int | None = None
    mode: ExecutionMode = "auto"
    where: Location | None = None
    primitives: Primitives | None = None  # ibm: executor (client-side) unless legacy
    max_execution_time: int | None = None  # ibm: seconds of quantum time per job
    max_time: int | None = None  # ibm batch/session: seconds the group may stay open
    max_usage_seconds: float | None = None  # ibm: refuse to submit an estimate above this
    usage_where: Location | None = None  # the max_usage_seconds line, for its refusal
    retry_failed: int = 0  # ibm: resubmissions of a job that failed for a transient reason


@dataclass(frozen=True)
class PubSpec:
    """One PUB in the circuit's own (virtual) qubits, parameters bound by name."""

    index: int
    circuit_name: str
    circuit: QuantumCircuit  # logical circuit, parameters unbound
    where: Location
    parameter_names: tuple[str, ...] = ()
    # shape (*pub_shape, len(parameter_names)); None when the circuit has no parameters
    parameter_values: np.ndarray | None = None
    shots: int | None = None  # sampler: resolved (pub, else options.default_shots, else 1024)
    # estimator: numpy object array of SparsePauliOp (virtual qubits), any shape
    observables: np.ndarray | None = None
    precision: float | None = None


@dataclass(frozen=True)
class Expectation:
    """One `expect:` check, validated against its PUB at load time."""

    pub: int
    where: Location
    tolerance: float
    counts: dict[str, float] | None = None  # sampler: expected probabilities
    evs: Any = None  # estimator: nested list of floats (broadcast against the PUB's evs)
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    source: Path  # the file the user named
    primitive: Primitive
    backend: BackendSpec
    transpile: TranspileSpec
    pubs: tuple[PubSpec, ...]
    digest: str  # "sha256:" + 64 hex digits
    options: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    expect: tuple[Expectation, ...] = ()
    execution: ExecutionSpec = ExecutionSpec()
    files: tuple[Path, ...] = ()  # every file read (source first), copied into the run folder
