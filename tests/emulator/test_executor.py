"""The client-side primitives (the `executor` program) and a hardware user's daily calls,
through the real qiskit-ibm-runtime client against the emulator."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError
from qiskit_ibm_runtime.executor_estimator import Estimator
from qiskit_ibm_runtime.executor_sampler import Sampler

from qprim.testing import RuntimeEmulator
from qprim.testing.emulator_jobs import Billing
from tests.emulator.emulator_helpers import bell, isa, wait_for


@pytest.fixture
def manila(ibm_service: Any) -> Any:
    return ibm_service.backend("fake_manila")


def test_executor_sampler_gives_the_bell_state_and_repeats_with_a_seed(manila: Any) -> None:
    def counts() -> dict[str, int]:
        sampler = Sampler(mode=manila)
        sampler.options.simulator.seed_simulator = 42
        job = sampler.run([isa(bell(), manila)], shots=2000)
        assert job.primitive_id == "executor"
        return job.result()[0].data.meas.get_counts()

    first = counts()
    assert set(first) == {"00", "11"} and abs(first["00"] / 2000 - 0.5) < 0.05
    assert counts() == first


def test_executor_sampler_sweep_follows_sin_squared_with_and_without_twirling(
    manila: Any,
) -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    circuit.measure_all()
    angles = np.linspace(0, np.pi, 5)
    for twirl in (False, True):
        sampler = Sampler(mode=manila)
        sampler.options.twirling.enable_gates = twirl
        sampler.options.twirling.enable_measure = twirl
        bits = sampler.run([(isa(circuit, manila), angles[:, None])], shots=2000).result()[0]
        for point, angle in enumerate(angles):
            counts = bits.data.meas[point].get_counts()
            ones = counts.get("1", 0) / sum(counts.values())
            assert abs(ones - np.sin(angle / 2) ** 2) < 0.05, (twirl, point, counts)


def test_executor_estimator_measures_the_bell_state(manila: Any) -> None:
    circuit = isa(bell(measure=False), manila)
    observables = [
        SparsePauliOp(label).apply_layout(circuit.layout) for label in ("ZZ", "XX", "YY")
    ]
    evs = Estimator(mode=manila).run([(circuit, observables)]).result()[0].data.evs
    np.testing.assert_allclose(evs, [1.0, 1.0, -1.0], atol=0.06)


def test_the_default_path_emits_no_deprecation_warning(manila: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", PendingDeprecationWarning)
        warnings.simplefilter("error", FutureWarning)
        Sampler(mode=manila).run([isa(bell(), manila)], shots=10).result()


def test_a_dry_run_is_estimated_never_run_nor_billed(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, manila: Any
) -> None:
    job = Sampler(mode=manila).run([isa(bell(), manila)], shots=4000, dry_run=True)
    assert job.backend().name == "mock_manila"
    wait_for(lambda: ibm_service.job(job.job_id()).status() == "DONE", 60)
    estimate = ibm_service.job(job.job_id()).usage_estimation["quantum_seconds"]
    assert estimate == Billing().seconds(4000)
    assert ibm_service.usage()["usage_consumed_seconds"] == 0
    assert ibm_service.jobs(limit=None) == []  # mock jobs are listed only when asked for


def test_usage_reports_the_quota_left(ibm_emulator: RuntimeEmulator, ibm_service: Any) -> None:
    assert ibm_service.usage()["usage_limit_seconds"] is None
    ibm_emulator.set_usage(600, consumed_seconds=100)
    Sampler(mode=ibm_service.backend("fake_lima")).run(
        [isa(bell(), ibm_service.backend("fake_lima"))], shots=1000
    ).result()
    usage = ibm_service.usage()
    assert usage["usage_remaining_seconds"] == pytest.approx(600 - 100 - Billing().seconds(1000))


def test_device_status_pending_jobs_and_queue_position(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, manila: Any
) -> None:
    ibm_emulator.set_device("fake_manila", other_jobs=7)
    sampler = Sampler(mode=manila)
    sampler.options.environment.job_tags = ["qprim-fault:queue=30"]
    first = sampler.run([isa(bell(), manila)], shots=10)
    second = sampler.run([isa(bell(), manila)], shots=10)
    assert manila.status().pending_jobs == 9
    assert first.metrics()["position_in_queue"] == 8
    assert second.metrics()["position_in_queue"] == 9
    ibm_emulator.set_device("fake_lima", status="paused")
    assert ibm_service.backend("fake_lima").status().operational is False
    first.cancel()
    second.cancel()


def test_a_fail_code_tag_fails_the_first_jobs_with_that_code(manila: Any) -> None:
    sampler = Sampler(mode=manila)
    sampler.options.environment.job_tags = ["qprim-fault:fail-code=1010:1"]
    failed = sampler.run([isa(bell(), manila)], shots=10)
    with pytest.raises(RuntimeJobFailureError, match="Error code 1010"):
        failed.result()
    assert sampler.run([isa(bell(), manila)], shots=10).result()[0].data.meas.num_shots == 10
