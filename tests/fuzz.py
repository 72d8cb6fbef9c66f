"""A table of malformed workloads, generated systematically.

Two sources: the fault campaign's cases (YAML bombs, huge and non-finite numbers,
names, OpenQASM that Qiskit cannot run, options per backend, oversized files), and
mutations of every example in examples/workloads: an unknown key at each level, a
wrong type or an out-of-range value for each key, each required key removed, a broken
QASM statement in each circuit. Every case must be refused with exit code 2 and
`FILE:LINE:` before anything is submitted or written.

Expected lines are found in the generated text with PyYAML's own composer or by
searching for the offending text, never with qprim's loader.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tests.support import EXAMPLES
from tests.workload.malformed import ANSATZ, BELL, EST, HEAD

Key = str | int
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """`text` is written to `w.yaml` and run; the error must name `file`, at `line`
    (None: any line of it, where no one line is the culprit) and contain `words`."""

    id: str
    text: str
    line: int | None
    words: tuple[str, ...]
    file: str = "w.yaml"
    setup: Setup | None = None
    files: dict[str, str] = field(default_factory=dict)


# ----- finding lines without qprim ---------------------------------------------------------
def line_containing(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle`."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def line_of(text: str, path: tuple[Key, ...]) -> int:
    """1-based line where qprim should point for `path`: a mapping entry's key, a list
    item's start. Uses PyYAML's composer only."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == part)
            line = key.start_mark.line + 1
        else:
            node = node.value[int(part)]
            line = node.start_mark.line + 1
    return line


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (QASM) as `|` blocks, as people write them."""


_Dumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=200)


# ----- the fault campaign ------------------------------------------------------------------
def _at(text: str, needle: str, *words: str, **kwargs: Any) -> Case:
    """A case whose error is on the line of `needle` (its id is given by the caller)."""
    return Case("", text, line_containing(text, needle), words, **kwargs)


def _named(cases: dict[str, Case]) -> list[Case]:
    return [
        Case(name, c.text, c.line, c.words, c.file, c.setup, c.files) for name, c in cases.items()
    ]


SAMPLER = HEAD + BELL + "pubs:\n  - circuit: bell\n"
ESTIMATOR = EST + BELL.replace("      c = measure q;\n", "")
SWEEP = HEAD + ANSATZ  # circuit `a` with parameters theta, phi


def _qasm2(body: str) -> str:
    """A sampler workload whose circuit `x` is this inline OpenQASM 2 body."""
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', *body.splitlines()]
    block = "".join(f"      {line}\n" for line in lines)
    return HEAD + "circuits:\n  x:\n    qasm2: |\n" + block + "pubs: [{circuit: x}]\n"


def _qasm3(body: str) -> str:
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', *body.splitlines()]
    block = "".join(f"      {line}\n" for line in lines)
    return HEAD + "circuits:\n  x:\n    qasm3: |\n" + block + "pubs: [{circuit: x}]\n"


def _ibm(options: str, primitive: str = "sampler") -> str:
    """An IBM workload (no block: the options are checked before any account is needed)."""
    head = HEAD if primitive == "sampler" else EST
    circuit = BELL if primitive == "sampler" else BELL.replace("      c = measure q;\n", "")
    load = "" if primitive == "sampler" else "    observables: ZZ\n"
    return (
        head
        + "backend: {kind: ibm, name: ibm_fez}\n"
        + f"options:\n{options}"
        + circuit
        + "pubs:\n  - circuit: bell\n"
        + load
    )


def _save(name: str, array: np.ndarray) -> Setup:
    return lambda folder: np.save(folder / name, array)


def _sparse_file(name: str, size: int) -> Setup:
    """A file of `size` bytes that takes no disk space: only its size matters."""

    def make(folder: Path) -> None:
        with open(folder / name, "wb") as handle:
            handle.truncate(size)

    return make


def _npz_bomb(folder: Path) -> None:
    """A few kB on disk that unpack to 80 MB."""
    np.savez_compressed(folder / "bomb.npz", values=np.zeros((10_000_000, 1)))


def _opaque_qpy(folder: Path) -> None:
    from qiskit import QuantumCircuit, qpy
    from qiskit.circuit import Gate

    circuit = QuantumCircuit(1, 1, name="magic_circuit")
    circuit.append(Gate("magic", 1, []), [0])
    circuit.measure(0, 0)
    with open(folder / "opaque.qpy", "wb") as handle:
        qpy.dump(circuit, handle)


def _deep_block(levels: int) -> str:
    return HEAD + "x:\n" + "".join("  " * i + "-\n" for i in range(1, levels))


def _laughs() -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return HEAD + "\n".join(lines) + "\n"


def _merge_bomb() -> str:
    lines = ["m0: &m0 {x: 1, y: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, 40)]
    return HEAD + "\n".join(lines) + "\n"


def campaign() -> list[Case]:
    """Every case of the fault campaign, with the line the message must name."""
    deep_flow = HEAD + "x: " + "[" * 5000 + "]" * 5000 + "\n"
    recursive = HEAD + "x: &r [1, *r]\n" + BELL + "pubs: [{circuit: bell}]\n"
    big = 10**30
    product = SWEEP + (
        "pubs:\n  - circuit: a\n    sweep: product\n    parameters:\n"
        "      theta: {linspace: [0, 1, 2000]}\n      phi: {linspace: [0, 1, 1000]}\n"
    )
    npy = SWEEP + "pubs:\n  - circuit: a\n    parameters: {file: s.npy, names: [theta, phi]}\n"
    broadcast = (
        EST
        + ANSATZ.replace("      c = measure q;\n", "")
        + "pubs:\n  - circuit: a\n    observables: ["
        + ", ".join(["[ZZ]"] * 2000)
        + "]\n    parameters: {theta: {linspace: [0, 1, 1000]}, phi: 0}\n"
    )
    many_pubs = HEAD + BELL + "pubs:\n" + "  - {circuit: bell, shots: 10000000}\n" * 11
    return _named(
        {
            # YAML bombs
            "yaml-deep-5000-flow": Case("", deep_flow, 3, ("deeper than 100 levels",)),
            "yaml-deep-1000-block": Case("", _deep_block(1000), None, ("deeper than 100",)),
            "yaml-billion-laughs": Case("", _laughs(), None, ("expands to more than 100,000",)),
            "yaml-merge-bomb": Case("", _merge_bomb(), None, ("expands to more than 100,000",)),
            "yaml-recursive-alias": _at(recursive, "*r]", "recursive alias"),
            "yaml-file-5-MiB": Case(
                "", HEAD + "# " + "x" * (5 * 2**20) + "\n", 1, ("more than the 4,194,304",)
            ),
            # numbers
            "shots-10**30": _at(
                SAMPLER + f"    shots: {big}\n", "shots:", "at most 10,000,000", str(big)
            ),
            "shots-10M+1": _at(SAMPLER + "    shots: 10000001\n", "shots:", "at most 10,000,000"),
            "backend-seed-10**30": _at(
                HEAD
                + f"backend: {{kind: aer, seed: {big}}}\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "backend:",
                "backend.seed must be an integer 0..2**63-1",
            ),
            "backend-seed-2**63": _at(
                HEAD + f"backend:\n  seed: {2**63}\n" + BELL + "pubs: [{circuit: bell}]\n",
                "seed:",
                "0..2**63-1",
            ),
            "transpile-seed-2**64": _at(
                HEAD + f"transpile:\n  seed: {2**64}\n" + BELL + "pubs: [{circuit: bell}]\n",
                "seed:",
                "transpile.seed must be an integer 0..2**64-1",
            ),
            "default-shots-10**30": _at(
                HEAD + f"options:\n  default_shots: {big}\n" + BELL + "pubs: [{circuit: bell}]\n",
                "default_shots",
                "default_shots must be a positive integer, at most 10,000,000",
            ),
            "linspace-billion": _at(
                SWEEP + "pubs:\n  - circuit: a\n    parameters:\n"
                "      phi: 0\n      theta: {linspace: [0, 1, 1000000000]}\n",
                "theta:",
                "1..1,000,000",
                "1000000000",
            ),
            "product-2000x1000": _at(
                product, "parameters:", "2000 x 1000", "2,000,000 points", "1,000,000"
            ),
            "npy-1M+1-points": _at(
                npy,
                "file: s.npy",
                "1,000,001 points",
                setup=_save("s.npy", np.zeros((10**6 + 1, 2))),
            ),
            "broadcast-2M-points": _at(broadcast, "observables:", "2,000,000 points"),
            "executions-110M": Case(  # the 11th PUB, the last line, crosses the limit
                "", many_pubs, many_pubs.count("\n"), ("110,000,000 executions", "100,000,000")
            ),
            "npz-bomb": _at(
                SWEEP + "pubs:\n  - circuit: a\n    parameters: {file: bomb.npz, names: [theta]}\n",
                "bomb.npz",
                "unpacks to 80,000,",
                setup=_npz_bomb,
            ),
            "npy-65-MiB": _at(
                npy,
                "file: s.npy",
                "more than the 67,108,864",
                setup=_sparse_file("s.npy", 65 * 2**20),
            ),
            "qasm-file-65-MiB": _at(
                HEAD + "circuits:\n  x: {file: big.qasm}\npubs: [{circuit: x}]\n",
                "big.qasm",
                "big.qasm is 68,157,440 bytes",
                setup=_sparse_file("big.qasm", 65 * 2**20),
            ),
            "qpy-file-65-MiB": _at(
                HEAD + "circuits:\n  x: {file: big.qpy}\npubs: [{circuit: x}]\n",
                "big.qpy",
                "more than the 67,108,864",
                setup=_sparse_file("big.qpy", 65 * 2**20),
            ),
            "observable-nan": _at(
                ESTIMATOR + "pubs:\n  - circuit: bell\n    observables: {XX: 1.0, YY: .nan}\n",
                "observables:",
                "must be a finite number, not nan",
            ),
            "sparse-inf": _at(
                ESTIMATOR + "pubs:\n  - circuit: bell\n    observables:\n      sparse:\n"
                "        - [ZZ, [0, 1], .inf]\n      num_qubits: 2\n",
                "- [ZZ",
                "finite number, not inf",
            ),
            "precision-inf": _at(
                ESTIMATOR + "pubs:\n  - circuit: bell\n    observables: ZZ\n    precision: .inf\n",
                "precision:",
                "finite number, not inf",
            ),
            "precision-nan": _at(
                ESTIMATOR + "pubs:\n  - circuit: bell\n    observables: ZZ\n    precision: .nan\n",
                "precision:",
                "finite number, not nan",
            ),
            "default-precision-nan": _at(
                ESTIMATOR.replace(
                    BELL.splitlines()[0], "options: {default_precision: .nan}\ncircuits:"
                )
                + "pubs:\n  - circuit: bell\n    observables: ZZ\n",
                "options:",
                "default_precision must be a finite number",
            ),
            "parameter-inf": _at(
                SWEEP + "pubs:\n  - circuit: a\n    parameters:\n      phi: 0\n"
                "      theta:\n        - 0.5\n        - -.inf\n",
                "- -.inf",
                "finite number, not -inf",
            ),
            "linspace-nan": _at(
                SWEEP + "pubs:\n  - circuit: a\n    parameters:\n      phi: 0\n"
                "      theta: {linspace: [0, .nan, 3]}\n",
                "theta:",
                "finite number, not nan",
            ),
            "npy-nan": _at(
                npy, "file: s.npy", "finite", setup=_save("s.npy", np.array([[0.0, np.nan]]))
            ),
            "npy-inf": _at(
                npy, "file: s.npy", "finite", setup=_save("s.npy", np.array([[np.inf, 0.0]]))
            ),
            "expect-tolerance-inf": _at(
                SAMPLER + "expect:\n  - pub: 0\n    counts: {'00': 1.0}\n    tolerance: .inf\n",
                "tolerance:",
                "finite number, not inf",
            ),
            "expect-counts-nan": _at(
                SAMPLER
                + "expect:\n  - pub: 0\n    counts:\n      '00': .nan\n    tolerance: 0.1\n",
                "'00'",
                "finite number, not nan",
            ),
            "expect-evs-inf": _at(
                ESTIMATOR + "pubs:\n  - circuit: bell\n    observables: ZZ\n"
                "expect:\n  - pub: 0\n    evs: .inf\n    tolerance: 0.1\n",
                "evs:",
                "finite number, not inf",
            ),
            # names that become file names
            "name-with-slash": _at(
                HEAD + "name: nightly/../../etc\n" + BELL + "pubs: [{circuit: bell}]\n",
                "name:",
                "name must be letters, digits",
            ),
            "name-300-characters": _at(
                HEAD + f"name: {'n' * 300}\n" + BELL + "pubs: [{circuit: bell}]\n",
                "name:",
                "at most 80 characters",
                "(300 characters)",
            ),
            "name-dot-dot": _at(
                HEAD + "name: ..\n" + BELL + "pubs: [{circuit: bell}]\n", "name:", "starting with"
            ),
            # OpenQASM that Qiskit cannot run
            "qasm2-opaque": _at(
                _qasm2("opaque magic a;\nqreg q[1];\ncreg c[1];\nmagic q[0];\nmeasure q -> c;"),
                "opaque magic",
                "gate 'magic' has no definition",
            ),
            "qasm2-opaque-in-definition": _at(
                _qasm2(
                    "opaque magic a;\ngate wrap a { magic a; }\nqreg q[1];\ncreg c[1];\n"
                    "wrap q[0];\nmeasure q -> c;"
                ),
                "opaque magic",
                "gate 'magic' has no definition",
            ),
            "qasm2-opaque-file": Case(
                "",
                HEAD + "circuits:\n  x: {file: opaque.qasm}\npubs: [{circuit: x}]\n",
                4,
                ("gate 'magic' has no definition",),
                file="opaque.qasm",
                files={
                    "opaque.qasm": 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n'
                    "opaque magic a;\ncreg c[1];\nmagic q[0];\nmeasure q -> c;\n"
                },
            ),
            "qpy-opaque": _at(
                HEAD + "circuits:\n  x:\n    file: opaque.qpy\npubs: [{circuit: x}]\n",
                "file: opaque.qpy",
                "gate 'magic' has no definition",
                setup=_opaque_qpy,
            ),
            "qasm2-undefined-gate": _at(
                _qasm2("qreg q[1];\ncreg c[1];\nmagic q[0];\nmeasure q -> c;"),
                "magic q",
                "'magic' is not defined",
            ),
            "qasm2-missing-include": _at(
                _qasm2('include "nowhere.inc";\nqreg q[1];'), "nowhere.inc", "nowhere.inc"
            ),
            "qasm2-100M-qubits": _at(
                _qasm2("qreg q[100000000];\ncreg c[1];\nmeasure q[0] -> c[0];"),
                "qreg q[100000000]",
                "more than 100,000 qubits and bits",
            ),
            "qasm3-undefined-gate": _at(
                _qasm3("qubit[1] q;\nbit[1] c;\nmagic q[0];\nc = measure q;"),
                "magic q",
                "gate 'magic' is not defined",
            ),
            "qasm3-subroutine": _at(
                _qasm3("def f(qubit a) { h a; }\nqubit[1] q;\nbit[1] c;\nc = measure q;"),
                "def f",
                "SubroutineDefinition",
            ),
            "qasm3-extern": _at(
                _qasm3("extern f(int) -> int;\nqubit[1] q;\nbit[1] c;\nc = measure q;"),
                "extern",
                "ExternDeclaration",
            ),
            "qasm3-const": _at(
                _qasm3("const int n = 2;\nqubit[n] q;\nbit[n] c;\nc = measure q;"),
                "const int",
                "ConstantDeclaration",
            ),
            "qasm3-int-variable": _at(
                _qasm3("qubit[1] q;\nbit[1] c;\nint i = 3;\nc = measure q;"),
                "int i",
                "'int' are not supported",
            ),
            "qasm3-calibration": _at(
                _qasm3('defcalgrammar "openpulse";\nqubit[1] q;\nbit[1] c;\nc = measure q;'),
                "defcalgrammar",
                "CalibrationGrammarDeclaration",
            ),
            "qasm3-end": _at(
                _qasm3("qubit[1] q;\nbit[1] c;\nc = measure q;\nend;"), "end;", "EndStatement"
            ),
            "qasm3-other-include": _at(
                _qasm3('include "mine.inc";\nqubit[1] q;'), "mine.inc", "imports not currently"
            ),
            "qasm-version-4": _at(
                HEAD + "circuits:\n  x:\n    qasm3: |\n      OPENQASM 4.0;\n      qubit q;\n"
                "pubs: [{circuit: x}]\n",
                "OPENQASM 4.0",
                "unsupported OpenQASM version 4",
            ),
            "qasm-header-mismatch": _at(
                HEAD + "circuits:\n  x:\n    qasm3: |\n      // a legacy circuit\n"
                '      OPENQASM 2.0;\n      include "qelib1.inc";\n      qreg q[1];\n'
                "pubs: [{circuit: x}]\n",
                "OPENQASM 2.0",
                "an OpenQASM 2 program under qasm3:",
            ),
            "qasm3-box-on-aer": _at(
                _qasm3("qubit[1] q;\nbit[1] c;\nbox { h q[0]; }\nc = measure q;"),
                "{circuit: x}",
                "uses box, which aer:aer_simulator cannot run",
            ),
            "qasm3-while-on-fake-manila": _at(
                _qasm3(
                    "qubit[1] q;\nbit[1] c;\nc = measure q;\n"
                    "while (c == 0) { h q[0]; c = measure q; }"
                ).replace("circuits:", "backend: {name: fake_manila}\ncircuits:"),
                "{circuit: x}",
                "uses while_loop, which aer:fake_manila cannot run",
            ),
            # options, per backend
            "aer-vendor-option": _at(
                HEAD
                + "options:\n  twirling: {enable_gates: true}\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "twirling",
                "Aer's sampler has no such option",
                "default_shots, backend_options, run_options",
            ),
            "aer-estimator-default-shots": _at(
                ESTIMATOR.replace(BELL.splitlines()[0], "options: {default_shots: 100}\ncircuits:")
                + "pubs:\n  - circuit: bell\n    observables: ZZ\n",
                "options:",
                "Aer's estimator has no such option",
                "default_precision",
            ),
            "aer-backend-option-name": _at(
                HEAD
                + "options:\n  backend_options:\n    bogus: 1\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "bogus",
                "Aer's simulator rejects it",
            ),
            "aer-backend-option-value": _at(
                HEAD
                + "options:\n  backend_options:\n    method: nonsense\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "method:",
                "Invalid simulation method nonsense",
            ),
            "aer-run-options-not-mapping": _at(
                HEAD + "options:\n  run_options: 5\n" + BELL + "pubs: [{circuit: bell}]\n",
                "run_options",
                "expected a mapping",
            ),
            "aer-noise-model-option": _at(
                HEAD
                + "options:\n  backend_options:\n    noise_model: {}\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "noise_model",
                "qprim sets noise_model itself",
            ),
            "ibm-unknown-option": _at(
                _ibm("  bogus_option: 1\n"),
                "bogus_option",
                "no such option in SamplerOptions",
                "twirling",
            ),
            "ibm-unknown-sub-option": _at(
                _ibm("  twirling:\n    enable_gates: true\n    bogus: 1\n"),
                "bogus",
                "options.twirling.bogus",
                "enable_measure",
            ),
            "ibm-resilience-level-5": _at(
                _ibm("  resilience_level: 5\n", "estimator"),
                "resilience_level",
                "EstimatorOptions (qiskit_ibm_runtime.options_models",
                "Input should be 0, 1 or 2",
            ),
            "ibm-legacy-resilience-level-5": _at(
                _ibm("  resilience_level: 5\n", "estimator").replace(
                    "options:", "execution: {primitives: legacy}\noptions:"
                ),
                "resilience_level",
                "EstimatorOptions (qiskit_ibm_runtime.options,",
                "resilience_level must be <=2",
            ),
            "ibm-legacy-only-option": _at(
                _ibm("  seed_estimator: 3\n", "estimator"),
                "seed_estimator",
                "no such option in EstimatorOptions",
                "execution.primitives: legacy",
            ),
            "ibm-client-only-option-on-legacy": _at(
                _ibm("  twirling:\n    group: pauli\n").replace(
                    "options:", "execution: {primitives: legacy}\noptions:"
                ),
                "group",
                "the legacy primitives",
                "remove execution.primitives: legacy",
            ),
            "ibm-mitigation-overrides-twirling": _at(
                _ibm("  twirling:\n    enable_measure: false\n", "estimator"),
                "enable_measure",
                "measurement mitigation requires twirling.enable_measure=True",
            ),
            "ibm-options-group-not-mapping": _at(
                _ibm("  twirling: 3\n"), "twirling", "expected a mapping of sub-options"
            ),
            "ibm-sampler-default-precision": _at(
                _ibm("  default_precision: 0.1\n"),
                "default_precision",
                "no such option in SamplerOptions",
            ),
            "aer-fractional-gates": _at(
                HEAD
                + "backend: {kind: aer, fractional_gates: true}\n"
                + BELL
                + "pubs: [{circuit: bell}]\n",
                "fractional_gates",
                "IBM device setting",
            ),
            "ibm-min-qubits-without-least-busy": _at(
                _ibm("  default_shots: 10\n").replace(
                    "name: ibm_fez}", "name: ibm_fez,\n  min_qubits: 5}"
                ),
                "min_qubits",
                "least_busy",
            ),
            "ibm-min-qubits-zero": _at(
                _ibm("  default_shots: 10\n").replace(
                    "name: ibm_fez}", "name: least_busy,\n  min_qubits: 0}"
                ),
                "min_qubits",
                "a positive integer",
            ),
            "aer-primitives": _at(
                HEAD + "execution:\n  primitives: legacy\n" + BELL + "pubs: [{circuit: bell}]\n",
                "primitives",
                "applies to IBM backends",
            ),
            "ibm-unknown-primitives": _at(
                _ibm("  default_shots: 10\n") + "execution:\n  primitives: server\n",
                "primitives: server",
                "executor or legacy",
            ),
            "ibm-max-time-without-group": _at(
                _ibm("  default_shots: 10\n") + "execution:\n  max_time: 600\n",
                "max_time",
                "batch or session",
            ),
            "ibm-max-time-negative": _at(
                _ibm("  default_shots: 10\n") + "execution:\n  mode: session\n  max_time: -1\n",
                "max_time",
                "a positive integer",
            ),
            "ibm-max-execution-time-zero": _at(
                _ibm("  default_shots: 10\n") + "execution:\n  max_execution_time: 0\n",
                "max_execution_time",
                "a positive integer",
            ),
            "ibm-max-execution-time-twice": _at(
                _ibm("  max_execution_time: 60\n") + "execution:\n  max_execution_time: 60\n",
                "  max_execution_time: 60\n",
                "given twice",
            ),
            "ibm-max-usage-seconds-negative": _at(
                _ibm("  default_shots: 10\n") + "execution:\n  max_usage_seconds: -5\n",
                "max_usage_seconds",
                "a positive number",
            ),
            "aer-retry": _at(
                HEAD + "retry: {failed: 2}\n" + BELL + "pubs: [{circuit: bell}]\n",
                "retry",
                "applies to IBM jobs",
            ),
            "ibm-retry-too-many": _at(
                _ibm("  default_shots: 10\n") + "retry:\n  failed: 11\n",
                "failed: 11",
                "0..10",
            ),
            "ibm-bad-log-level": _at(
                _ibm("  environment:\n    log_level: LOUD\n"),
                "log_level",
                "options.environment.log_level",
            ),
            **_hostile_files(npy),
        }
    )


def _link(name: str, target: str) -> Setup:
    return lambda folder: (folder / name).symlink_to(target)


def _fifo(name: str) -> Setup:
    return lambda folder: os.mkfifo(folder / name)


def _hostile_files(npy: str) -> dict[str, Case]:
    """Files that are not what they claim, and encodings that are not UTF-8."""
    qasm = HEAD + "circuits:\n  x: {file: c.qasm}\npubs: [{circuit: x}]\n"
    qpy = HEAD + "circuits:\n  x: {file: c.qpy}\npubs: [{circuit: x}]\n"
    device = "is a character device, not a regular file"
    pipe = "is a named pipe, not a regular file"
    bad_byte = "\n# caf\udce9 au lait\n"  # written as the single byte 0xe9 (latin-1)
    return {
        # not regular files: a device never ends, a pipe may never answer, both size 0
        "qasm-file-dev-zero": _at(
            qasm, "c.qasm", "c.qasm " + device, setup=_link("c.qasm", "/dev/zero")
        ),
        "qasm-file-named-pipe": _at(qasm, "c.qasm", "c.qasm " + pipe, setup=_fifo("c.qasm")),
        "qpy-file-dev-zero": _at(
            qpy, "c.qpy", "c.qpy " + device, setup=_link("c.qpy", "/dev/zero")
        ),
        "npy-dev-zero": _at(
            npy, "file: s.npy", "s.npy " + device, setup=_link("s.npy", "/dev/zero")
        ),
        "npy-named-pipe": _at(npy, "file: s.npy", "s.npy " + pipe, setup=_fifo("s.npy")),
        "qasm-file-folder": _at(
            qasm, "c.qasm", "c.qasm is a folder", setup=lambda f: (f / "c.qasm").mkdir()
        ),
        # sweeps that are not real numbers, or no points at all
        "npy-no-points": _at(
            npy, "file: s.npy", "holds no points", setup=_save("s.npy", np.zeros((0, 2)))
        ),
        "npy-complex": _at(
            npy,
            "file: s.npy",
            "holds complex numbers",
            "real numbers",
            setup=_save("s.npy", np.array([[1 + 2j, 0.5]])),
        ),
        "npy-strings": _at(
            npy, "file: s.npy", "holds text", setup=_save("s.npy", np.array([["0.5", "1"]]))
        ),
        "npy-booleans": _at(
            npy, "file: s.npy", "holds booleans", setup=_save("s.npy", np.array([[True, False]]))
        ),
        # files that say nothing, or not in UTF-8
        "qasm-file-empty": Case(
            "", qasm, 1, ("OpenQASM program is empty",), file="c.qasm", files={"c.qasm": ""}
        ),
        "qasm-file-only-comments": Case(
            "", qasm, 1, ("program is empty",), file="c.qasm", files={"c.qasm": "// todo\n"}
        ),
        "workload-bad-byte": _at(
            HEAD + BELL + bad_byte + "pubs: [{circuit: bell}]\n", "caf", "column 6", "0xe9"
        ),
        "qasm-file-bad-byte": Case(
            "",
            qasm,
            3,
            ("column 7", "byte 0xe9 is not UTF-8"),
            file="c.qasm",
            files={"c.qasm": "OPENQASM 3.0;\nqubit q;\n// caf\udce9\n"},
        ),
    }


# ----- mutations of the examples -----------------------------------------------------------
# (path pattern, bad value, words); "*" is the first list item or mapping entry
WRONG_VALUES: list[tuple[tuple[Key, ...], Any, tuple[str, ...]]] = [
    (("qprim",), "one", ("unsupported format version",)),
    (("primitive",), "annealer", ("primitive must be sampler or estimator",)),
    (("name",), "runs/today", ("name must be letters",)),
    (("backend",), "aer", ("backend must be the backend",)),
    (("backend", "kind"), "quantum", ("backend.kind must be one of: aer, ibm",)),
    (("backend", "noise"), "loud", ("backend.noise must be true or false",)),
    (("backend", "seed"), -1, ("backend.seed must be an integer 0..2**63-1",)),
    (("backend", "seed"), 2**63, ("backend.seed must be an integer 0..2**63-1",)),
    (("backend", "seed"), "1234", ("backend.seed must be",)),
    (("transpile",), [1, 2], ("transpile must be",)),
    (("transpile", "optimization_level"), 4, ("an integer 0..3",)),
    (("transpile", "optimization_level"), -1, ("an integer 0..3",)),
    (("transpile", "seed"), 2**64, ("0..2**64-1",)),
    (("options", "default_shots"), 0, ("default_shots must be a positive integer",)),
    (("options", "default_shots"), 10**7 + 1, ("at most 10,000,000",)),
    (("tags",), "nightly", ("tags must be a list of labels",)),
    (("circuits",), [], ("circuits must be named circuits",)),
    (("circuits",), {}, ("circuits must be named circuits, at least one",)),
    (("circuits", "*", "qasm3"), 5, ("must be an OpenQASM 3 program",)),
    (("circuits", "*", "qasm2"), 5, ("must be an OpenQASM 2 program",)),
    (("circuits", "*", "file"), "missing.qpy", ("file not found: missing.qpy",)),
    (("circuits", "*", "file"), "circuit.txt", ("unsupported circuit file circuit.txt",)),
    (("circuits", "*", "index"), -1, ("from 0",)),
    (("circuits", "*", "index"), 99, ("index 99 is out of range",)),
    (("circuits", "*", "select"), "nosuch", ("no circuit named 'nosuch'",)),
    (("pubs",), {}, ("pubs must be a list of PUBs",)),
    (("pubs",), [], ("pubs must be a list of PUBs, at least one",)),
    (("pubs", 0, "circuit"), "nosuch", ("no circuit named 'nosuch'",)),
    (("pubs", 0, "shots"), 0, ("shots must be a positive integer",)),
    (("pubs", 0, "shots"), 10.5, ("shots must be a positive integer",)),
    (("pubs", 0, "shots"), 10**30, ("at most 10,000,000",)),
    (("pubs", 0, "sweep"), "diagonal", ("sweep must be zip or product",)),
    (("pubs", 0, "observables"), "ZQ", ("'ZQ' is not a Pauli label",)),
    (("pubs", 0, "observables"), [], ("must not be empty",)),
    (("pubs", 0, "parameters", "*"), "abc", ("parameters",)),
    (("pubs", 0, "parameters", "*"), "0.5", ("(got '0.5')",)),  # a number only if unquoted
    (("pubs", 0, "parameters", "*"), True, ("(got True)",)),
    (("pubs", 0, "parameters", "*"), [], ("has no values",)),
    (("pubs", 0, "parameters", "*"), float("nan"), ("finite number, not nan",)),
    (("expect", 0, "pub"), -1, ("expect[0].pub must be a PUB index",)),
    (("expect", 0, "pub"), 99, ("pub 99 does not exist",)),
    (("expect", 0, "tolerance"), 0, ("tolerance must be a positive number",)),
    (("expect", 0, "tolerance"), float("inf"), ("finite number, not inf",)),
    (("expect", 0, "counts"), "half", ("expect[0].counts must be",)),
    (("expect", 0, "evs"), "one", ("expect[0].evs must be",)),
]
# Required keys: removing one points at its parent, which names it.
REQUIRED: list[tuple[tuple[Key, ...], str]] = [
    (("qprim",), '"qprim: 1"'),
    (("primitive",), "missing key 'primitive'"),
    (("circuits",), "missing key 'circuits'"),
    (("pubs",), "missing key 'pubs'"),
    (("pubs", 0, "circuit"), "missing key 'circuit' in pubs[0]"),
    (("expect", 0, "pub"), "missing key 'pub' in expect[0]"),
    (("expect", 0, "tolerance"), "missing key 'tolerance' in expect[0]"),
]
UNKNOWN = "zz_unknown"


@dataclass(frozen=True)
class Example:
    name: str
    data: dict[str, Any]


def examples() -> list[Example]:
    return [
        Example(path.stem, yaml.safe_load(path.read_text()))
        for path in sorted(EXAMPLES.glob("*.yaml"))
    ]


def copy_example_files(folder: Path) -> None:
    """The files the examples refer to (circuits/...), beside `w.yaml`."""
    shutil.copytree(EXAMPLES / "circuits", folder / "circuits", dirs_exist_ok=True)


def _resolve(data: Any, pattern: tuple[Key, ...]) -> tuple[Key, ...] | None:
    """`pattern` with "*" made concrete (the first entry the rest applies to), or None
    if `data` has no such place."""
    if not pattern:
        return ()
    part, rest = pattern[0], pattern[1:]
    if isinstance(data, dict):
        keys = list(data) if part == "*" else [part] if part in data else []
    elif isinstance(data, list) and isinstance(part, int) and part < len(data):
        keys = [part]
    else:
        keys = []
    for key in keys:
        found = _resolve(data[key], rest)
        if found is not None:
            return (key, *found)
    return None


def _get(data: Any, path: tuple[Key, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _fixed_keys(path: tuple[Key, ...], data: dict[str, Any]) -> bool:
    """Whether a mapping's keys are a fixed set (not circuit names, parameter names,
    Pauli labels, bitstrings or the backend's options)."""
    if "options" in path or "counts" in path or path == ("circuits",):
        return False
    if "observables" in path:
        return "sparse" in data
    if path[-1:] == ("parameters",):
        return "file" in data
    return True


