"""Entry point: a workload file (YAML, .qpy, .qasm) -> a validated Workload.

Every check of spec section 3 happens here, before anything is submitted; any
failure is an InputError or a WorkloadError with `FILE:LINE`, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from qiskit import QuantumCircuit

from qprim.backends.kinds import backend_kind
from qprim.errors import InputError
from qprim.workload.backend import build_backend, build_transpile
from qprim.workload.circuits import (
    load_qasm_file,
    load_qasm_text,
    load_qpy_file,
    pick_qpy,
    read_text,
    shown_path,
)
from qprim.workload.digest import workload_digest
from qprim.workload.execution import build_execution
from qprim.workload.expect import build_expectations
from qprim.workload.limits import MAX_EXECUTIONS, count
from qprim.workload.model import (
    FORMAT_VERSION,
    BackendModel,
    CircuitModel,
    OptionsModel,
    PubModel,
    WorkloadModel,
    label,
    parse_model,
)
from qprim.workload.pubs import build_pub, executions
from qprim.workload.source import SourceDoc, parse_yaml
from qprim.workload.types import (
    Location,
    PubSpec,
    Workload,
    WorkloadError,
)

M = TypeVar("M", bound=BaseModel)

YAML_SUFFIXES = (".yaml", ".yml")
CIRCUIT_SUFFIXES = (".qasm", ".qpy")


@dataclass(frozen=True)
class CircuitFileFlags:
    """Command-line settings for bare .qpy/.qasm inputs (spec section 1)."""

    primitive: Literal["sampler", "estimator"] = "sampler"
    shots: int | None = None
    backend: str | None = None  # "aer_simulator" or a fake device name like "fake_manila"
    noise: bool = False
    seed: int | None = None
    observables: tuple[str, ...] = ()  # estimator on a bare circuit: one ev per Pauli label


def load_workload(path: str | Path, flags: CircuitFileFlags | None = None) -> Workload:
    """Load and check a workload; `flags` apply only to bare circuit files."""
    shown = str(path)
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in YAML_SUFFIXES:
        if flags is not None and flags != CircuitFileFlags():
            set_flags = [
                f.name
                for f in fields(flags)
                if getattr(flags, f.name) != getattr(CircuitFileFlags(), f.name)
            ]
            raise InputError(
                f"{', '.join(set_flags)} flag(s) apply only to .qpy/.qasm inputs; "
                f"set them in the workload file {shown} instead (e.g. set shots "
                "in the workload file)"
            )
        if not file.exists():
            raise InputError(f"workload file not found: {shown}")
        text = read_text(file, shown, Location(shown, 1), "workload")
        return _from_yaml(text, shown, file)
    if suffix in CIRCUIT_SUFFIXES:
        if not file.exists():
            raise InputError(f"circuit file not found: {shown}")
        return _from_circuit_file(file, shown, flags or CircuitFileFlags())
    raise InputError(
        f"cannot run {shown}: expected a workload (.yaml/.yml), a .qpy or a .qasm file"
    )


def _from_yaml(text: str, shown: str, file: Path) -> Workload:
    doc = parse_yaml(text, shown)
    _check_header(doc)
    model = parse_model(doc)
    base_dir = file.parent
    circuits, files = _load_circuits(model, doc, base_dir)
    backend = build_backend(model.backend, doc)
    options = model.options.given()
    execution = build_execution(model.execution, model.retry, backend.kind, doc)
    _check_options(model.primitive, backend.kind, options, doc, execution.primitives)
    pubs: list[PubSpec] = []
    for index, pub_model in enumerate(model.pubs):
        pub, pub_files = build_pub(
            index, pub_model, model.primitive, circuits, model.options, doc, base_dir
        )
        pubs.append(pub)
        files.extend(pub_files)
    expect = build_expectations(model.expect, model.primitive, tuple(pubs), doc)
    return _finish(
        Workload(
            name=model.name or file.stem,
            source=file,
            primitive=model.primitive,
            backend=backend,
            transpile=build_transpile(model.transpile),
            pubs=tuple(pubs),
            digest="",
            options=options,
            tags=tuple(model.tags),
            expect=expect,
            execution=execution,
            files=tuple(dict.fromkeys([file, *files])),
        )
    )


def _check_header(doc: SourceDoc) -> None:
    if not isinstance(doc.data, dict):
        raise doc.error(
            (),
            'a workload must be a YAML mapping starting with "qprim: 1", '
            "then primitive, circuits and pubs",
        )
    if "qprim" not in doc.data:
        raise doc.error(
            (),
            f'not a qprim workload: the key "qprim: {FORMAT_VERSION}" '
            "(the format version) is missing",
        )
    version = doc.data["qprim"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise doc.error(
            ("qprim",),
            f'unsupported format version {version!r}; this qprim reads "qprim: {FORMAT_VERSION}"',
        )


def _check_options(
    primitive: str, kind: str, options: dict[str, Any], doc: SourceDoc, primitives: str | None
) -> None:
    """`options:` as the workload's backend takes them: each backend kind says what it
    accepts (an Aer workload never imports the IBM client); on IBM, what the chosen
    primitives (client-side or legacy) take."""
    if not options:
        return
    if "max_execution_time" in options and "max_execution_time" in (
        doc.data.get("execution") or {}
    ):
        raise doc.error(
            ("options", "max_execution_time"),
            "max_execution_time is given twice: keep execution.max_execution_time",
        )
    problem = backend_kind(kind).option_problem(primitive, options, primitives)
    if problem is not None:
        path = ("options", *problem.path)
        raise doc.error(path, f"{label(path)}: {problem.message}")


def _load_circuits(
    model: WorkloadModel, doc: SourceDoc, base_dir: Path
) -> tuple[dict[str, QuantumCircuit], list[Path]]:
    circuits: dict[str, QuantumCircuit] = {}
    files: list[Path] = []
    for name, entry in model.circuits.items():
        circuit, used = _load_circuit(name, entry, doc, base_dir)
        if entry.measure_all:
            if model.primitive != "sampler":
                raise doc.error(
                    ("circuits", name, "measure_all"),
                    "measure_all applies to "
                    "sampler workloads; estimator circuits need no measurements",
                )
            circuit.measure_all()
        circuits[name] = circuit
        files.extend(used)
    return circuits, files


def _load_circuit(
    name: str, entry: CircuitModel, doc: SourceDoc, base_dir: Path
) -> tuple[QuantumCircuit, list[Path]]:
    path = ("circuits", name)
    for version, text in ((3, entry.qasm3), (2, entry.qasm2)):
        if text is not None:
            key = (*path, f"qasm{version}")
            start = doc.value_start_line(key)
            circuit = load_qasm_text(
                text,
                lambda line, s=start: Location(doc.file, s + line - 1),
                (base_dir,),
                version=version,
            )
            circuit.name = name
            return circuit, []
    assert entry.file is not None  # CircuitModel guarantees one source
    file = base_dir / entry.file
    shown = shown_path(doc.file, entry.file)
    at_file = doc.at((*path, "file"))
    suffix = file.suffix.lower()
    if suffix == ".qpy":
        circuits = load_qpy_file(file, shown, at_file)
        where = doc.at((*path, "select" if entry.select is not None else "index"))
        return pick_qpy(circuits, shown, entry.index, entry.select, where), [file]
    if suffix == ".qasm":
        if entry.index is not None or entry.select is not None:
            raise doc.error(
                (*path, "index" if entry.index is not None else "select"),
                "index/select apply to .qpy files; a .qasm file holds one circuit",
            )
        return load_qasm_file(file, shown, at_file, (base_dir,)), [file]
    raise doc.error(
        (*path, "file"),
        f"unsupported circuit file {shown}: use a .qasm (OpenQASM 2 or 3) or .qpy file",
    )


def _from_circuit_file(file: Path, shown: str, flags: CircuitFileFlags) -> Workload:
    """A bare .qasm/.qpy: every circuit is one PUB, settings from flags."""
    _from_flags(PubModel, circuit=shown, shots=flags.shots)
    backend_model = _from_flags(
        BackendModel, name=flags.backend, noise=flags.noise, seed=flags.seed
    )
    if flags.primitive == "sampler" and flags.observables:
        raise InputError("observables apply to --primitive estimator")
    if flags.primitive == "estimator" and not flags.observables:
        raise InputError(
            "an estimator run on a circuit file needs observables, e.g. a Pauli "
            "label per expectation value"
        )
    top = Location(shown, 1)
    if file.suffix.lower() == ".qpy":
        circuits = load_qpy_file(file, shown, top)
    else:
        circuits = [load_qasm_file(file, shown, top)]
    doc = SourceDoc(file=shown, data=None)
    pubs = tuple(_bare_pub(i, circuit, shown, flags, doc) for i, circuit in enumerate(circuits))
    backend = build_backend(backend_model, None)
    return _finish(
        Workload(
            name=file.stem,
            source=file,
            primitive=flags.primitive,
            backend=backend,
            transpile=build_transpile(True),
            pubs=pubs,
            digest="",
            files=(file,),
        )
    )


def _from_flags(model: type[M], **values: Any) -> M:
    """A model of the workload format built from flags; a bad value is reported by its flag
    (`--shots`, `--seed`: the flags a model can reject) with the field's expected form."""
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])
        info = model.model_fields[name]
        example = info.examples[0] if info.examples else ""
        raise InputError(
            f"--{name} must be {info.description}, e.g. --{name} {example} (got {error['input']!r})"
        ) from None


