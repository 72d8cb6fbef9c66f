"""PUBs built in Python -> a checked, digested Workload, as if read from a file.

For people who build circuits in code (`qprim.run_pubs`, `qprim.tasks.submit_pubs`):
PUBs come in every form Qiskit's primitives accept (a circuit, `(circuit, values,
shots)`, `(circuit, observables, values, precision)`, `SamplerPub`, `EstimatorPub`) and
are coerced by Qiskit itself, then checked as the loader checks a file: parameters all
bound, values finite, measurements for a sampler, none mid-circuit for an estimator
(final ones are removed), observables as wide as the circuit. Parameter values are kept
by the circuit's parameter NAMES, and circuits are digested as canonical OpenQASM 3, so
the same PUBs built in two processes are the same work: one job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np
from pydantic import BaseModel, ValidationError

from qprim.errors import InputError
from qprim.workload.backend import build_backend, build_transpile
from qprim.workload.circuits import for_estimator, has_measurements
from qprim.workload.digest import workload_digest
from qprim.workload.model import BackendModel, TranspileModel
from qprim.workload.types import (
    DEFAULT_SHOTS,
    Location,
    Primitive,
    PubSpec,
    Workload,
    WorkloadError,
)


@dataclass(frozen=True)
class PubPosition(Location):
    """Where a PUB given in Python is: its index in the list, said as `pubs[2]`."""

    def __str__(self) -> str:
        return f"pubs[{self.line}]"


class PubSettings(TypedDict, total=False):
    """How PUBs built in Python run: what a workload file says around its `pubs:`.

    `primitive`: "sampler" (default) or "estimator"; `backend`: an Aer device name
    (default "aer_simulator", or "fake_manila", ...) or a mapping like a workload file's
    `backend:` (`{"kind": "ibm", "block": "my-ibm", "name": "ibm_fez"}`); `shots` /
    `precision`: for PUBs that set none; `options`, `transpile`: a workload file's
    `options:` and `transpile:`; `name`: the workload's name (run folder, journal, Prefect
    UI; default "pubs"); `tags`: a workload file's `tags:`."""

    primitive: Primitive
    backend: str | Mapping[str, Any]
    shots: int | None
    precision: float | None
    options: Mapping[str, Any] | None
    transpile: bool | Mapping[str, Any]
    name: str
    tags: Sequence[str]


def workload_from_pubs(pubs: Sequence[Any], **settings: Unpack[PubSettings]) -> Workload:
    """A checked, digested workload of `pubs` (see `PubSettings` for the settings)."""
    unknown = sorted(set(settings) - set(PubSettings.__annotations__))
    if unknown:
        raise TypeError(
            f"unexpected settings {unknown}; known: {list(PubSettings.__annotations__)}"
        )
    primitive = settings.get("primitive", "sampler")
    if primitive not in ("sampler", "estimator"):
        raise InputError(f"primitive must be 'sampler' or 'estimator' (got {primitive!r})")
    if isinstance(pubs, str) or not isinstance(pubs, Sequence) or not pubs:
        raise InputError("pubs must be a non-empty list of PUBs, e.g. [(circuit, values)]")
    options = dict(settings.get("options") or {})
    if primitive == "sampler":
        default = settings.get("shots") or options.get("default_shots") or DEFAULT_SHOTS
        specs = tuple(_sampler_pub(i, pub, default) for i, pub in enumerate(pubs))
    else:
        default = settings.get("precision") or options.get("default_precision")
        specs = tuple(_estimator_pub(i, pub, default) for i, pub in enumerate(pubs))
    backend = settings.get("backend", "aer_simulator")
    transpile = settings.get("transpile", True)
    name = settings.get("name", "pubs")
    workload = Workload(
        name=name,
        source=Path(f"<python:{name}>"),
        primitive=primitive,
        backend=build_backend(
            _model(
                BackendModel,
                {"name": backend} if isinstance(backend, str) else dict(backend),
                "backend",
            ),
            None,
        ),
        transpile=build_transpile(
            transpile
            if isinstance(transpile, bool)
            else _model(TranspileModel, dict(transpile), "transpile")
        ),
        pubs=specs,
        digest="",
        options=options,
        tags=tuple(settings.get("tags", ())),
    )
    return replace(workload, digest=workload_digest(workload))


def _sampler_pub(index: int, pub: Any, shots: Any) -> PubSpec:
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    where = PubPosition("pubs", index)
    coerced = _coerce(SamplerPub.coerce, pub, shots, where)
    circuit = coerced.circuit
    if not has_measurements(circuit):
        raise WorkloadError(
            where,
            "the circuit has no measurements, so a sampler would return nothing; add them "
            "(circuit.measure_all()) or run it with primitive='estimator'",
        )
    return _spec(index, circuit, coerced, where, shots=int(coerced.shots))


def _estimator_pub(index: int, pub: Any, precision: Any) -> PubSpec:
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.quantum_info import SparsePauliOp

    where = PubPosition("pubs", index)
    coerced = _coerce(EstimatorPub.coerce, pub, precision, where)
    logical = for_estimator(coerced.circuit)
    if logical is None:
        raise WorkloadError(
            where,
            "the circuit measures mid-circuit; an estimator needs a circuit without "
            "measurements (final measurements are removed automatically)",
        )
    sparse = coerced.observables.sparse_observables_array()
    observables = np.empty(sparse.shape, dtype=object)
    for point in np.ndindex(sparse.shape):
        observables[point] = SparsePauliOp.from_sparse_observable(sparse[point])
    precision = None if coerced.precision is None else float(coerced.precision)
    return _spec(index, logical, coerced, where, observables=observables, precision=precision)


def _spec(index: int, circuit: Any, coerced: Any, where: PubPosition, **load: Any) -> PubSpec:
    """The PUB as a workload file's loader makes it: its parameter values by name."""
    names, values = _parameters(coerced, where)
    return PubSpec(
        index=index,
        circuit_name=circuit.name,
        circuit=circuit,
        where=where,
        parameter_names=names,
        parameter_values=values,
        **load,
    )


def _coerce(coerce: Any, pub: Any, default: Any, where: PubPosition) -> Any:
    """Qiskit's own reading of a PUB (shapes, parameter count, observable widths)."""
    try:
        return coerce(pub, default)
    except (ValueError, TypeError, KeyError) as exc:
        raise WorkloadError(where, f"not a valid PUB: {exc}") from None


def _parameters(pub: Any, where: PubPosition) -> tuple[tuple[str, ...], np.ndarray | None]:
    """The values by the circuit's parameter names: shape (*sweep, len(names))."""
    parameters = list(pub.circuit.parameters)
    if not parameters:
        return (), None
    try:
        values = np.asarray(pub.parameter_values.as_array(parameters), dtype=np.float64)
    except ValueError as exc:
        raise WorkloadError(where, f"the parameter values do not bind the circuit: {exc}") from None
    if not np.all(np.isfinite(values)):
        raise WorkloadError(where, "parameter values must be finite numbers")
    return tuple(parameter.name for parameter in parameters), values


def _model(model: type[BaseModel], data: dict[str, Any], what: str) -> Any:
    """Settings checked by the same models as a workload file's, errors said in words."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or what}: {error['msg']}" for error in exc.errors()
        )
        raise InputError(f"{what}: {problems}") from None
