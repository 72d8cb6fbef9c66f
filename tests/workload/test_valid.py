"""Valid workloads: every form of spec section 2 loads into the right PubSpecs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3, qpy
from qiskit.circuit import Parameter, ParameterVector
from qiskit.quantum_info import SparsePauliOp

from qprim.errors import InputError
from qprim.workload import (
    CircuitFileFlags,
    load_workload,
    summarize,
    workload_json_schema,
)

ANSATZ_QASM3 = """\
OPENQASM 3.0;
include "stdgates.inc";
input float theta;
input float phi;
qubit[2] q;
bit[2] c;
ry(theta) q[0];
rz(phi) q[1];
cx q[0], q[1];
c = measure q;
"""


def test_full_sampler_workload(write, bell_qasm3):
    write("circuits/bell.qasm", bell_qasm3)
    write("circuits/ansatz.qasm", ANSATZ_QASM3)
    qc = QuantumCircuit(1, 1, name="one")
    qc.x(0)
    qc.measure(0, 0)
    qc2 = QuantumCircuit(1, 1, name="two")
    qc2.measure(0, 0)
    with open("circuits/many.qpy", "wb") as f:
        qpy.dump([qc, qc2, qc], f)
    np.save("grid.npy", np.arange(12, dtype=float).reshape(2, 3, 2))
    write(
        "w.yaml",
        """\
        qprim: 1
        name: demo
        primitive: sampler
        backend: {kind: aer, name: aer_simulator, noise: false, seed: 1234}
        transpile: {optimization_level: 2, seed: 7}
        options: {default_shots: 1000, backend_options: {method: automatic}}
        tags: [demo, nightly]
        circuits:
          bell: {file: circuits/bell.qasm}
          ansatz: {file: circuits/ansatz.qasm}
          picked: {file: circuits/many.qpy, index: 1}
          named: {file: circuits/many.qpy, select: two}
          legacy:
            qasm2: |
              OPENQASM 2.0; include "qelib1.inc";
              qreg q[1]; creg c[1]; h q[0]; measure q -> c;
        pubs:
          - circuit: bell
            shots: 4000
          - circuit: ansatz
            parameters:
              theta: {linspace: [0, 3.14159265, 5]}
              phi: [0.0, 1.5708, 3.14159]
            sweep: product
          - circuit: ansatz
            parameters: {file: grid.npy, names: [theta, phi]}
          - circuit: picked
          - circuit: named
          - circuit: legacy
        expect:
          - pub: 0
            counts: {"00": 0.5, "11": 0.5}
            tolerance: 0.05
        """,
    )
    w = load_workload("w.yaml")
    assert w.name == "demo" and w.primitive == "sampler"
    assert str(w.source) == "w.yaml"
    assert (w.backend.kind, w.backend.name, w.backend.seed) == ("aer", "aer_simulator", 1234)
    assert (w.transpile.optimization_level, w.transpile.seed) == (2, 7)
    assert w.options["backend_options"] == {"method": "automatic"}
    assert w.tags == ("demo", "nightly")
    assert [p.shots for p in w.pubs] == [4000, 1000, 1000, 1000, 1000, 1000]
    product = w.pubs[1]
    assert product.parameter_names == ("theta", "phi")
    assert product.parameter_values.shape == (5, 3, 2)
    assert product.parameter_values[4, 2].tolist() == [3.14159265, 3.14159]
    assert w.pubs[2].parameter_values.shape == (2, 3, 2)
    assert w.pubs[3].circuit.data[0].operation.name == "measure"  # index 1 -> "two"
    assert w.pubs[4].circuit.name == "two"
    assert w.expect[0].counts == {"00": 0.5, "11": 0.5}
    assert w.expect[0].tolerance == 0.05
    assert w.digest.startswith("sha256:") and len(w.digest) == 7 + 64
    assert {p.name for p in w.files} >= {"w.yaml", "bell.qasm", "many.qpy", "grid.npy"}
    assert w.files[0].name == "w.yaml"
    summary = summarize(w)
    json.dumps(summary)
    assert summary["pubs"][1]["shape"] == [5, 3]
    assert summary["pubs"][1]["parameters"] == ["theta", "phi"]
    assert summary["pubs"][0]["qubits"] == 2 and summary["pubs"][0]["shots"] == 4000


def test_defaults_and_unquoted_bitstrings(write, bell_qasm3):
    write(
        "w.yaml",
        f"""\
        qprim: 1
        primitive: sampler
        circuits:
          bell:
            qasm3: |
{_indent(bell_qasm3, 14)}
        pubs:
          - circuit: bell
        expect:
          - pub: 0
            counts: {{00: 0.5, 11: 0.5}}
            tolerance: 0.1
        """,
    )
    w = load_workload("w.yaml")
    assert w.name == "w"
    assert (w.backend.kind, w.backend.name, w.backend.noise) == ("aer", "aer_simulator", False)
    assert (w.transpile.enabled, w.transpile.optimization_level) == (True, 1)
    assert w.pubs[0].shots == 1024
    assert w.pubs[0].parameter_values is None
    assert w.expect[0].counts == {"00": 0.5, "11": 0.5}  # not {0: .., 11: ..}


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


@pytest.mark.parametrize(
    ("parameters", "shape", "first"),
    [
        ("{theta: 0.5, phi: 1.0}", (), [0.5, 1.0]),
        ("{theta: [1, 2, 3], phi: [4, 5, 6]}", (3,), [1.0, 4.0]),
        ("{theta: [1, 2, 3], phi: 9}", (3,), [1.0, 9.0]),
        ("{theta: {linspace: [0, 1, 4]}, phi: [0, 1]}\n    sweep: product", (4, 2), [0.0, 0.0]),
        ("{phi: [0, 1], theta: [2, 3, 4]}\n    sweep: product", (2, 3), [0.0, 2.0]),
    ],
)
def test_parameter_shapes(write, parameters, shape, first):
    write("a.qasm", ANSATZ_QASM3)
    write(
        "w.yaml",
        f"""\
