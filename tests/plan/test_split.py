"""Split a sweep into slices, run each slice as its own Aer job, merge: same result as unsplit.

Real Qiskit Aer primitives on circuits whose outcomes are known in closed form, so a
point merged into the wrong place, a dropped register or a lost field fails.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.primitives import BitArray, DataBin, PubResult, SamplerPubResult
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2

from qprim.plan.jobs import JobSpec, Part
from qprim.plan.prepare import Preparer
from qprim.plan.split import merge_pub_results, slice_pub
from qprim.workload.pubs import executions, num_points, pub_shape
from qprim.workload.types import (
    BackendSpec,
    Location,
    Primitive,
    PubSpec,
    TranspileSpec,
    Workload,
)

SHOTS = 4000
THETAS = np.linspace(0.0, np.pi, 5)
PHIS = np.array([0.3, 1.5, 2.8])
WHERE = Location("split.yaml", 1)


def sampler_spec() -> PubSpec:
    """ry(theta) on q0 into `ca`, ry(phi) on q1 into `cb`: a (5, 3) product sweep."""
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = QuantumCircuit(
        QuantumRegister(2, "q"), ClassicalRegister(1, "ca"), ClassicalRegister(1, "cb")
    )
    circuit.ry(theta, 0)
    circuit.ry(phi, 1)
    circuit.measure(0, 0)
    circuit.measure(1, 1)
    grid = np.stack(np.meshgrid(THETAS, PHIS, indexing="ij"), axis=-1)
    return PubSpec(
        index=0,
        circuit_name="ry2",
        circuit=circuit,
        where=WHERE,
        parameter_names=("theta", "phi"),
        parameter_values=grid,
        shots=SHOTS,
    )


def observables(labels: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    array = np.empty(len(labels), dtype=object)
    array[:] = [SparsePauliOp.from_list(label) for label in labels]
    return array.reshape(shape)


def estimator_spec() -> PubSpec:
    """ry(theta) with observables Z, X, 0.5 Z + 2 X (shape (3, 1)) against 4 thetas."""
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    return PubSpec(
        index=0,
        circuit_name="ry",
        circuit=circuit,
        where=WHERE,
        parameter_names=("theta",),
        parameter_values=np.array([[0.0], [0.7], [1.9], [np.pi]]),
        observables=observables([[("Z", 1)], [("X", 1)], [("Z", 0.5), ("X", 2)]], (3, 1)),
    )


def bell_spec() -> PubSpec:
    """A Bell state without parameters: its 6 observables alone make the shape (6,)."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    labels = ["ZZ", "XX", "YY", "ZI", "IX", "XZ"]
    return PubSpec(
        index=0,
        circuit_name="bell",
        circuit=circuit,
        where=WHERE,
        observables=observables([[(label, 1)] for label in labels], (6,)),
    )


def run(primitive: Primitive, specs: list[PubSpec]) -> list[PubResult]:
    """Transpile as qprim does, then submit every PUB as its own Aer job."""
    workload = Workload(
        name="split",
        source=Path("split.yaml"),
        primitive=primitive,
        backend=BackendSpec(),
        transpile=TranspileSpec(seed=7),
        pubs=tuple(specs),
        digest="sha256:" + "0" * 64,
    )
    engine = SamplerV2(seed=11) if primitive == "sampler" else EstimatorV2()
    job = JobSpec(
        workload, 1, 1, tuple(Part(i, spec) for i, spec in enumerate(specs)), workload.digest, "job"
    )
    aer = SimpleNamespace(kind="aer", name="aer_simulator", target=AerSimulator().target)
    request, _ = Preparer().request(job, aer)  # type: ignore[arg-type]
    return [engine.run([pub]).result()[0] for pub in request.pubs]


def split_and_run(primitive: Primitive, spec: PubSpec, bounds: list[int]) -> list[PubResult]:
    """Slice at `bounds` (e.g. [0, 5, 10, 12]) and run each slice as its own job."""
    slices = [slice_pub(spec, a, b) for a, b in pairwise(bounds)]
    assert [pub_shape(s) for s in slices] == [(b - a,) for a, b in pairwise(bounds)]
    return run(primitive, slices)


def test_a_sampler_sweep_split_into_three_jobs_merges_point_by_point() -> None:
    spec = sampler_spec()
    parts = split_and_run("sampler", spec, [0, 6, 11, 15])
    assert [part.data.shape for part in parts] == [(6,), (5,), (4,)]

    merged = merge_pub_results(parts, pub_shape(spec))

    assert type(merged) is SamplerPubResult
    assert merged.metadata["shots"] == SHOTS
    assert list(merged.data) == ["ca", "cb"]
    joined = merged.join_data()
    assert joined.shape == merged.data.ca.shape == merged.data.cb.shape == (5, 3)
    assert joined.num_shots == SHOTS and joined.num_bits == 2
    for i, theta in enumerate(THETAS):
        for j, phi in enumerate(PHIS):
            ca, cb = merged.data.ca.get_counts((i, j)), merged.data.cb.get_counts((i, j))
            assert sum(ca.values()) == sum(cb.values()) == SHOTS
            assert ca.get("1", 0) / SHOTS == pytest.approx(np.sin(theta / 2) ** 2, abs=0.05)
            assert cb.get("1", 0) / SHOTS == pytest.approx(np.sin(phi / 2) ** 2, abs=0.05)
            # join_data puts the first register (ca, clbit 0) rightmost
            both = joined.get_counts((i, j))
            assert sum(both.values()) == SHOTS
            assert sum(n for key, n in both.items() if key[-1] == "1") == ca.get("1", 0)


