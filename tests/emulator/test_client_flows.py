"""The real qiskit-ibm-runtime client against the emulator: happy paths."""

from __future__ import annotations

from typing import Any

import pytest
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError, RuntimeJobNotFound

from qprim.testing import NOISE_TAG, RuntimeEmulator, runtime_service
from tests.emulator.emulator_helpers import bell, isa, run_bell


def test_service_lists_fake_devices(ibm_service: Any) -> None:
    names = {b.name for b in ibm_service.backends()}
    assert {"fake_manila", "fake_brisbane"} <= names
    assert ibm_service.backend("fake_manila").num_qubits == 5
    assert ibm_service.backend("fake_brisbane").num_qubits == 127


def test_sampler_bell_is_noiseless_and_balanced(ibm_service: Any) -> None:
    job = run_bell(ibm_service, shots=2000)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 2000
    assert abs(counts.get("00", 0) - 1000) < 150
    assert job.status() == "DONE"
    metrics = job.metrics()
    assert metrics["timestamps"]["finished"] and metrics["usage"]["status"] == "final"


def test_sampler_with_noise_tag_shows_errors(ibm_service: Any) -> None:
    counts = run_bell(ibm_service, tags=[NOISE_TAG]).result()[0].data.meas.get_counts()
    assert set(counts) - {"00", "11"}


def test_estimator_bell_zz_on_brisbane(ibm_service: Any) -> None:
    backend = ibm_service.backend("fake_brisbane")
    circuit = isa(bell(measure=False), backend)
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    result = EstimatorV2(mode=backend).run([(circuit, observable)]).result()
    assert float(result[0].data.evs) == pytest.approx(1.0, abs=0.1)


def test_job_found_from_new_service_and_by_tag(ibm_emulator: RuntimeEmulator, tag: str) -> None:
    job = run_bell(runtime_service(ibm_emulator.url), tags=[tag])
    counts = job.result()[0].data.meas.get_counts()
    fresh = runtime_service(ibm_emulator.url)
    again = fresh.job(job.job_id())
    assert again.result()[0].data.meas.get_counts() == counts
    assert [j.job_id() for j in fresh.jobs(job_tags=[tag])] == [job.job_id()]
    assert fresh.jobs(job_tags=["no-such-tag"]) == []
    with pytest.raises(RuntimeJobNotFound):
        fresh.job("emu-does-not-exist")
    with pytest.raises(RuntimeInvalidStateError):
        again.cancel()  # already final -> 409


def test_jobs_paging_returns_every_match(ibm_service: Any, tag: str) -> None:
    """More matches than one page (the client pages by 20 when limit=None)."""
    ids = [run_bell(ibm_service, tags=[tag], shots=10).job_id() for _ in range(23)]
    found = ibm_service.jobs(job_tags=[tag], limit=None)
    assert sorted(j.job_id() for j in found) == sorted(ids)
    newest_first = [j.job_id() for j in ibm_service.jobs(job_tags=[tag], limit=5, skip=2)]
    assert newest_first == ids[::-1][2:7]
    oldest_first = ibm_service.jobs(job_tags=[tag], limit=3, descending=False)
    assert [j.job_id() for j in oldest_first] == ids[:3]


def test_seed_option_makes_results_repeatable(ibm_service: Any) -> None:
    backend = ibm_service.backend("fake_manila")
    circuit = isa(bell(), backend)

    def counts() -> dict[str, int]:
        sampler = SamplerV2(mode=backend)
        sampler.options.simulator.seed_simulator = 42
        return sampler.run([circuit], shots=500).result()[0].data.meas.get_counts()

    assert counts() == counts()
