"""The QASMBench corpus end to end: counts from `qprim run` against exact probabilities.

Every valid file of /work/shared/corpus/qasmbench/ runs as one sampler PUB of a single
workload through the real CLI (Prefect flow, Aer); each PUB's joined counts are compared
with `exact.exact_probabilities` (Statevector, with exact branching for mid-circuit
measurements, resets and conditions) by total variation distance. The two invalid
files must be refused with exit 2, the file name and line, and nothing submitted.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, qasm2

from qprim import load_run
from tests.exact import exact_probabilities, needs_branching
from tests.support import CORPUS

INVALID = {"vqe_uccsd_n4.qasm": 225, "vqe_uccsd_n6.qasm": 2286}
SHOTS = 4000
# Per-circuit probability allowed for a false failure (see tvd_tolerance).
FALSE_FAILURE = 1e-6
# The five circuits the README/brief name as needing mid-circuit treatment.
BRANCHING = {"bb84_n8", "inverseqft_n4", "ipea_n2", "qec_sm_n5", "shor_n5"}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} missing")


def valid_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.glob("*.qasm") if p.name not in INVALID)


def load(path: Path) -> QuantumCircuit:
    """As qprim loads a .qasm file."""
    return qasm2.load(str(path), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def has_measurements(circuit: QuantumCircuit) -> bool:
    return any(inst.operation.name == "measure" for inst in circuit.data)


def tvd(p: dict[str, float], q: dict[str, float]) -> float:
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in p.keys() | q.keys())


def tvd_tolerance(exact: dict[str, float], shots: int) -> float:
    """A bound the empirical TVD exceeds with probability below FALSE_FAILURE.

    Mean: E|f_i - p_i| <= sqrt(p_i (1 - p_i) / N) (Jensen), so
    E[TVD] <= 1/2 sum_i sqrt(p_i (1 - p_i) / N)  (<= 1/2 sqrt(K / N) for K outcomes).
    Spread: the TVD of N i.i.d. shots changes by at most 1/N when one shot changes, so
    McDiarmid gives P(TVD > E[TVD] + t) <= exp(-2 N t^2); t = sqrt(ln(1/delta) / (2N)).
    For 4000 shots t ~= 0.042: a deterministic circuit gets ~0.042, a uniform 4-bit
    one ~0.09, and the 1024-outcome ising_n10 (broad distribution) ~0.27, which is what
    4000 shots over 1024 outcomes can resolve. Bit-order mistakes are caught on top of
    this by the support check (no outcome the exact distribution rules out).
    """
    mean = 0.5 * sum(math.sqrt(p * (1 - p) / shots) for p in exact.values())
    spread = math.sqrt(math.log(1 / FALSE_FAILURE) / (2 * shots))
    return mean + spread


# -- the exact reference itself --------------------------------------------------


def test_exact_bell():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    got = exact_probabilities(qc)
    assert got.keys() == {"00", "11"}
    assert got["00"] == pytest.approx(0.5) and got["11"] == pytest.approx(0.5)
    assert not needs_branching(qc)


def test_exact_bit_order_and_unmeasured_clbits():
    qc = QuantumCircuit(2, 3)
    qc.x(0)
    qc.measure(0, 2)  # clbit 2 is leftmost; clbit 0 and 1 never written read 0
    qc.measure(1, 0)
    assert exact_probabilities(qc) == pytest.approx({"100": 1.0})


def test_exact_measure_then_conditional_x():
    """H, measure, X on another qubit if the bit is 1: outcomes 00 and 11, half each."""
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    assert needs_branching(qc)
    assert exact_probabilities(qc) == pytest.approx({"00": 0.5, "11": 0.5})


def test_exact_condition_on_register_value():
    qc = QuantumCircuit(3, 2)
    qc.x(0)
    qc.measure(0, 0)  # c = 0b01 = 1
    with qc.if_test((qc.cregs[0], 1)):
        qc.x(2)
    qc.measure(2, 1)
    assert exact_probabilities(qc) == pytest.approx({"11": 1.0})


def test_exact_reset():
    """H then reset: the qubit is back to |0> whatever the branch."""
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.reset(0)
    qc.measure([0, 1], [0, 1])
    assert needs_branching(qc)
    assert exact_probabilities(qc) == pytest.approx({"00": 0.5, "10": 0.5})


def test_exact_mid_circuit_remeasure_same_clbit():
    """A clbit overwritten by a later measurement keeps the last value (as in bb84_n8)."""
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.h(0)
    qc.measure(0, 0)
    assert exact_probabilities(qc) == pytest.approx({"0": 0.5, "1": 0.5})


# -- the corpus through qprim ----------------------------------------------------


def test_corpus_needs_branching_exactly_where_expected():
    assert {p.stem for p in valid_files() if needs_branching(load(p))} == BRANCHING


@pytest.mark.slow
def test_corpus_counts_match_exact_probabilities(qprim, tmp_path):
    files = valid_files()
    lines = [
        "qprim: 1",
        "name: qasmbench",
        "primitive: sampler",
        "backend: {kind: aer, seed: 1234}",
    ]
    lines.append("circuits:")
    expected: list[tuple[str, dict[str, float], int]] = []
    for path in files:
        circuit = load(path)
        lines.append(f"  {path.stem}:")
        lines.append(f"    file: {path}")
        if not has_measurements(circuit):  # qprim refuses those in a sampler PUB
            lines.append("    measure_all: true")
            circuit.measure_all()
        expected.append((path.name, exact_probabilities(circuit), circuit.num_clbits))
    lines.append("pubs:")
    lines.extend(f"  - {{circuit: {path.stem}, shots: {SHOTS}}}" for path in files)
    workload = tmp_path / "corpus.yaml"
    workload.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"

    manifest = qprim.run_json("run", workload, "--out", out, timeout=600)

    assert manifest["primitive"] == "sampler"
    saved = load_run(out)
    assert len(saved.result) == len(files)
    report = []
    failures = []
    for i, (name, exact, width) in enumerate(expected):
        counts = saved.result[i].join_data().get_counts()
        shots = sum(counts.values())
        assert shots == SHOTS, f"{name}: {shots} shots"
        assert {len(k) for k in counts} == {width}, f"{name}: bitstrings of {width} bits"
        observed = {k: v / shots for k, v in counts.items()}
        distance = tvd(observed, exact)
        tolerance = tvd_tolerance(exact, shots)
        impossible = {k: v for k, v in counts.items() if exact.get(k, 0.0) < 1e-9}
        report.append((distance, tolerance, name))
        if distance > tolerance or impossible:
            failures.append(
                f"{name}: TVD {distance:.4f} > {tolerance:.4f} or outcomes the exact "
                f"distribution rules out {impossible}; top exact "
                f"{sorted(exact.items(), key=lambda kv: -kv[1])[:4]}, top observed "
                f"{sorted(counts.items(), key=lambda kv: -kv[1])[:4]}"
            )
    print("\n".join(f"{n}: TVD {d:.4f} (tolerance {t:.4f})" for d, t, n in sorted(report)))
    assert not failures, "\n".join(failures)


def invalid_files() -> list[str]:
    return sorted(INVALID)


def assert_refused(qprim, done, name: str) -> None:
    line = INVALID[name]
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"{name}:{line}:" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert qprim.aer_jobs() == []
    assert not (qprim.cwd / "qprim-runs").exists()


@pytest.mark.parametrize("name", invalid_files())
def test_invalid_file_refused_directly(qprim, name):
    if not (CORPUS / name).is_file():
        pytest.skip(f"{name} missing from the corpus")
    done = qprim.run("run", CORPUS / name)
    assert_refused(qprim, done, name)


@pytest.mark.parametrize("name", invalid_files())
def test_invalid_file_refused_in_workload(qprim, tmp_path, name):
    if not (CORPUS / name).is_file():
        pytest.skip(f"{name} missing from the corpus")
    workload = tmp_path / "bad.yaml"
    workload.write_text(
        "qprim: 1\n"
        "primitive: sampler\n"
        "backend: {kind: aer, seed: 1}\n"
        "circuits:\n"
        f"  good: {{file: {CORPUS / 'bell_n4.qasm'}}}\n"
        f"  bad: {{file: {CORPUS / name}}}\n"
        "pubs:\n"
        "  - {circuit: good, shots: 100}\n"
        "  - {circuit: bad, shots: 100}\n"
    )
    done = qprim.run("run", workload)
    assert_refused(qprim, done, name)
