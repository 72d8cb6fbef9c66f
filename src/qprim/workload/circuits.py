"""Load circuits from OpenQASM 2/3 text or files and QPY files.

Every failure becomes a WorkloadError. For invalid QASM the location is the QASM
text's own line: `circuits/bad.qasm:225:` for a file, and for an inline block the
YAML file's line (block start + line inside the block), so the user lands on the
offending statement either way.

Two kinds of circuit load fine and fail later, so they are caught here: a gate with
no definition (OpenQASM 2 `opaque`, or an opaque gate in a QPY file) that the
transpiler cannot synthesize, and a declaration of more bits than memory holds.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from qiskit import QuantumCircuit, qasm2, qasm3, qpy
from qiskit.circuit import CONTROL_FLOW_OP_NAMES, Operation
from qiskit.circuit.library import get_standard_gate_name_mapping

from qprim.errors import suggest
from qprim.workload.limits import MAX_CIRCUIT_BITS, MAX_FILE_BYTES, MAX_WORKLOAD_BYTES, count
from qprim.workload.types import Location, WorkloadError

_HEADER = re.compile(r"\A\s*(?:(?://[^\n]*(?:\n|\Z)|/\*.*?\*/)\s*)*OPENQASM\s+(\d+)", re.DOTALL)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_QISKIT_POS = re.compile(r"\A(?:.*?:)?(\d+),(\d+):\s*(.*)\Z", re.DOTALL)
_ANTLR_POS = re.compile(r"\AL(\d+):C(\d+):\s*(.*)\Z", re.DOTALL)
# `qreg q[5];` / `creg c[5];` (OpenQASM 2 and 3), `qubit[5] q;` / `bit[5] c;` (3)
_DECLARATION = re.compile(
    r"\b(?:qreg|creg)\s+\w+\s*\[\s*(\d+)\s*\]|\b(?:qubit|bit)\s*\[\s*(\d+)\s*\]"
)
# Operations every backend path handles without a definition (the transpiler knows them).
_BUILT_IN = frozenset(
    {
        *get_standard_gate_name_mapping(),
        *CONTROL_FLOW_OP_NAMES,
        "break_loop",
        "continue_loop",
        "barrier",
        "store",
    }
)

# Maps a line inside the QASM text (1-based) to the Location to report.
LineMap = Callable[[int], Location]

FileKind = Literal["workload", "circuit", "sweep"]
_SIZE_LIMITS: dict[FileKind, tuple[int, str]] = {
    "workload": (MAX_WORKLOAD_BYTES, "keep circuits in .qasm/.qpy files and sweeps in .npy files"),
    "circuit": (MAX_FILE_BYTES, "split it into several circuit files"),
    "sweep": (MAX_FILE_BYTES, "split the sweep into several files, one PUB each"),
}


def load_qasm_text(
    text: str, where: LineMap, include_dirs: tuple[Path, ...], version: int | None = None
) -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 text. The version is the `OPENQASM x` header's (OpenQASM 3
    makes it optional), which must agree with `version` when the YAML key gives one."""
    if not _COMMENT.sub("", text).strip():
        raise WorkloadError(
            where(1),
            "the OpenQASM program is empty; write one, e.g. "
            '"OPENQASM 3.0; qubit q; bit c; h q; c = measure q;"',
        )
    header = _HEADER.match(text)
    if header is not None:
        declared, line = int(header.group(1)), text.count("\n", 0, header.end()) + 1
        if declared not in (2, 3):
            raise WorkloadError(
                where(line),
                f"unsupported OpenQASM version {declared}; "
                'expected "OPENQASM 2.0;" or "OPENQASM 3.0;"',
            )
        if version is not None and declared != version:
            raise WorkloadError(
                where(line),
                f"an OpenQASM {declared} program under qasm{version}:; write it under "
                f'qasm{declared}:, or start it with "OPENQASM {version}.0;"',
            )
        version = declared
    version = version or 3
    _check_declared_bits(text, where)
    try:
        if version == 2:
            circuit = qasm2.loads(
                text,
                include_path=tuple(str(d) for d in include_dirs),
                custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
            )
        else:
            circuit = qasm3.loads(text)
    except Exception as exc:  # qiskit, openqasm3 and antlr raise many types
        line, message = _qasm_error_position(exc)
        raise WorkloadError(where(line), f"invalid OpenQASM {version}: {message}") from None
    opaque = _undefined_gate(circuit)
    if opaque is not None:
        raise WorkloadError(where(_line_of_gate(text, opaque)), _opaque_message(opaque))
    return circuit