def test_an_estimator_sweep_split_unevenly_merges_to_the_unsplit_values() -> None:
    spec = estimator_spec()
    [whole] = run("estimator", [spec])
    thetas = spec.parameter_values[:, 0]
    expected = np.array([np.cos(thetas), np.sin(thetas), 0.5 * np.cos(thetas) + 2 * np.sin(thetas)])
    np.testing.assert_allclose(whole.data.evs, expected, atol=1e-12)

    parts = split_and_run("estimator", spec, [0, 5, 10, 12])
    merged = merge_pub_results(parts, pub_shape(spec))

    assert type(merged) is PubResult
    assert merged.data.shape == merged.data.evs.shape == merged.data.stds.shape == (3, 4)
    np.testing.assert_allclose(merged.data.evs, whole.data.evs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(merged.data.stds, whole.data.stds)
    assert merged.metadata["target_precision"] == whole.metadata["target_precision"] == 0.0


def test_a_parameter_free_estimator_pub_splits_along_its_observables() -> None:
    spec = bell_spec()
    assert num_points(spec) == 6 and spec.parameter_values is None

    parts = split_and_run("estimator", spec, [0, 1, 4, 6])
    merged = merge_pub_results(parts, pub_shape(spec))

    np.testing.assert_allclose(merged.data.evs, [1, 1, -1, 0, 0, 0], atol=1e-12)
    assert merged.data.stds.shape == (6,)


def test_slice_pub_takes_the_flattened_broadcast_points() -> None:
    spec = estimator_spec()
    part = slice_pub(spec, 5, 10)
    full_values = np.broadcast_to(spec.parameter_values, (3, 4, 1)).reshape(-1, 1)
    full_observables = np.broadcast_to(spec.observables, (3, 4)).reshape(-1)
    np.testing.assert_array_equal(part.parameter_values, full_values[5:10])
    assert part.observables.shape == (5,)
    assert list(part.observables) == list(full_observables[5:10])
    assert (part.index, part.circuit, part.parameter_names, part.precision) == (
        spec.index,
        spec.circuit,
        spec.parameter_names,
        spec.precision,
    )


@pytest.mark.parametrize(("start", "stop"), [(-1, 3), (3, 3), (4, 2), (0, 16), (15, 16)])
def test_slice_pub_rejects_bounds_outside_the_sweep(start: int, stop: int) -> None:
    with pytest.raises(ValueError, match=r"need 0 <= start < stop <= 15"):
        slice_pub(sampler_spec(), start, stop)


def test_executions_counts_shots_for_the_sampler_and_points_for_the_estimator() -> None:
    sampler = sampler_spec()
    assert executions(sampler) == 15 * SHOTS
    assert executions(slice_pub(sampler, 0, 4)) == 4 * SHOTS
    assert executions(estimator_spec()) == 12
    assert executions(bell_spec()) == 6


def test_a_sampler_pub_without_parameters_is_one_point_and_its_own_only_slice() -> None:
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.measure_all()
    spec = PubSpec(index=3, circuit_name="h", circuit=circuit, where=WHERE, shots=100)
    assert (num_points(spec), executions(spec)) == (1, 100)
    assert slice_pub(spec, 0, 1) == spec
    with pytest.raises(ValueError, match="out of range"):
        slice_pub(spec, 0, 2)


def test_merge_rejects_parts_that_do_not_fill_the_shape_or_disagree_on_fields() -> None:
    def part(n: int, **extra: np.ndarray) -> PubResult:
        return PubResult(DataBin(shape=(n,), evs=np.zeros(n), **extra))

    with pytest.raises(ValueError, match=r"hold 7 points in all \(5 \+ 2\) but shape \(3, 4\)"):
        merge_pub_results([part(5), part(2)], (3, 4))
    with pytest.raises(ValueError, match=r"part 1 has fields \['evs', 'stds'\]"):
        merge_pub_results([part(6), part(6, stds=np.zeros(6))], (3, 4))
    with pytest.raises(ValueError, match="no results"):
        merge_pub_results([], (3, 4))


def test_merge_keeps_trailing_dimensions_and_reshapes_a_single_flat_part() -> None:
    values = np.arange(24.0).reshape(12, 2)
    bits = BitArray.from_samples([format(k, "04b") for k in range(12 * 3)], 4).reshape(12, 3)
    parts = [
        SamplerPubResult(DataBin(shape=(n,), x=values[a:b], c=bits[a:b]), {"shots": 3})
        for a, b, n in [(0, 7, 7), (7, 12, 5)]
    ]
    merged = merge_pub_results(parts, (3, 4))
    np.testing.assert_array_equal(merged.data.x, values.reshape(3, 4, 2))
    assert merged.data.c == bits.reshape(3, 4)
    assert merged.metadata == {"shots": 3}

    single = merge_pub_results([parts[0]], (7,))
    assert single is parts[0]
    assert merge_pub_results([parts[0]], (7, 1)).data.x.shape == (7, 1, 2)
