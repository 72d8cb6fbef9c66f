"""Exact outcome probabilities of a circuit, for checking sampled counts.

`exact_probabilities(circuit)` returns the probability of every classical outcome
as a bitstring over ALL of the circuit's clbits in Qiskit's order: clbit 0 (in
`circuit.clbits` order) is the rightmost character, whatever registers the bits
belong to. Clbits that are never written read 0.

Circuits whose measurements are all final are computed from one `Statevector`.
Mid-circuit measurements, resets and classical conditions (`IfElseOp`) go through
an exact branching evaluation: a list of branches (probability, state, classical
bits); a measurement splits a branch into its 0/1 outcomes, a reset into the
mixture of its projections (both then moved to |0>), and a condition picks the
block to apply from the branch's own bits. Only the final measurements (nothing
touches their qubit or clbit afterwards) are read from each branch's state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import (
    CircuitInstruction,
    ClassicalRegister,
    Clbit,
    ControlFlowOp,
    IfElseOp,
)
from qiskit.quantum_info import Operator, Statevector

# Branches less likely than this are dropped (numerical zero).
EPSILON = 1e-12

_SKIPPED = {"barrier", "delay"}


@dataclass
class Branch:
    probability: float
    state: Statevector
    bits: tuple[int, ...]  # indexed like circuit.clbits


def exact_probabilities(circuit: QuantumCircuit) -> dict[str, float]:
    """Outcome probabilities over all clbits (clbit 0 rightmost); zero entries omitted."""
    return ExactEvaluator(circuit).probabilities()


def needs_branching(circuit: QuantumCircuit) -> bool:
    """Whether the circuit has mid-circuit measurements, resets or control flow."""
    final = _final_measurements(circuit)
    for i, inst in enumerate(circuit.data):
        if isinstance(inst.operation, ControlFlowOp) or inst.operation.name == "reset":
            return True
        if inst.operation.name == "measure" and i not in final:
            return True
    return False


def _final_measurements(circuit: QuantumCircuit) -> set[int]:
    """Indices of `measure` instructions after which nothing touches their qubit or clbit.

    A later condition reads clbits, so after the first control-flow instruction every
    clbit counts as touched.
    """
    final: set[int] = set()
    touched_qubits: set[int] = set()
    touched_clbits: set[int] = set()
    all_clbits = set(range(circuit.num_clbits))
    for i in range(len(circuit.data) - 1, -1, -1):
        inst = circuit.data[i]
        name = inst.operation.name
        if name in _SKIPPED:
            continue
        qubits = {circuit.find_bit(q).index for q in inst.qubits}
        clbits = {circuit.find_bit(c).index for c in inst.clbits}
        if name == "measure" and not (qubits & touched_qubits) and not (clbits & touched_clbits):
            final.add(i)
        touched_qubits |= qubits
        touched_clbits |= clbits
        if isinstance(inst.operation, ControlFlowOp):
            touched_clbits |= all_clbits
    return final


class ExactEvaluator:
    def __init__(self, circuit: QuantumCircuit) -> None:
        self.circuit = circuit
        self.num_qubits = circuit.num_qubits
        self.indices = np.arange(2**circuit.num_qubits)

    def probabilities(self) -> dict[str, float]:
        circuit = self.circuit
        final = _final_measurements(circuit)
        branches = [
            Branch(1.0, Statevector.from_label("0" * circuit.num_qubits), (0,) * circuit.num_clbits)
        ]
        qmap = [circuit.find_bit(q).index for q in circuit.qubits]
        cmap = [circuit.find_bit(c).index for c in circuit.clbits]
        body = [inst for i, inst in enumerate(circuit.data) if i not in final]
        branches = self._run(branches, circuit, body, qmap, cmap)

        # The final measurements: read straight from each branch's state.
        reads = [
            (
                circuit.find_bit(circuit.data[i].qubits[0]).index,
                circuit.find_bit(circuit.data[i].clbits[0]).index,
            )
            for i in sorted(final)
        ]
        measured = sorted({q for q, _ in reads})
        totals: dict[str, float] = defaultdict(float)
        for branch in branches:
            outcomes = branch.state.probabilities_dict(qargs=measured) if measured else {"": 1}
            for key, p in outcomes.items():
                if p * branch.probability < EPSILON:
                    continue
                value = {q: int(key[len(measured) - 1 - k]) for k, q in enumerate(measured)}
                bits = list(branch.bits)
                for q, c in reads:
                    bits[c] = value[q]
                totals[_bitstring(bits)] += branch.probability * float(p)
        return dict(totals)

    # -- branching evaluation -------------------------------------------------------

    def _run(
        self,
        branches: list[Branch],
        circuit: QuantumCircuit,
        instructions: list[CircuitInstruction],
        qmap: list[int],
        cmap: list[int],
    ) -> list[Branch]:
        """Apply `instructions` of `circuit` (its bits mapped by qmap/cmap) to every branch."""
        for inst in instructions:
            op = inst.operation
            qargs = [qmap[circuit.find_bit(q).index] for q in inst.qubits]
            cargs = [cmap[circuit.find_bit(c).index] for c in inst.clbits]
            if op.name in _SKIPPED:
                continue
            if op.name == "measure":
                branches = [b for br in branches for b in self._measure(br, qargs[0], cargs[0])]
            elif op.name == "reset":
                branches = [b for br in branches for b in self._reset(br, qargs[0])]
            elif isinstance(op, IfElseOp):
                branches = [
                    b
                    for br in branches
                    for b in self._if_else(br, circuit, inst, qargs, cargs, cmap)
                ]
            elif isinstance(op, ControlFlowOp):
                raise NotImplementedError(f"control flow {op.name!r} is not supported")
            else:
                try:
                    evolved = [
                        Branch(b.probability, b.state.evolve(op, qargs=qargs), b.bits)
                        for b in branches
                    ]
                except Exception:  # no matrix and no definition evolve can follow
                    matrix = Operator(op)
                    evolved = [
                        Branch(b.probability, b.state.evolve(matrix, qargs=qargs), b.bits)
                        for b in branches
                    ]
                branches = evolved
        return branches

    def _project(self, state: Statevector, qubit: int, outcome: int) -> tuple[float, np.ndarray]:
        data = np.where(((self.indices >> qubit) & 1) == outcome, state.data, 0)
        p = float(np.vdot(data, data).real)
        return p, data

    def _measure(self, branch: Branch, qubit: int, clbit: int) -> list[Branch]:
        out = []
        for outcome in (0, 1):
            p, data = self._project(branch.state, qubit, outcome)
            if p * branch.probability < EPSILON:
                continue
            bits = list(branch.bits)
            bits[clbit] = outcome
            out.append(Branch(branch.probability * p, Statevector(data / np.sqrt(p)), tuple(bits)))
        return out

    def _reset(self, branch: Branch, qubit: int) -> list[Branch]:
        out = []
        for outcome in (0, 1):
            p, data = self._project(branch.state, qubit, outcome)
            if p * branch.probability < EPSILON:
                continue
            if outcome:  # move the |1> amplitudes to |0>
                ones = self.indices[(self.indices >> qubit) & 1 == 1]
                moved = np.zeros_like(data)
                moved[ones ^ (1 << qubit)] = data[ones]
                data = moved
            out.append(Branch(branch.probability * p, Statevector(data / np.sqrt(p)), branch.bits))
        return out

    def _if_else(
        self,
        branch: Branch,
        circuit: QuantumCircuit,
        inst: CircuitInstruction,
        qargs: list[int],
        cargs: list[int],
        cmap: list[int],
    ) -> list[Branch]:
        op: IfElseOp = inst.operation

        def outer(bit: Clbit) -> int:  # the condition names bits of `circuit`
            return cmap[circuit.find_bit(bit).index]

        target, value = op.condition
        if isinstance(target, Clbit):
            actual = branch.bits[outer(target)]
        elif isinstance(target, ClassicalRegister):
            actual = sum(branch.bits[outer(bit)] << k for k, bit in enumerate(target))
        else:
            raise NotImplementedError(f"condition {op.condition!r} is not supported")
        block = (
            op.blocks[0] if actual == int(value) else (op.blocks[1] if len(op.blocks) > 1 else None)
        )
        if block is None:
            return [branch]
        # The block's bits map to the instruction's bits by position.
        return self._run([branch], block, list(block.data), qargs, cargs)


def _bitstring(bits: list[int] | tuple[int, ...]) -> str:
    return "".join(str(b) for b in reversed(bits))
