"""Regenerate circuits/trotter.qpy: three Trotter steps of a 3-qubit Ising chain.

QPY is binary, so the file is made by this script rather than written by hand:
    python examples/workloads/circuits/make_qpy.py
"""

from pathlib import Path

from qiskit import QuantumCircuit, qpy


def trotter(steps: int) -> QuantumCircuit:
    circuit = QuantumCircuit(3, name=f"trotter_{steps}")
    circuit.h(range(3))
    for _ in range(steps):
        for a, b in ((0, 1), (1, 2)):
            circuit.rzz(0.4, a, b)
        circuit.rx(0.3, range(3))
    circuit.measure_all()
    return circuit


if __name__ == "__main__":
    with open(Path(__file__).with_name("trotter.qpy"), "wb") as handle:
        qpy.dump([trotter(steps) for steps in (1, 2, 3)], handle)