qprim: 1
primitive: sampler
circuits: {{a: {{file: a.qasm}}}}
pubs:
  - circuit: a
    parameters: {parameters}
""",
    )
    pub = load_workload("w.yaml").pubs[0]
    assert pub.parameter_values.shape == (*shape, 2)
    assert pub.parameter_values.dtype == np.float64
    assert pub.parameter_values.reshape(-1, 2)[0].tolist() == first


@pytest.mark.parametrize("key", ["single", "values"])
def test_npz_parameters(write, key):
    write("a.qasm", ANSATZ_QASM3)
    arrays = (
        {"arr": np.ones((4, 2))}
        if key == "single"
        else {"values": np.ones((4, 2)), "other": np.zeros(3)}
    )
    np.savez("s.npz", **arrays)
    write(
        "w.yaml",
        """\
        qprim: 1
        primitive: sampler
        circuits: {a: {file: a.qasm}}
        pubs: [{circuit: a, parameters: {file: s.npz, names: [phi, theta]}}]
        """,
    )
    pub = load_workload("w.yaml").pubs[0]
    assert pub.parameter_names == ("phi", "theta")
    assert pub.parameter_values.shape == (4, 2)


def test_binding_by_name_after_qasm3_round_trip(write):
    """Parameters come back sorted by name: binding must follow names, not positions."""
    zeta, alpha = Parameter("zeta"), Parameter("alpha")
    vec = ParameterVector("θ", 2)
    qc = QuantumCircuit(1, 1)
    qc.rx(zeta, 0)
    qc.ry(alpha, 0)
    qc.rz(vec[0] + vec[1], 0)
    qc.measure(0, 0)
    text = qasm3.dumps(qc)
    names = [p.name for p in qasm3.loads(text).parameters]
    assert names[0] == "_θ_0_" and "alpha" in names
    write("c.qasm", text)
    write(
        "w.yaml",
        """\
        qprim: 1
        primitive: sampler
        circuits: {c: {file: c.qasm}}
        pubs:
          - circuit: c
            parameters: {zeta: [1.0], alpha: [2.0], _θ_0_: [3.0], _θ_1_: [4.0]}
        """,
    )
    pub = load_workload("w.yaml").pubs[0]
    bound = dict(zip(pub.parameter_names, pub.parameter_values[0], strict=True))
    assert bound == {"zeta": 1.0, "alpha": 2.0, "_θ_0_": 3.0, "_θ_1_": 4.0}
    assigned = pub.circuit.assign_parameters({p: bound[p.name] for p in pub.circuit.parameters})
    rx = next(i for i in assigned.data if i.operation.name == "rx")
    assert float(rx.operation.params[0]) == 1.0


ESTIMATOR = """\
qprim: 1
primitive: estimator
options: {{default_precision: 0.02}}
circuits:
  ansatz:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float amp;
      qubit[2] q;
      bit[2] c;
      ry(amp) q[0];
      cx q[0], q[1];
      c = measure q;
