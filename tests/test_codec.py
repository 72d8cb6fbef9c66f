"""qprim's fast reading of stored results agrees with qiskit-ibm-runtime's RuntimeDecoder
on every kind of result qprim produces, and avoids importing the client."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2, SamplerV2
from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

from qprim.state import codec


def sampler_result() -> object:
    """Two registers and a parameter sweep of shape (3, 2)."""
    theta = Parameter("theta")
    circuit = QuantumCircuit(
        QuantumRegister(2), ClassicalRegister(1, "a"), ClassicalRegister(1, "b")
    )
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit.measure(0, 0)
    circuit.measure(1, 1)
    values = np.linspace(0, np.pi, 6).reshape(3, 2, 1)
    return SamplerV2(seed=3).run([(circuit, values, 300), (circuit, [[0.5]], 100)]).result()


def estimator_result() -> object:
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    observables = [[SparsePauliOp("ZZ")], [SparsePauliOp.from_list([("XX", 1.0), ("YY", -0.5)])]]
    return EstimatorV2().run([(circuit, observables, [[0.1], [1.2], [2.3]])]).result()


@pytest.mark.parametrize("make", [sampler_result, estimator_result])
def test_the_fast_path_reads_results_exactly_as_runtime_decoder(make: object) -> None:
    text = json.dumps(make(), cls=RuntimeEncoder)  # type: ignore[operator]
    ours = codec.decode_result(text)
    theirs = json.loads(text, cls=RuntimeDecoder)
    assert type(ours) is type(theirs)
    assert json.dumps(ours, cls=RuntimeEncoder) == json.dumps(theirs, cls=RuntimeEncoder) == text
    for pub_ours, pub_theirs in zip(ours, theirs, strict=True):
        assert type(pub_ours) is type(pub_theirs)
        assert pub_ours.data.shape == pub_theirs.data.shape


def test_other_types_fall_back_to_runtime_decoder() -> None:
    from qiskit_ibm_runtime.execution_span import DoubleSliceSpan, ExecutionSpans

    result = sampler_result()
    start, stop = datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 11)
    spans = ExecutionSpans(
        [DoubleSliceSpan(start, stop, {0: ((3, 2), slice(0, 3), slice(0, 300))})]
    )
    result.metadata["execution"] = {"execution_spans": spans}  # type: ignore[attr-defined]
    text = json.dumps(result, cls=RuntimeEncoder)
    ours = codec.decode_result(text)
    assert isinstance(ours.metadata["execution"]["execution_spans"], ExecutionSpans)
    assert json.dumps(ours, cls=RuntimeEncoder) == text


def test_reading_a_stored_result_imports_no_ibm_client(tmp_path: Path) -> None:
    stored = tmp_path / "result.json"
    stored.write_text(json.dumps(sampler_result(), cls=RuntimeEncoder))
    probe = (
        "import sys\n"
        "from qprim.state.codec import decode_result\n"
        f"result = decode_result(open({str(stored)!r}).read())\n"
        "print(result[0].data.a.get_counts() is not None)\n"
        "print(sorted(m for m in ('qiskit_ibm_runtime', 'qiskit_aer') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True", "[]"]
