"""Load circuits from OpenQASM 2/3 text or files and QPY files.

Every failure becomes a WorkloadError. For invalid QASM the location is the QASM
text's own line: `circuits/bad.qasm:225:` for a file, and for an inline block the
YAML file's line (block start + line inside the block), so the user lands on the
offending statement either way.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path

from qiskit import QuantumCircuit, qasm2, qasm3, qpy

from qprim.workload.types import Location, WorkloadError

_HEADER = re.compile(r"\A\s*(?:(?://[^\n]*(?:\n|\Z)|/\*.*?\*/)\s*)*OPENQASM\s+(\d+)", re.DOTALL)
_QISKIT_POS = re.compile(r"\A(?:.*?:)?(\d+),(\d+):\s*(.*)\Z", re.DOTALL)
_ANTLR_POS = re.compile(r"\AL(\d+):C(\d+):\s*(.*)\Z", re.DOTALL)

# Maps a line inside the QASM text (1-based) to the Location to report.
LineMap = Callable[[int], Location]


def qasm_version(text: str) -> int:
    """2 or 3 from the `OPENQASM x` header; OpenQASM 3 makes the header optional."""
    match = _HEADER.match(text)
    return int(match.group(1)) if match else 3


def load_qasm_text(
    text: str, where: LineMap, include_dirs: tuple[Path, ...], version: int | None = None
) -> QuantumCircuit:
    """Parse OpenQASM 2 or 3 text (version from the header unless given)."""
    version = version or qasm_version(text)
    try:
        if version == 2:
            return qasm2.loads(
                text,
                include_path=tuple(str(d) for d in include_dirs),
                custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS,
            )
        if version == 3:
            return qasm3.loads(text)
    except Exception as exc:  # qiskit, openqasm3 and antlr raise many types
        line, message = _qasm_error_position(exc)
        raise WorkloadError(where(line), f"invalid OpenQASM {version}: {message}") from None
    raise WorkloadError(
        where(1),
        f'unsupported OpenQASM version {version}; expected "OPENQASM 2.0;" or "OPENQASM 3.0;"',
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


def read_text(path: Path, shown: str, where: Location) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkloadError(
            where,
            f"file not found: {shown}; paths are relative to "
            'the workload file, e.g. "file: circuits/bell.qasm"',
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(where, f"cannot read {shown}: {exc}") from None


def load_qasm_file(
    path: Path, shown: str, where: Location, include_dirs: tuple[Path, ...] = ()
) -> QuantumCircuit:
    """A .qasm file; `where` is used only when the file cannot be read."""
    text = read_text(path, shown, where)
    circuit = load_qasm_text(text, lambda line: Location(shown, line), (path.parent, *include_dirs))
    circuit.name = path.stem
    return circuit


def load_qpy_file(path: Path, shown: str, where: Location) -> list[QuantumCircuit]:
    """Every circuit of a .qpy file (at least one)."""
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


def suggest(word: str, choices: list[str]) -> str:
    """`; did you mean 'x'?` for close names, else empty."""
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


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