def _check_declared_bits(text: str, where: LineMap) -> None:
    """Qiskit makes an object per declared bit: stop `qreg q[100000000];` before it does."""
    total = 0
    for match in _DECLARATION.finditer(text):
        total += int(match.group(1) or match.group(2))
        if total > MAX_CIRCUIT_BITS:
            raise WorkloadError(
                where(text.count("\n", 0, match.start()) + 1),
                f"the program declares more than {count(MAX_CIRCUIT_BITS)} qubits and bits "
                'in all; declare what the circuit uses, e.g. "qreg q[5];"',
            )


def _undefined_gate(circuit: QuantumCircuit) -> str | None:
    """The name of a gate the circuit uses that has no definition, inside control flow
    and other gates' definitions too; None if every operation can be compiled."""
    checked: set[str] = set()

    def missing(operation: Operation) -> str | None:
        blocks = getattr(operation, "blocks", ())
        if operation.name in _BUILT_IN:
            return next(filter(None, (inner(block) for block in blocks)), None)
        if operation.name in checked:
            return None
        checked.add(operation.name)
        definition = getattr(operation, "definition", None)
        return operation.name if definition is None else inner(definition)

    def inner(body: QuantumCircuit) -> str | None:
        return next(filter(None, (missing(inst.operation) for inst in body.data)), None)

    return inner(circuit)


def _line_of_gate(text: str, name: str) -> int:
    """The line that declares gate `name` opaque, else the first that mentions it."""
    for pattern in (rf"\bopaque\s+{re.escape(name)}\b", rf"\b{re.escape(name)}\b"):
        match = re.search(pattern, text)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return 1


def _opaque_message(name: str) -> str:
    return (
        f"gate '{name}' has no definition (an opaque gate), so no backend can run it; "
        f'define it, e.g. "gate {name} a {{ h a; }}", or use a standard gate'
    )


def _qasm_error_position(exc: BaseException) -> tuple[int, str]:
    text = str(getattr(exc, "message", None) or exc).strip()
    for pattern in (_QISKIT_POS, _ANTLR_POS):
        match = pattern.match(text)
        if match:
            return int(match.group(1)), match.group(3)
    pending: list[BaseException] = [exc]  # openqasm3's bare QASM3ParsingError() hides
    seen: set[int] = set()
    while pending:  # antlr's offending token in its cause's args
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        token = getattr(current, "offendingToken", None)
        if token is not None and getattr(token, "line", None):
            return int(token.line), f"syntax error near '{token.text}'"
        pending.extend(a for a in current.args if isinstance(a, BaseException))
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return 1, text or type(exc).__name__


def shown_path(base: str, relative: str) -> str:
    """A referenced file as the user would type it: relative paths stay relative."""
    return os.path.normpath(os.path.join(os.path.dirname(base), relative))


def check_file(path: Path, shown: str, where: Location, kind: FileKind) -> None:
    """A file qprim reads whole must be a regular file (after links: a device such as
    /dev/zero never ends, a named pipe may never answer, and both report size 0) within
    its kind's size limit. A missing one: the reader says."""
    try:
        status = path.stat()
    except OSError:
        return
    if not stat.S_ISREG(status.st_mode):
        raise WorkloadError(
            where,
            f"{shown} is {_file_type(status.st_mode)}, not a regular file; name a {kind} "
            "file (qprim reads only regular files, links to them included)",
        )
    limit, advice = _SIZE_LIMITS[kind]
    if status.st_size > limit:
        raise WorkloadError(
            where,
            f"{shown} is {count(status.st_size)} bytes, more than the {count(limit)} a "
            f"{kind} file may have; {advice}",
        )