def _bare_pub(
    index: int, circuit: QuantumCircuit, shown: str, flags: CircuitFileFlags, doc: SourceDoc
) -> PubSpec:
    name = circuit.name
    if flags.primitive == "sampler":
        pub_model = PubModel(circuit=name, shots=flags.shots)
    else:
        pub_model = PubModel(circuit=name, observables=list(flags.observables))
    try:
        pub, _ = build_pub(
            index, pub_model, flags.primitive, {name: circuit}, OptionsModel(), doc, Path(".")
        )
    except WorkloadError as exc:  # no YAML lines here: report the circuit file itself
        raise WorkloadError(Location(shown, 1), exc.detail) from None
    return pub


def _finish(w: Workload) -> Workload:
    """The checks of the whole workload, then its digest."""
    from dataclasses import replace

    _check_executions(w.pubs)
    return replace(w, digest=workload_digest(w))


def _check_executions(pubs: tuple[PubSpec, ...]) -> None:
    """Every PUB fits its limits, yet together they may still be far too much to run."""
    total = 0
    for pub in pubs:
        total += executions(pub)
        if total > MAX_EXECUTIONS:
            raise WorkloadError(
                pub.where,
                f"with PUB {pub.index} the workload needs {count(total)} executions (shots x "
                f"points, summed over its PUBs), more than the {count(MAX_EXECUTIONS)} one "
                "workload may run; use fewer shots or sweep points",
            )
