"""The digest: equal for equivalent workloads, different for any change of result."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from qprim.workload import load_workload, workload_digest

BASE = """\
qprim: 1
name: base
primitive: sampler
backend: {kind: aer, name: aer_simulator, noise: false, seed: 11}
transpile: {optimization_level: 1, seed: 3}
options: {backend_options: {method: automatic}}
tags: [a]
circuits:
  c:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float theta;
      qubit[2] q;
      bit[2] c;
      ry(theta) q[0];
      cx q[0], q[1];
      c = measure q;
pubs:
  - circuit: c
    parameters: {theta: [0.0, 0.5, 1.0]}
"""

CIRCUIT_FILE = """\
OPENQASM 3.0;
include "stdgates.inc";
input float theta;
qubit[2] q;
bit[2] c;
ry(theta) q[0];
cx q[0], q[1];
c = measure q;
"""


def _digest(write, text: str) -> str:
    write("c.qasm", CIRCUIT_FILE)
    write("w.yaml", text)
    return load_workload("w.yaml").digest


EQUIVALENT = {
    "comments-and-name-and-tags": BASE.replace("name: base", "# a comment\nname: other").replace(
        "tags: [a]", "tags: [b, c]  # more"
    ),
    "key-order": BASE.replace("primitive: sampler\n", "")
    .replace("qprim: 1\n", "qprim: 1\nprimitive: sampler\n")
    .replace(
        "{kind: aer, name: aer_simulator, noise: false, seed: 11}",
        "{seed: 11, noise: false, name: aer_simulator, kind: aer}",
    ),
    "file-instead-of-inline": BASE.split("circuits:")[0]
    + "circuits:\n  c: {file: c.qasm}\n"
    + "pubs:\n  - circuit: c\n    parameters: {theta: [0.0, 0.5, 1.0]}\n",
    "linspace": BASE.replace("[0.0, 0.5, 1.0]", "{linspace: [0, 1, 3]}"),
    "explicit-default-shots": BASE.replace("parameters:", "shots: 1024\n    parameters:"),
    "default-backend-name": BASE.replace("name: aer_simulator, ", ""),
    "circuit-renamed": BASE.replace("  c:\n", "  other:\n").replace("circuit: c", "circuit: other"),
    "expect-added": BASE + "expect:\n  - {pub: 0, counts: {'00': 1.0}, tolerance: 0.5}\n",
}

DIFFERENT = {
    "parameter-value": BASE.replace("0.5, 1.0]", "0.5, 1.01]"),
    "shots": BASE.replace("parameters:", "shots: 1000\n    parameters:"),
    "seed": BASE.replace("seed: 11", "seed: 12"),
    "backend-name": BASE.replace("name: aer_simulator", "name: fake_manila"),
    "noise": BASE.replace("name: aer_simulator, noise: false", "name: fake_manila, noise: true"),
    "option": BASE.replace("method: automatic", "method: statevector"),
    "transpile-level": BASE.replace("optimization_level: 1", "optimization_level: 2"),
    "transpile-off": BASE.replace("{optimization_level: 1, seed: 3}", "false"),
    "circuit": BASE.replace("cx q[0], q[1];", "cz q[0], q[1];"),
}


@pytest.mark.parametrize("variant", list(EQUIVALENT), ids=list(EQUIVALENT))
def test_equivalent_workloads_share_a_digest(write, variant):
    assert _digest(write, EQUIVALENT[variant]) == _digest(write, BASE)


@pytest.mark.parametrize("variant", list(DIFFERENT), ids=list(DIFFERENT))
def test_changes_change_the_digest(write, variant):
    assert _digest(write, DIFFERENT[variant]) != _digest(write, BASE)


ESTIMATOR = """\
qprim: 1
primitive: estimator
circuits:
  c:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q;
      h q[0];
      cx q[0], q[1];
pubs:
  - circuit: c
    observables: {obs}
"""


def test_observables_in_digest(write):
    base = _digest(write, ESTIMATOR.format(obs="[ZZ, {XX: 1.0, YY: -0.5}]"))
    same = _digest(write, ESTIMATOR.format(obs="[ZZ, {YY: -0.5, XX: 1.0}]"))
    other = _digest(write, ESTIMATOR.format(obs="[ZZ, {XX: 1.0, YY: 0.5}]"))
    precision = _digest(
        write, ESTIMATOR.format(obs="[ZZ, {XX: 1.0, YY: -0.5}]\n    precision: 0.1")
    )
    assert base == same
    assert len({base, other, precision}) == 3


def test_parameter_order_is_not_identity(write):
    two = BASE.replace("input float theta;", "input float theta;\n      input float phi;").replace(
        "cx q[0], q[1];", "cx q[0], q[1];\n      rz(phi) q[1];"
    )
    a = _digest(write, two.replace("{theta: [0.0, 0.5, 1.0]}", "{theta: [0.0, 0.5], phi: [1, 2]}"))
    b = _digest(write, two.replace("{theta: [0.0, 0.5, 1.0]}", "{phi: [1, 2], theta: [0.0, 0.5]}"))
    c = _digest(write, two.replace("{theta: [0.0, 0.5, 1.0]}", "{phi: [2, 1], theta: [0.0, 0.5]}"))
    assert a == b != c


def test_recomputed_digest_matches(write):
    write("w.yaml", BASE)
    w = load_workload("w.yaml")
    assert workload_digest(w) == w.digest


def test_digest_is_stable_across_processes(write, in_tmp):
    write("w.yaml", BASE)
    script = textwrap.dedent("""\
        from qprim.workload import load_workload
        print(load_workload("w.yaml").digest)
        """)
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, cwd=in_tmp, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == load_workload("w.yaml").digest
