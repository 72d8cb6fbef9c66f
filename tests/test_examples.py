"""Every example runs through the real CLI, and its numbers are what physics says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qprim import load_run
from tests.support import EXAMPLES, Qprim, run_json_record


def run_example(qprim: Qprim, name: str, *extra: str) -> tuple[dict, object]:
    manifest = qprim.run_json("run", EXAMPLES / name, "--out", "out", *extra)
    saved = load_run(qprim.cwd / "out")
    assert saved.record.document() == run_json_record(manifest)
    assert (manifest["path"], manifest["exit_code"]) == ("out", 0)
    return manifest, saved.result


def probabilities(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {key: value / total for key, value in counts.items()}


def tvd(a: dict[str, float], b: dict[str, float]) -> float:
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def exact_probabilities(circuit_qasm: Path) -> dict[str, float]:
    from qiskit import qasm2
    from qiskit.quantum_info import Statevector

    circuit = qasm2.load(circuit_qasm, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    return Statevector(circuit.remove_final_measurements(inplace=False)).probabilities_dict()


def test_bell_is_half_00_half_11(qprim: Qprim) -> None:
    manifest, result = run_example(qprim, "bell.yaml")
    counts = result[0].data.c.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 4000
    assert abs(counts["00"] / 4000 - 0.5) < 0.04
    assert manifest["workload"]["digest"].startswith("sha256:")
    assert len(manifest["workload"]["digest"]) == len("sha256:") + 64
    assert (qprim.cwd / "out" / "workload" / "bell.yaml").read_text() == (
        EXAMPLES / "bell.yaml"
    ).read_text()


def test_ghz5_gives_only_all_zeros_and_all_ones(qprim: Qprim) -> None:
    _, result = run_example(qprim, "ghz5.yaml")
    counts = result[0].data.c.get_counts()
    assert set(counts) == {"00000", "11111"}
    assert sum(counts.values()) == 2000  # options.default_shots


def test_product_sweep_follows_sin_squared(qprim: Qprim) -> None:
    _, result = run_example(qprim, "sweep.yaml")
    bits = result[0].data.c
    assert bits.shape == (5, 3)
    thetas = np.linspace(0, 3.14159265, 5)
    phis = [0.0, 1.5707963, 3.14159265]
    for i, theta in enumerate(thetas):
        for j, phi in enumerate(phis):
            p = probabilities(bits[i, j].get_counts())
            q0 = sum(v for k, v in p.items() if k[-1] == "1")
            q1 = sum(v for k, v in p.items() if k[-2] == "1")
            assert abs(q0 - np.sin(theta / 2) ** 2) < 0.05, (i, j, p)
            assert abs(q1 - np.sin(phi / 2) ** 2) < 0.05, (i, j, p)


def test_estimator_bell_observables_and_cosine_sweep(qprim: Qprim) -> None:
    manifest, result = run_example(qprim, "estimator.yaml")
    np.testing.assert_allclose(result[0].data.evs, [1.0, 1.0, -1.0, 1.5, 0.0], atol=1e-9)
    thetas = np.linspace(0, 3.14159265, 9)
    np.testing.assert_allclose(result[1].data.evs, np.cos(thetas), atol=1e-6)
    assert manifest["primitive"] == "estimator"
    assert [pub["shape"] for pub in manifest["pubs"]] == [[5], [9]]


def test_qasm_file_matches_the_exact_distribution(qprim: Qprim) -> None:
    _, result = run_example(qprim, "qasm-file.yaml")
    measured = probabilities(result[0].data.c.get_counts())
    exact = exact_probabilities(EXAMPLES / "circuits" / "teleportation_n3.qasm")
    assert tvd(measured, exact) < 0.05


def test_qpy_circuits_by_select_and_index(qprim: Qprim) -> None:
    from qiskit import qpy
    from qiskit.quantum_info import Statevector

    manifest, result = run_example(qprim, "qpy-select.yaml")
    with open(EXAMPLES / "circuits" / "trotter.qpy", "rb") as handle:
        circuits = {circuit.name: circuit for circuit in qpy.load(handle)}
    assert [pub["circuit"] for pub in manifest["pubs"]] == ["two_steps", "three_steps"]
    for index, name in enumerate(["trotter_2", "trotter_3"]):
        state = Statevector(circuits[name].remove_final_measurements(inplace=False))
        measured = probabilities(result[index].data.meas.get_counts())
        assert tvd(measured, state.probabilities_dict()) < 0.06, name


def test_bare_qpy_file_runs_every_circuit(qprim: Qprim) -> None:
    manifest, result = run_example(qprim, "circuits/trotter.qpy", "--shots", "500")
    assert len(result) == 3
    assert [pub["shots"] for pub in manifest["pubs"]] == [500, 500, 500]
    assert all(sum(r.data.meas.get_counts().values()) == 500 for r in result)


def test_noisy_fake_device_shows_noise(qprim: Qprim) -> None:
    manifest, result = run_example(qprim, "noisy-manila.yaml")
    p = probabilities(result[0].data.c.get_counts())
    noise = p.get("01", 0.0) + p.get("10", 0.0)
    assert 0.0 < noise < 0.15, p
    assert manifest["backend"] == {
        "kind": "aer",
        "name": "fake_manila",
        "noise": True,
        "seed": 42,
        "block": None,
    }


def test_noiseless_fake_device_has_no_noise(qprim: Qprim, tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(
        (EXAMPLES / "noisy-manila.yaml").read_text().replace("noise: true", "noise: false")
    )
    manifest = qprim.run_json("run", quiet, "--out", "quiet")
    counts = load_run(qprim.cwd / "quiet").result[0].data.c.get_counts()
    assert set(counts) == {"00", "11"}
    assert manifest["pubs"][0]["depth"] > 2  # transpiled to the device's basis


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_validates(qprim: Qprim, name: str) -> None:
    summary = qprim.run_json("validate", EXAMPLES / name)
    assert summary["digest"].startswith("sha256:")
    assert summary["pubs"]
