"""The input limits: what is just inside loads, what is just outside is a `FILE:LINE`
error, and the external ranges the seed limits come from are still where they were."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from qiskit import QuantumCircuit

from qprim.backends.aer.options import option_problem as aer_problem
from qprim.backends.ibm.options import option_problem as ibm_problem
from qprim.errors import InputError
from qprim.report.runs import default_run_dir
from qprim.workload import CircuitFileFlags, WorkloadError, load_workload
from qprim.workload.limits import (
    MAX_CIRCUIT_BITS,
    MAX_EXECUTIONS,
    MAX_NAME_LENGTH,
    MAX_POINTS,
    MAX_SHOTS,
    MAX_SIMULATOR_SEED,
    MAX_TRANSPILER_SEED,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
)
from qprim.workload.model import LinspaceModel
from qprim.workload.source import parse_yaml
from tests.workload.malformed import ANSATZ, BELL, HEAD


def load(text: str) -> None:
    Path("w.yaml").write_text(text)
    load_workload("w.yaml")


def nested(levels: int) -> str:
    return "x: " + "[" * levels + "]" * levels + "\n"


def test_yaml_nesting_limit(in_tmp: Path) -> None:
    parse_yaml(nested(MAX_YAML_DEPTH - 1), "w.yaml")  # with the root mapping: the limit
    with pytest.raises(WorkloadError, match="deeper than 100 levels"):
        parse_yaml(nested(MAX_YAML_DEPTH), "w.yaml")


def test_aliases_count_at_every_use() -> None:
    """One anchored list used N times builds N copies: the bound is on what is built."""
    size = 1000
    anchor = f"a: &a [{', '.join(['1'] * (size - 1))}]\n"  # the list and its items: `size`

    def uses(n: int) -> str:
        return anchor + f"b: [{', '.join(['*a'] * n)}]\n"

    fits = MAX_YAML_NODES // size - 2  # the root, the keys and list b take a few more
    assert len(parse_yaml(uses(fits), "w.yaml").data["b"]) == fits
    with pytest.raises(WorkloadError, match=r"^w\.yaml:2: .*expands to more than 100,000"):
        parse_yaml(uses(fits + 2), "w.yaml")


def test_an_alias_stacked_on_deep_aliases_is_too_deep() -> None:
    """Each anchor is 60 deep; using one inside another would build 120 levels."""
    text = "a: &a " + "[" * 60 + "1" + "]" * 60 + "\n" + "b: " + "[" * 60 + "*a" + "]" * 60
    with pytest.raises(WorkloadError, match=r"^w\.yaml:2: YAML nesting is deeper"):
        parse_yaml(text + "\n", "w.yaml")


def test_shots_limit(in_tmp: Path) -> None:
    load(HEAD + BELL + f"pubs: [{{circuit: bell, shots: {MAX_SHOTS}}}]\n")
    with pytest.raises(WorkloadError, match=r"^w\.yaml:11: .*at most 10,000,000"):
        load(HEAD + BELL + f"pubs: [{{circuit: bell, shots: {MAX_SHOTS + 1}}}]\n")


def test_points_limits(in_tmp: Path) -> None:
    side = int(MAX_POINTS**0.5)
    grid = (
        "sweep: product, parameters: {theta: {linspace: [0, 1, %d]}, phi: {linspace: [0, 1, %d]}}"
    )
    load(SWEEP_PUB % (grid % (side, side)))
    with pytest.raises(WorkloadError, match="1,001,000 points"):
        load(SWEEP_PUB % (grid % (side, side + 1)))
    LinspaceModel(linspace=(0, 1, MAX_POINTS))
    with pytest.raises(ValidationError):
        LinspaceModel(linspace=(0, 1, MAX_POINTS + 1))


SWEEP_PUB = HEAD + ANSATZ + "pubs:\n  - {circuit: a, shots: 1, %s}\n"  # 1M points x 1 shot


def test_executions_limit_is_for_the_whole_workload(in_tmp: Path) -> None:
    pubs = MAX_EXECUTIONS // MAX_SHOTS
    text = HEAD + BELL + "pubs:\n" + f"  - {{circuit: bell, shots: {MAX_SHOTS}}}\n" * pubs
    load(text)
    with pytest.raises(WorkloadError, match=rf"^w\.yaml:{12 + pubs}: with PUB {pubs} "):
        load(text + "  - {circuit: bell, shots: 1}\n")


def test_seed_limits(in_tmp: Path) -> None:
    load(
        HEAD
        + f"backend: {{seed: {MAX_SIMULATOR_SEED}}}\ntranspile: {{seed: {MAX_TRANSPILER_SEED}}}\n"
        + BELL
        + "pubs: [{circuit: bell}]\n"
    )


def test_the_seed_limits_are_where_aer_and_the_transpiler_break() -> None:
    """Why the limits are where they are: one past each, the library itself fails."""
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit.transpiler import CouplingMap, generate_preset_pass_manager
    from qiskit_aer.primitives import SamplerV2

    circuit = QuantumCircuit(3)  # on a line of 3 qubits: the seeded layout and routing run
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cx(1, 2)
    circuit.cx(2, 0)
    circuit.measure_all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SamplerV2(seed=MAX_SIMULATOR_SEED).run([circuit], shots=4).result()
        with pytest.raises(TypeError):
            SamplerV2(seed=MAX_SIMULATOR_SEED + 1).run([circuit], shots=4).result()
    line = GenericBackendV2(num_qubits=3, coupling_map=CouplingMap.from_line(3), seed=1)

    def transpile(seed: int) -> None:
        generate_preset_pass_manager(1, target=line.target, seed_transpiler=seed).run(circuit)

    transpile(MAX_TRANSPILER_SEED)
    with pytest.raises(OverflowError):
        transpile(MAX_TRANSPILER_SEED + 1)


def test_name_limits_and_the_default_name(in_tmp: Path) -> None:
    load(HEAD + f"name: {'n' * MAX_NAME_LENGTH}\n" + BELL + "pubs: [{circuit: bell}]\n")
    with pytest.raises(WorkloadError, match="at most 80 characters"):
        load(HEAD + f"name: {'n' * (MAX_NAME_LENGTH + 1)}\n" + BELL + "pubs: [{circuit: bell}]\n")
    # a file's stem is not checked: the run folder's name is made safe instead
    Path("a run (copy).yaml").write_text(HEAD + BELL + "pubs: [{circuit: bell}]\n")
    w = load_workload("a run (copy).yaml")
    assert w.name == "a run (copy)"
    assert default_run_dir(w.name, w.digest).parent.name == "qprim-runs"
    assert default_run_dir("../" * 200, w.digest).name.startswith("workload-")


def test_declared_bits_limit(in_tmp: Path) -> None:
    def qasm(qubits: int) -> str:
        return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{qubits}];\ncreg c[1];\n' + (
            "measure q[0] -> c[0];\n"
        )

    Path("wide.qasm").write_text(qasm(MAX_CIRCUIT_BITS - 1))
    assert load_workload("wide.qasm").pubs[0].circuit.num_qubits == MAX_CIRCUIT_BITS - 1
    Path("wide.qasm").write_text(qasm(MAX_CIRCUIT_BITS))
    with pytest.raises(WorkloadError, match=r"^wide\.qasm:4: .*more than 100,000 qubits"):
        load_workload("wide.qasm")


def test_npz_limit_counts_unpacked_bytes(in_tmp: Path) -> None:
    np.savez_compressed("small.npz", values=np.zeros((3, 2)))
    text = (
        HEAD + ANSATZ + "pubs:\n  - circuit: a\n    parameters: {file: %s, names: [theta, phi]}\n"
    )
    load(text % "small.npz")
    np.savez_compressed("bomb.npz", values=np.zeros((5_000_000, 2)))  # 80 MB unpacked
    with pytest.raises(WorkloadError, match=r"^w\.yaml:14: bomb\.npz unpacks to 80,000,128"):
        load(text % "bomb.npz")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (CircuitFileFlags(seed=-1), "--seed must be an integer 0..2**63-1"),
        (CircuitFileFlags(seed=MAX_SIMULATOR_SEED + 1), "--seed must be an integer 0..2**63-1"),
        (CircuitFileFlags(shots=0), "--shots must be a positive integer"),
        (CircuitFileFlags(shots=MAX_SHOTS + 1), "--shots must be a positive integer, at most 10,"),
    ],
    ids=["seed-negative", "seed-2**63", "shots-0", "shots-10M+1"],
)
def test_flags_of_bare_circuit_files_have_the_same_limits(
    in_tmp: Path, bell_qasm3: str, flags: CircuitFileFlags, words: str
) -> None:
    Path("bell.qasm").write_text(bell_qasm3)
    with pytest.raises(InputError) as info:
        load_workload("bell.qasm", flags)
    assert str(info.value).startswith(words), info.value


def test_a_qasm_header_must_match_its_key(in_tmp: Path) -> None:
    legacy = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nmeasure q -> c;\n'
    block = "".join(f"      {line}\n" for line in legacy.splitlines())
    text = HEAD + "circuits:\n  x:\n    %s: |\n" + block + "pubs: [{circuit: x}]\n"
    load(text % "qasm2")
    with pytest.raises(WorkloadError, match=r"^w\.yaml:6: an OpenQASM 2 program under qasm3:"):
        load(text % "qasm3")


class TestOptions:
    """Each backend's own list: what it takes passes, anything else names the key."""

    def test_aer_takes_its_primitives_options(self) -> None:
        backend = {"backend_options": {"method": "statevector"}, "run_options": {}}
        assert aer_problem("sampler", {"default_shots": 10, **backend}) is None
        assert aer_problem("estimator", {"default_precision": 0.1, **backend}) is None
        problem = aer_problem("sampler", {"default_precision": 0.1})
        assert problem is not None and problem.path == ("default_precision",)

    def test_ibm_takes_the_clients_options(self) -> None:
        estimator = {
            "resilience_level": 1,
            "twirling": {"enable_gates": True},
            "environment": {"job_tags": ["a"]},
            "default_precision": 0.01,
        }
        assert ibm_problem("estimator", estimator) is None
        sampler = {"default_shots": 100, "dynamical_decoupling": {"enable": True}}
        assert ibm_problem("sampler", sampler) is None
        problem = ibm_problem("estimator", {"resilience": {"zne": {"noise_factors": [1, 0.5]}}})
        assert problem is not None and problem.path == ("resilience", "zne", "noise_factors")
        assert "greater than or equal to 1" in problem.message
        legacy = {"resilience": {"zne": {"noise_factors": [1, 0.5]}}}
        problem = ibm_problem("estimator", legacy, primitives="legacy")
        assert problem is not None and problem.path == ("resilience", "zne", "noise_factors")
        assert "must all be >= 1" in problem.message

    def test_an_aer_workload_does_not_import_the_ibm_client(self, in_tmp: Path) -> None:
        text = HEAD + "options: {default_shots: 10, run_options: {}}\n" + BELL
        Path("w.yaml").write_text(text + "pubs: [{circuit: bell}]\n")
        check = (
            "import sys; from qprim.workload import load_workload; load_workload('w.yaml'); "
            "print('qiskit_ibm_runtime' in sys.modules)"
        )
        done = subprocess.run(
            [sys.executable, "-c", check], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "False", done.stderr
