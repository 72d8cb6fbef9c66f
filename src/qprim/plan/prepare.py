"""Turn a JobSpec's logical PUBs into ISA PUBs for one backend target, only when the job
has to be submitted (a rerun that reuses its jobs transpiles nothing).

Transpiles per the workload's `transpile:` settings, once per workload PUB and command
(the slices of a split PUB share one transpiled circuit), binds parameter values by
name and maps estimator observables through the transpiled layout (`apply_layout`).
Without `transpile.seed` the seed is derived from the workload's digest, so every
process transpiles the same workload the same way and the parts of a split PUB,
submitted by different runs after a crash, still agree.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from qprim.backends.base import JobRequest
from qprim.workload.types import WorkloadError

if TYPE_CHECKING:
    from qiskit import QuantumCircuit

    from qprim.backends.base import Backend
    from qprim.plan.jobs import JobSpec, Part
    from qprim.workload.types import PubSpec, Workload

# Parameter values a journal row keeps for `qprim fetch` to label points by (800 kB of
# JSON at most); a larger sweep's fetched points are labelled by their index.
MAX_RECORDED_VALUES = 100_000


class Preparer:
    """Builds job requests; holds the transpiled circuits of this command."""

    def __init__(self) -> None:
        self._isa: dict[tuple[str, int, str, str], QuantumCircuit] = {}
        self._lock = threading.Lock()

    def request(self, job: JobSpec, backend: Backend) -> tuple[JobRequest, list[dict[str, Any]]]:
        """The request to submit, and the facts of each part (depth and size after
        transpilation) that the run's tables show."""
        w = job.workload
        circuits = self._transpiled(w, job.pubs, backend)
        pubs = [_pub(w.primitive, part.spec, circuits[part.pub]) for part in job.parts]
        facts = [_facts(part, circuits[part.pub]) for part in job.parts]
        request = JobRequest(
            primitive=w.primitive,
            pubs=pubs,
            options=_options(w),
            tags=w.tags,
            primitives=w.execution.primitives or "executor",
        )
        return request, facts

    def _transpiled(
        self, w: Workload, indices: list[int], backend: Backend
    ) -> dict[int, QuantumCircuit]:
        def key(index: int) -> tuple[str, int, str, str]:
            return (w.digest, index, backend.kind, backend.name)

        with self._lock:  # one transpilation at a time: it is CPU-bound anyway
            missing = [i for i in indices if key(i) not in self._isa]
            if missing:
                done = transpile(w, [w.pubs[i] for i in missing], backend)
                self._isa.update((key(i), isa) for i, isa in zip(missing, done, strict=True))
            return {i: self._isa[key(i)] for i in indices}


def _options(w: Workload) -> dict[str, Any]:
    """The primitive's options: the workload's, with its `execution.max_execution_time`."""
    limit = w.execution.max_execution_time
    return w.options if limit is None else {**w.options, "max_execution_time": limit}


def transpile(w: Workload, pubs: list[PubSpec], backend: Backend) -> list[Any]:
    """The PUBs' circuits for the backend's target. A circuit the transpiler cannot map
    onto the target is the workload's problem: an input error at that PUB's line."""
    circuits = [pub.circuit for pub in pubs]
    if not w.transpile.enabled:
        return circuits
    from qiskit.transpiler import generate_preset_pass_manager

    seed = w.transpile.seed
    manager = generate_preset_pass_manager(
        optimization_level=w.transpile.optimization_level,
        target=backend.target,
        seed_transpiler=seed if seed is not None else int(w.digest[7:15], 16),
    )
    try:
        return list(manager.run(circuits))
    except Exception:  # the transpiler raises many types; find the circuit it refused
        for pub in pubs:
            try:
                manager.run(pub.circuit)
            except Exception as exc:
                raise WorkloadError(
                    pub.where,
                    f"circuit '{pub.circuit_name}' cannot be transpiled for "
                    f"{backend.kind}:{backend.name}: {exc}; change the circuit, the "
                    "transpile: settings, or the backend",
                ) from None
        raise


def _pub(primitive: str, spec: PubSpec, isa: QuantumCircuit) -> Any:
    from qiskit.primitives.containers.bindings_array import BindingsArray
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    bindings = (
        BindingsArray.coerce({spec.parameter_names: spec.parameter_values})
        if spec.parameter_values is not None
        else None
    )
    if primitive == "sampler":
        return SamplerPub.coerce((isa, bindings, spec.shots))
    return EstimatorPub.coerce((isa, _map_observables(spec, isa), bindings, spec.precision))


def _facts(part: Part, isa: QuantumCircuit) -> dict[str, Any]:
    """What the journal keeps of a part beside its job id: enough for `qprim fetch`, on a
    machine without the workload, to label the result's points as `qprim run` does."""
    return {
        "pub": part.pub,
        "depth": isa.depth(),
        "size": isa.size(),
        "points": list(part.points) if part.points else None,
        "parameters": _parameters(part.spec),
    }


def _parameters(spec: PubSpec) -> dict[str, Any] | None:
    """The part's parameter values by name, unless too many to keep in a journal row."""
    values = spec.parameter_values
    if values is None or not spec.parameter_names or values.size > MAX_RECORDED_VALUES:
        return None
    return {"names": list(spec.parameter_names), "values": values.astype(float).tolist()}


def _map_observables(spec: PubSpec, isa: QuantumCircuit) -> list[Any]:
    """Observables are written on the circuit's virtual qubits; move them onto the device's."""
    import numpy as np

    layout, width = isa.layout, isa.num_qubits

    def on_device(op: Any) -> Any:
        return op.apply_layout(layout) if layout is not None else op.apply_layout(None, width)

    mapped = np.vectorize(on_device, otypes=[object])(spec.observables)
    return mapped.tolist()
