"""Every QASMBench corpus file loads as a bare .qasm input (except the two invalid ones)."""

from __future__ import annotations

import pytest

from qprim.workload import WorkloadError, load_workload, summarize
from tests.support import CORPUS

INVALID = {"vqe_uccsd_n4", "vqe_uccsd_n6"}
FILES = sorted(p for p in CORPUS.glob("*.qasm") if p.stem not in INVALID)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_file_loads(path):
    w = load_workload(path)
    (pub,) = w.pubs
    assert pub.circuit_name == path.stem and pub.shots == 1024
    summary = summarize(w)
    assert summary["pubs"][0]["qubits"] == pub.circuit.num_qubits > 0


def test_no_measurement_circuit_is_refused_for_sampler(tmp_path):
    """Every corpus file measures; strip the measurements of one to check the refusal."""
    text = (CORPUS / "qft_n4.qasm").read_text()
    stripped = "\n".join(line for line in text.splitlines() if "measure" not in line)
    path = tmp_path / "qft_nomeasure.qasm"
    path.write_text(stripped)
    with pytest.raises(WorkloadError, match=rf"^{path}:1: .*no measurements.*measure_all"):
        load_workload(path)


def test_several_classical_registers():
    pub = load_workload(CORPUS / "bb84_n8.qasm").pubs[0]
    assert len(pub.circuit.cregs) == 8