def _file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def read_text(path: Path, shown: str, where: Location, kind: FileKind = "circuit") -> str:
    check_file(path, shown, where, kind)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WorkloadError(
            where,
            f"file not found: {shown}; paths are relative to "
            'the workload file, e.g. "file: circuits/bell.qasm"',
        ) from None
    except OSError as exc:
        raise WorkloadError(where, f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc, shown) from None


def _not_utf8(data: bytes, exc: UnicodeDecodeError, shown: str) -> WorkloadError:
    """The bad byte's own line and column, in the file that holds it."""
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return WorkloadError(
        Location(shown, line),
        f"column {column}: byte 0x{data[exc.start]:02x} is not UTF-8 text; save the file "
        "as UTF-8 (qprim reads workloads and QASM files as UTF-8)",
    )


def load_qasm_file(
    path: Path, shown: str, where: Location, include_dirs: tuple[Path, ...] = ()
) -> QuantumCircuit:
    """A .qasm file; `where` is used only when the file cannot be read."""
    text = read_text(path, shown, where)
    circuit = load_qasm_text(text, lambda line: Location(shown, line), (path.parent, *include_dirs))
    circuit.name = path.stem
    return circuit


def load_qpy_file(path: Path, shown: str, where: Location) -> list[QuantumCircuit]:
    """Every circuit of a .qpy file (at least one), each one runnable."""
    check_file(path, shown, where, "circuit")
    try:
        with path.open("rb") as handle:
            circuits = list(qpy.load(handle))
    except FileNotFoundError:
        raise WorkloadError(
            where,
            f"file not found: {shown}; paths are relative to "
            'the workload file, e.g. "file: circuits/many.qpy"',
        ) from None
    except Exception as exc:  # qpy raises QpyError, struct.error, ValueError, ...
        raise WorkloadError(where, f"{shown} is not a readable QPY file: {exc}") from None
    circuits = [c for c in circuits if isinstance(c, QuantumCircuit)]
    if not circuits:
        raise WorkloadError(where, f"{shown} holds no QuantumCircuit")
    for circuit in circuits:
        opaque = _undefined_gate(circuit)
        if opaque is not None:
            raise WorkloadError(
                where, f"{shown}: circuit '{circuit.name}': {_opaque_message(opaque)}"
            )
    return circuits


def pick_qpy(
    circuits: list[QuantumCircuit],
    shown: str,
    index: int | None,
    select: str | None,
    where: Location,
) -> QuantumCircuit:
    """One circuit of a QPY file by `index:` or `select: name` (default: the only one)."""
    names = [c.name for c in circuits]
    if select is not None:
        matches = [c for c in circuits if c.name == select]
        if len(matches) != 1:
            problem = "holds several circuits named" if matches else "has no circuit named"
            raise WorkloadError(
                where,
                f"{shown} {problem} '{select}'{suggest(select, names)}; "
                f'its circuits: {", ".join(names)}; or use "index: 0"',
            )
        return matches[0]
    if index is None:
        if len(circuits) > 1:
            raise WorkloadError(
                where,
                f"{shown} holds {len(circuits)} circuits; choose one "
                f'with "index: 0".."index: {len(circuits) - 1}" or "select: NAME"',
            )
        return circuits[0]
    if index >= len(circuits):
        raise WorkloadError(
            where,
            f"index {index} is out of range: {shown} holds "
            f'{len(circuits)} circuit(s), e.g. "index: {len(circuits) - 1}"',
        )
    return circuits[index]


def has_measurements(circuit: QuantumCircuit) -> bool:
    return any(inst.operation.name == "measure" for inst in circuit.data)


def for_estimator(circuit: QuantumCircuit) -> QuantumCircuit | None:
    """The circuit without its final measurements; None if it measures mid-circuit.

    Estimators compute expectation values of the state before measurement, so a
    circuit shared with a sampler PUB keeps working; mid-circuit measurements would
    change the state and are rejected instead of silently dropped.
    """
    if not has_measurements(circuit):
        return circuit
    stripped = circuit.remove_final_measurements(inplace=False)
    return None if has_measurements(stripped) else stripped
