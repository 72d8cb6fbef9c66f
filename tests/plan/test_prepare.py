"""Preparing jobs: a circuit the transpiler cannot put on the target is an input error at
its PUB's line, not a traceback from inside the submit step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from qiskit.circuit import Measure, Parameter
from qiskit.circuit.library import RXGate
from qiskit.transpiler import Target

from qprim.plan.jobs import plan_workload
from qprim.plan.prepare import Preparer
from qprim.workload import load_workload
from qprim.workload.types import WorkloadError
from tests.support import EXAMPLES


def only_rx_target() -> Target:
    """One qubit that knows rx and measure only: a Hadamard cannot be translated onto it."""
    target = Target(num_qubits=1)
    target.add_instruction(RXGate(Parameter("t")), {(0,): None})
    target.add_instruction(Measure(), {(0,): None})
    return target


def test_a_circuit_the_target_cannot_run_is_an_input_error_at_its_pub() -> None:
    workload = load_workload(EXAMPLES / "bell.yaml")
    job = plan_workload(workload).jobs[0]
    backend = SimpleNamespace(kind="fake", name="rx_only", target=only_rx_target())
    with pytest.raises(WorkloadError) as error:
        Preparer().request(job, backend)  # type: ignore[arg-type]
    assert error.value.where == workload.pubs[0].where
    assert "circuit 'bell' cannot be transpiled for fake:rx_only" in str(error.value)