def _mapping_paths(data: Any, path: tuple[Key, ...] = ()) -> Iterator[tuple[Key, ...]]:
    """Every mapping in the document whose keys are a fixed set."""
    if isinstance(data, dict):
        if _fixed_keys(path, data):
            yield path
        for key, value in data.items():
            yield from _mapping_paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _mapping_paths(value, (*path, i))


def _case(
    example: Example, what: str, data: Any, words: tuple[str, ...], at: tuple[Key, ...]
) -> Case:
    text = dump(data)
    return Case(f"{example.name}-{what}", text, line_of(text, at), words, setup=copy_example_files)


def mutations(example: Example) -> Iterator[Case]:
    """Every systematic mutation of one example that applies to it."""
    for path in _mapping_paths(example.data):
        data = copy.deepcopy(example.data)
        _get(data, path)[UNKNOWN] = 1
        where = ".".join(map(str, path)) or "top"
        yield _case(
            example, f"unknown-key-{where}", data, (f"unknown key '{UNKNOWN}'",), (*path, UNKNOWN)
        )
    for i, (pattern, value, words) in enumerate(WRONG_VALUES):
        path = _resolve(example.data, pattern)
        if path is not None:
            data = copy.deepcopy(example.data)
            _get(data, path[:-1])[path[-1]] = value
            yield _case(example, f"value-{i}-{'.'.join(map(str, path))}", data, words, path)
    for path, word in REQUIRED:
        if _resolve(example.data, path) is not None:
            data = copy.deepcopy(example.data)
            del _get(data, path[:-1])[path[-1]]
            yield _case(example, f"missing-{'.'.join(map(str, path))}", data, (word,), path[:-1])
    yield from _broken_qasm(example)