pubs:
  - circuit: ansatz
    observables: {observables}
    parameters: {{amp: {{linspace: [0, 3.14159265, 4]}}}}
{extra}
"""


@pytest.mark.parametrize(
    ("observables", "obs_shape", "pub_shape"),
    [
        ("ZZ", (), (4,)),
        ("[ZZ, {XX: 1.0, YY: -0.5}, {sparse: [[Z, [0], 1.0]], num_qubits: 2}]", (3,), None),
        ("[[ZZ], [XX], [IZ]]", (3, 1), (3, 4)),
        ("[[ZZ, XX, IZ, ZI]]", (1, 4), (1, 4)),
    ],
)
def test_observable_shapes(write, observables, obs_shape, pub_shape):
    if pub_shape is None:  # a (3,) list does not broadcast with 4 parameter sets
        write(
            "w.yaml",
            ESTIMATOR.format(observables=observables, extra="").replace(
                "[0, 3.14159265, 4]", "[0, 3.14159265, 3]"
            ),
        )
        pub_shape = (3,)
    else:
        write("w.yaml", ESTIMATOR.format(observables=observables, extra="    precision: 0.01"))
    w = load_workload("w.yaml")
    pub = w.pubs[0]
    assert pub.observables.shape == obs_shape
    assert pub.shots is None
    assert all(isinstance(op, SparsePauliOp) for op in pub.observables.flat)
    assert summarize(w)["pubs"][0]["shape"] == list(pub_shape)
    # final measurements are removed for the estimator
    assert "measure" not in pub.circuit.count_ops()


def test_observable_forms_and_precision(write):
    write(
        "w.yaml",
        ESTIMATOR.format(
            observables="[IZ, {XX: 1.0, YY: -0.5}, {sparse: [[Z, [1], 2.0]], num_qubits: 2}]",
            extra="",
        ).replace("[0, 3.14159265, 4]", "[0, 1, 3]"),
    )
    pub = load_workload("w.yaml").pubs[0]
    ops = list(pub.observables.flat)
    assert ops[0] == SparsePauliOp("IZ")
    assert ops[1] == SparsePauliOp.from_list([("XX", 1.0), ("YY", -0.5)])
    assert ops[2] == SparsePauliOp.from_list([("ZI", 2.0)])  # qubit 1 = left character
    assert pub.precision == 0.02  # from options.default_precision


def test_estimator_expect(write):
    write(
        "w.yaml",
        ESTIMATOR.format(
            observables="[[ZZ], [XX]]",
            extra="""\
expect:
  - pub: 0
    evs: [[1.0], [0.0]]
    tolerance: 0.02
    shape: [2, 4]
""",
        ),
    )
    w = load_workload("w.yaml")
    (e,) = w.expect
    assert e.evs == [[1.0], [0.0]] and e.shape == (2, 4) and e.tolerance == 0.02
    assert e.where.line == 20


def test_measure_all_key(write):
    write(
        "w.yaml",
        """\
        qprim: 1
        primitive: sampler
        circuits:
          ghz:
            measure_all: true
            qasm3: |
              OPENQASM 3.0;
              include "stdgates.inc";
              qubit[3] q;
              h q[0]; cx q[0], q[1]; cx q[1], q[2];
        pubs: [{circuit: ghz}]
        """,
    )
    pub = load_workload("w.yaml").pubs[0]
    assert pub.circuit.count_ops()["measure"] == 3 and pub.circuit.num_clbits == 3


def test_transpile_false_and_fake_backend(write, bell_qasm3):
    write(
        "w.yaml",
        f"""\
        qprim: 1
        primitive: sampler
        backend: {{name: fake_manila, noise: true}}
        transpile: false
        circuits: {{bell: {{qasm3: '{bell_qasm3.replace(chr(10), " ")}'}}}}
        pubs: [{{circuit: bell}}]
        """,
    )
    w = load_workload("w.yaml")
    assert w.transpile.enabled is False
    assert (w.backend.name, w.backend.noise) == ("fake_manila", True)


def test_ibm_backend_keeps_block(write, bell_qasm3):
    write(
        "w.yaml",
        f"""\
        qprim: 1
        primitive: sampler
        backend: {{kind: ibm, block: my-ibm}}
        circuits: {{bell: {{qasm3: '{bell_qasm3.replace(chr(10), " ")}'}}}}
        pubs: [{{circuit: bell}}]
        """,
    )
    w = load_workload("w.yaml")
    assert (w.backend.kind, w.backend.block, w.backend.name) == ("ibm", "my-ibm", None)


def test_bare_qpy_and_qasm_inputs(in_tmp, bell_qasm3):
    circuits = []
    for n in range(3):
        qc = QuantumCircuit(n + 1, name=f"c{n}")
        qc.h(0)
        qc.measure_all()
        circuits.append(qc)
    with open("many.qpy", "wb") as f:
        qpy.dump(circuits, f)
    w = load_workload("many.qpy", CircuitFileFlags(shots=10, backend="fake_manila", seed=5))
    assert [p.circuit_name for p in w.pubs] == ["c0", "c1", "c2"]
    assert [p.shots for p in w.pubs] == [10, 10, 10]
    assert (w.backend.name, w.backend.seed, w.primitive) == ("fake_manila", 5, "sampler")
    (in_tmp / "bell.qasm").write_text(bell_qasm3)
    w = load_workload("bell.qasm")
    assert [p.circuit_name for p in w.pubs] == ["bell"] and w.pubs[0].shots == 1024
    w = load_workload(
        "bell.qasm", CircuitFileFlags(primitive="estimator", observables=("ZZ", "XX"))
    )
    assert w.pubs[0].observables.shape == (2,)


def test_flags_with_yaml_are_a_usage_error(write):
    write("w.yaml", "qprim: 1\n")
    with pytest.raises(InputError, match="shots"):
        load_workload("w.yaml", CircuitFileFlags(shots=5))


def test_json_schema_matches_model():
    schema = workload_json_schema()
    assert set(schema["required"]) == {"qprim", "primitive", "circuits", "pubs"}
    assert schema["additionalProperties"] is False
    json.dumps(schema)
    assert "measure_all" in json.dumps(schema)
