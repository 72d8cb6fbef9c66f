"""Malformed workloads, shared by the loader tests and the CLI tests.

Each case: (id, YAML text of `w.yaml`, the line the error must name or None, words the
message must contain). `make_workdir` lays out the files the cases refer to.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.support import CORPUS

HEAD = "qprim: 1\nprimitive: sampler\n"
BELL = """\
circuits:
  bell:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q; bit[2] c;
      h q[0]; cx q[0], q[1];
      c = measure q;
"""  # lines 3..10 after HEAD
ANSATZ = """\
circuits:
  a:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float theta; input float phi;
      qubit[2] q; bit[2] c;
      ry(theta) q[0]; rz(phi) q[1];
      c = measure q;
"""  # lines 3..11 after HEAD
EST = "qprim: 1\nprimitive: estimator\n"

# (id, yaml text, expected line, words the message must contain)
CASES = [
    ("yaml-syntax", HEAD + "circuits: {bell: [1, 2}\n", 3, ["YAML syntax error"]),
    (
        "duplicate-key",
        HEAD + BELL + "pubs:\n  - circuit: bell\n    shots: 5\n    shots: 6\n",
        14,
        ["duplicate key 'shots'", "line 13"],
    ),
    ("root-not-mapping", "- qprim\n- 1\n", 1, ["mapping"]),
    ("missing-version", "primitive: sampler\n", 1, ["qprim: 1"]),
    ("bad-version", "qprim: 2\nprimitive: sampler\n", 1, ["version 2"]),
    ("unknown-top-key", HEAD + "shotz: 5\n" + BELL, 3, ["unknown key 'shotz'", "pubs"]),
    (
        "unknown-pub-key",
        HEAD + BELL + "pubs:\n  - circuit: bell\n    shot: 5\n",
        13,
        ["unknown key 'shot'", "shots"],
    ),
    ("missing-pubs", HEAD + BELL, 1, ["missing key 'pubs'"]),
    (
        "bad-primitive",
        "qprim: 1\nprimitive: sample\n" + BELL + "pubs: [{circuit: bell}]\n",
        2,
        ["primitive must be sampler or estimator"],
    ),
    (
        "unknown-circuit",
        HEAD + BELL + "pubs:\n  - shots: 5\n    circuit: bel\n",
        13,
        ["no circuit named 'bel'", "did you mean 'bell'"],
    ),
    (
        "negative-shots",
        HEAD + BELL + "pubs:\n  - circuit: bell\n    shots: -5\n",
        13,
        ["shots must be a positive integer", '"shots: 1000"'],
    ),
    ("zero-shots", HEAD + BELL + "pubs:\n  - circuit: bell\n    shots: 0\n", 13, ["shots"]),
    ("float-shots", HEAD + BELL + "pubs:\n  - circuit: bell\n    shots: 10.5\n", 13, ["shots"]),
    (
        "bad-default-shots",
        HEAD + "options:\n  default_shots: many\n" + BELL + "pubs: [{circuit: bell}]\n",
        4,
        ["default_shots must be a positive integer"],
    ),
    (
        "no-measurements",
        HEAD + "circuits:\n  x:\n    qasm3: |\n      OPENQASM 3.0;\n"
        "      qubit[1] q;\npubs:\n  - circuit: x\n",
        9,
        ["no measurements", "measure_all: true"],
    ),
    (
        "inline-qasm3-error",
        HEAD + "circuits:\n  x:\n    qasm3: |\n      OPENQASM 3.0;\n"
        "      qubit[1] q;\n      h r[0];\npubs: [{circuit: x}]\n",
        8,
        ["invalid OpenQASM 3"],
    ),
    (
        "inline-qasm3-syntax",
        HEAD + "circuits:\n  x:\n    qasm3: |\n      OPENQASM 3.0;\n"
        '      include "stdgates.inc";\n      qubit[1] q;\n      h q[0]\n      h q[0];\n'
        "pubs: [{circuit: x}]\n",
        10,
        ["invalid OpenQASM 3", "'h'"],
    ),
    (
        "inline-qasm2-error",
        HEAD + "circuits:\n  x:\n    qasm2: |\n      OPENQASM 2.0;\n"
        '      include "qelib1.inc";\n      qreg q[1];\n      creg c[1];\n      hh q[0];\n'
        "pubs: [{circuit: x}]\n",
        10,
        ["invalid OpenQASM 2", "hh"],
    ),
    (
        "missing-file",
        HEAD + "circuits:\n  x:\n    measure_all: true\n    file: nope.qasm\n"
        "pubs: [{circuit: x}]\n",
        6,
        ["file not found: nope.qasm"],
    ),
    (
        "two-sources",
        HEAD + "circuits:\n  x:\n    file: a.qasm\n    qasm2: x\npubs: [{circuit: x}]\n",
        4,
        ["exactly one of qasm3, qasm2, file"],
    ),
    (
        "unbound-parameter",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n      theta: [1, 2]\n",
        14,
        ["phi", "not bound"],
    ),
    ("no-parameters-given", HEAD + ANSATZ + "pubs:\n  - circuit: a\n", 13, ["theta", "phi"]),
    (
        "unknown-parameter",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      theta: [1, 2]\n      phj: [1, 2]\n",
        16,
        ["no parameter 'phj'", "'phi'"],
    ),
    (
        "zip-lengths",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      theta: [1, 2, 3]\n      phi: [1, 2]\n",
        16,
        ["zip", "3", "2", "sweep: product"],
    ),
    (
        "bad-linspace",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      theta: {linspace: [0, 1, 0]}\n      phi: 1\n",
        15,
        ["linspace"],
    ),
    (
        "linspace-not-3",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      phi: 1\n      theta: {linspace: [0, 1]}\n",
        16,
        ["theta"],
    ),
    (
        "npy-last-axis",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      file: grid3.npy\n      names: [theta, phi]\n",
        15,
        ["last axis", "3", "2 names"],
    ),
    (
        "npy-missing",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      names: [theta, phi]\n      file: none.npy\n",
        16,
        ["file not found: none.npy"],
    ),
    (
        "npy-bad-name",
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters:\n"
        "      file: grid2.npy\n      names:\n        - theta\n        - psi\n",
        18,
        ["no parameter 'psi'"],
    ),
    (
        "pauli-width",
        EST + BELL + "pubs:\n  - circuit: bell\n    observables: [ZZ, ZZZ]\n",
        13,
        ["'ZZZ'", "3 qubits", "has 2"],
    ),
    (
        "pauli-letters",
        EST + BELL + "pubs:\n  - circuit: bell\n    observables:\n"
        "      - ZZ\n      - {XX: 1.0, AB: 2.0}\n",
        15,
        ["'AB'", "Pauli"],
    ),
    (
        "sparse-qubit",
        EST + BELL + "pubs:\n  - circuit: bell\n    observables:\n"
        "      sparse:\n        - [Z, [5], 1.0]\n      num_qubits: 2\n",
        15,
        ["[5]"],
    ),
    (
        "broadcast",
        EST + ANSATZ + "pubs:\n  - circuit: a\n    observables: [ZZ, XX]\n"
        "    parameters: {theta: [1, 2, 3], phi: 0}\n",
        14,
        ["do not broadcast"],
    ),
    (
        "shots-on-estimator",
        EST + BELL + "pubs:\n  - circuit: bell\n    observables: ZZ\n    shots: 100\n",
        14,
        ["shots applies to sampler"],
    ),
    (
        "precision-on-sampler",
        HEAD + BELL + "pubs:\n  - circuit: bell\n    precision: 0.1\n",
        13,
        ["precision applies to estimator"],
    ),
    (
        "negative-precision",
        EST + BELL + "pubs:\n  - circuit: bell\n    observables: ZZ\n    precision: -1\n",
        14,
        ["precision must be a positive number"],
    ),
    (
        "qpy-index",
        HEAD + "circuits:\n  x:\n    file: two.qpy\n    index: 7\npubs: [{circuit: x}]\n",
        6,
        ["index 7", "2 circuit"],
    ),
    (
        "qpy-select",
        HEAD + "circuits:\n  x:\n    file: two.qpy\n    select: secnd\npubs: [{circuit: x}]\n",
        6,
        ["no circuit named 'secnd'", "'second'"],
    ),
    (
        "unknown-fake",
        HEAD + "backend:\n  kind: aer\n  name: fake_manilla\n" + BELL + "pubs: [{circuit: bell}]\n",
        5,
        ["fake_manilla", "fake_manila"],
    ),
    (
        "opt-level",
        HEAD + "transpile:\n  optimization_level: 4\n" + BELL + "pubs: [{circuit: bell}]\n",
        4,
        ["optimization_level must be an integer 0..3"],
    ),
    (
        "expect-pub-range",
        HEAD + BELL + "pubs: [{circuit: bell}]\nexpect:\n  - pub: 3\n"
        "    counts: {'00': 1.0}\n    tolerance: 0.1\n",
        13,
        ["pub 3 does not exist"],
    ),
    (
        "expect-bitstring",
        HEAD + BELL + "pubs: [{circuit: bell}]\nexpect:\n  - pub: 0\n"
        "    counts:\n      '000': 1.0\n    tolerance: 0.1\n",
        15,
        ["'000'", "2 bits"],
    ),
    (
        "expect-evs-on-sampler",
        HEAD + BELL + "pubs: [{circuit: bell}]\nexpect:\n  - pub: 0\n"
        "    evs: [1.0]\n    tolerance: 0.1\n",
        14,
        ["evs apply to estimator"],
    ),
    (
        "expect-evs-shape",
        EST + BELL + "pubs:\n  - {circuit: bell, observables: [ZZ, XX]}\n"
        "expect:\n  - pub: 0\n    tolerance: 0.1\n    evs: [1.0, 0.0, 1.0]\n",
        16,
        ["do not broadcast", "(2,)"],
    ),
    (
        "expect-tolerance",
        HEAD + BELL + "pubs: [{circuit: bell}]\nexpect:\n  - pub: 0\n"
        "    counts: {'00': 1.0}\n    tolerance: 0\n",
        15,
        ["tolerance must be a positive"],
    ),
    (
        "tags-not-strings",
        HEAD + "tags:\n  - ok\n  - [nested]\n" + BELL + "pubs: [{circuit: bell}]\n",
        5,
        ["tags"],
    ),
    (
        "corpus-n4-by-file",
        HEAD + "circuits:\n  v: {file: vqe_uccsd_n4.qasm}\npubs: [{circuit: v}]\n",
        None,
        ["vqe_uccsd_n4.qasm:225:", "'q' is not defined"],
    ),
    (
        "corpus-n6-by-file",
        HEAD + "circuits:\n  v: {file: sub/vqe_uccsd_n6.qasm}\npubs: [{circuit: v}]\n",
        None,
        ["sub/vqe_uccsd_n6.qasm:2286:", "'q' is not defined"],
    ),
]


def make_workdir(in_tmp: Path) -> Path:
    """The files the malformed workloads refer to (corpus QASM, npy grids, a QPY file)."""
    shutil.copy(CORPUS / "vqe_uccsd_n4.qasm", in_tmp)
    (in_tmp / "sub").mkdir()
    shutil.copy(CORPUS / "vqe_uccsd_n6.qasm", in_tmp / "sub")
    np.save(in_tmp / "grid3.npy", np.zeros((4, 3)))
    np.save(in_tmp / "grid2.npy", np.zeros((4, 2)))
    from qiskit import QuantumCircuit, qpy

    with open(in_tmp / "two.qpy", "wb") as f:
        qpy.dump([QuantumCircuit(1, 1, name="first"), QuantumCircuit(1, 1, name="second")], f)
    return in_tmp