def _broken_qasm(example: Example) -> Iterator[Case]:
    """A statement no QASM version knows, in the middle of each inline circuit."""
    for name, entry in example.data["circuits"].items():
        for key in ("qasm2", "qasm3"):
            if key in entry:
                data = copy.deepcopy(example.data)
                lines = entry[key].splitlines()
                at = len(lines) - 1  # before the last statement: every register is declared
                lines.insert(at, "bogus_gate q[0];")
                data["circuits"][name][key] = "\n".join(lines) + "\n"
                text = dump(data)
                line = line_of(text, ("circuits", name, key)) + 1 + at  # `|`: from the next line
                version = key[-1]
                yield Case(
                    f"{example.name}-broken-{key}-{name}",
                    text,
                    line,
                    (f"invalid OpenQASM {version}", "bogus_gate"),
                    setup=copy_example_files,
                )


def _broken_qasm_file() -> Case:
    """A broken statement in a circuit file: the message names that file's own line."""
    lines = (EXAMPLES / "circuits" / "teleportation_n3.qasm").read_text().splitlines()
    lines.insert(9, "bogus_gate q[0];")
    example = (EXAMPLES / "qasm-file.yaml").read_text()
    return Case(
        "qasm-file-broken-statement",
        example,
        10,
        ("invalid OpenQASM 2", "bogus_gate"),
        file="circuits/teleportation_n3.qasm",
        setup=copy_example_files,
        files={"circuits/teleportation_n3.qasm": "\n".join(lines) + "\n"},
    )


def _unreadable_qpy() -> Case:
    example = (EXAMPLES / "qpy-select.yaml").read_text()
    return Case(
        "qpy-select-unreadable-qpy",
        example,
        line_containing(example, "file: circuits/trotter.qpy"),
        ("not a readable QPY file",),
        setup=copy_example_files,
        files={"circuits/trotter.qpy": "not a qpy file"},
    )


def all_cases() -> list[Case]:
    """The whole table: campaign cases first, then every example's mutations."""
    cases = [*campaign(), _broken_qasm_file(), _unreadable_qpy()]
    for example in examples():
        cases.extend(mutations(example))
    return cases
