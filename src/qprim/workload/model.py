"""The YAML document (spec section 2) as pydantic models.

These models check the *shape* of the document (keys, types, ranges) and are the
source of `qprim schema`. Everything that needs the circuits (parameter names,
Pauli widths, measurements) is checked later by the loader. Each field carries a
description and an example: error messages are built from them, so the schema and
the messages cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    FiniteFloat,
    Strict,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticCustomError
from typing_extensions import TypeAliasType

from qprim.workload.limits import (
    MAX_NAME_LENGTH,
    MAX_POINTS,
    MAX_SHOTS,
    MAX_SIMULATOR_SEED,
    MAX_TRANSPILER_SEED,
    NAME_PATTERN,
    count,
)
from qprim.workload.source import SourceDoc
from qprim.workload.types import WorkloadError

FORMAT_VERSION = 1


class StrictModel(BaseModel):
    """Rejects unknown keys with a message that lists the allowed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "qprim_unknown_key",
                        "unknown key '{key}'; allowed keys here: {allowed}",
                        {"key": key, "allowed": ", ".join(allowed)},
                    )
        return data


def _field(description: str, example: str, **kwargs: Any) -> Any:
    return Field(description=description, examples=[example], **kwargs)


def _custom(message: str) -> PydanticCustomError:
    return PydanticCustomError("qprim_custom", message)


class BackendModel(StrictModel):
    kind: Literal["aer", "ibm"] = _field("one of: aer, ibm", "aer", default="aer")
    name: str | None = _field(
        "aer: aer_simulator or a fake device name (fake_manila, ...); ibm: a device name, "
        "or least_busy (the device with the fewest pending jobs when the work is submitted)",
        "aer_simulator",
        default=None,
    )
    noise: bool = _field("true or false (simulate the fake device's noise)", "true", default=False)
    seed: int | None = _field(
        "an integer 0..2**63-1 (the simulator's seed range)",
        "1234",
        default=None,
        ge=0,
        le=MAX_SIMULATOR_SEED,
        strict=True,
    )
    block: str | None = _field("the name of a saved qprim IBM block", "my-ibm", default=None)
    fractional_gates: bool = _field(
        "true or false (ibm: the device's fractional gates rzz and rx in its target)",
        "true",
        default=False,
    )
    min_qubits: int | None = _field(
        "a positive integer (name: least_busy: only devices with at least this many qubits)",
        "127",
        default=None,
        gt=0,
        strict=True,
    )
    dynamic_circuits: bool | None = _field(
        "true or false (name: least_busy: only devices that do (or do not) run dynamic circuits)",
        "true",
        default=None,
    )


class TranspileModel(StrictModel):
    optimization_level: int = _field("an integer 0..3", "1", default=1, ge=0, le=3, strict=True)
    seed: int | None = _field(
        "an integer 0..2**64-1 (the transpiler's seed range)",
        "7",
        default=None,
        ge=0,
        le=MAX_TRANSPILER_SEED,
        strict=True,
    )


class ExecutionModel(StrictModel):
    """How a workload becomes jobs: splitting limits and the IBM execution mode."""

    max_pubs_per_job: int | None = _field(
        "a positive integer: at most this many PUBs (or parts of one) per job",
        "50",
        default=None,
        gt=0,
        strict=True,
    )
    max_executions_per_job: int | None = _field(
        "a positive integer: sampler shots x parameter points, estimator elements of the "
        "broadcast shape; a larger PUB is split along its flattened sweep",
        "200000",
        default=None,
        gt=0,
        strict=True,
    )
    mode: Literal["auto", "job", "batch", "session"] = _field(
        "auto, job, batch or session (IBM execution modes; auto: a batch for several jobs)",
        "auto",
        default="auto",
    )
    primitives: Literal["executor", "legacy"] | None = _field(
        "executor or legacy (IBM: the client-side primitives, the default, or the "
        "deprecated server-side SamplerV2/EstimatorV2)",
        "legacy",
        default=None,
    )
    max_execution_time: int | None = _field(
        "a positive integer: seconds of quantum time one IBM job may use before IBM cancels it",
        "300",
        default=None,
        gt=0,
        strict=True,
    )
    max_time: int | None = _field(
        "a positive integer: seconds an IBM batch or session stays open (mode: batch or session)",
        "3600",
        default=None,
        gt=0,
        strict=True,
    )
    max_usage_seconds: FiniteFloat | None = _field(
        "a positive number: quantum seconds the workload's new IBM jobs may use, by IBM's "
        "estimate; qprim run refuses to submit more",
        "60",
        default=None,
        gt=0,
    )


class RetryModel(StrictModel):
    """`retry:`: what qprim resubmits by itself (IBM only)."""

    failed: int = _field(
        "an integer 0..10: resubmissions of a job that ended FAILED for a reason IBM marks "
        "transient",
        "2",
        default=0,
        ge=0,
        le=10,
        strict=True,
    )


class CircuitModel(StrictModel):
    """One named circuit: exactly one of `qasm3`, `qasm2`, `file`."""

    qasm3: str | None = _field("an OpenQASM 3 program", "OPENQASM 3.0; ...", default=None)
    qasm2: str | None = _field("an OpenQASM 2 program", "OPENQASM 2.0; ...", default=None)
    file: str | None = _field(
        "a .qasm or .qpy path relative to the workload file", "circuits/ansatz.qasm", default=None
    )
    index: int | None = _field(
        "which circuit of a .qpy file, from 0", "2", default=None, ge=0, strict=True
    )
    select: str | None = _field("the name of a circuit in a .qpy file", "trotter", default=None)
    measure_all: bool = _field(
        "true to append measure_all() (sampler PUBs need measurements)", "true", default=False
    )

    @model_validator(mode="after")
    def _one_source(self) -> CircuitModel:
        given = [k for k in ("qasm3", "qasm2", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise _custom(
                "a circuit needs exactly one of qasm3, qasm2, file "
                f'(got {", ".join(given) or "none"}), e.g. "file: circuits/bell.qasm"'
            )
        if self.file is None and (self.index is not None or self.select is not None):
            raise _custom('index/select only apply to a .qpy file, e.g. "file: many.qpy"')
        if self.index is not None and self.select is not None:
            raise _custom('give either index or select, not both, e.g. "index: 0"')
        return self


# A parameter value, from YAML as from a .npy file: a real, finite number; a quoted
# "0.5" or a `true` is refused, as a .npy of text or booleans is.
RealNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class LinspaceModel(StrictModel):
    linspace: tuple[
        RealNumber, RealNumber, Annotated[int, Field(ge=1, le=MAX_POINTS, strict=True)]
    ] = _field(
        f"[start, stop, num]: finite numbers, num an integer 1..{count(MAX_POINTS)}",
        "[0, 3.14159265, 5]",
    )


ParameterValues = Annotated[
    RealNumber | list[RealNumber] | LinspaceModel,
    Field(description="a number, a list of numbers or {linspace: [start, stop, num]}"),
]


class ParametersFileModel(StrictModel):
    file: str = _field("a .npy or .npz path relative to the workload file", "sweeps/grid.npy")
    names: list[str] = _field(
        "the parameter names, in the order of the array's last axis", "[theta, phi]", min_length=1
    )


def _parameters_kind(value: Any) -> str:
    return "ParametersFile" if isinstance(value, dict) and "file" in value else "ParameterMap"


Parameters = Annotated[
    Annotated[ParametersFileModel, Tag("ParametersFile")]
    | Annotated[dict[str, ParameterValues], Tag("ParameterMap")],
    Discriminator(_parameters_kind),
]


class SparseObservableModel(StrictModel):
    sparse: list[tuple[str, list[int], FiniteFloat]] = _field(
        "a list of [paulis, qubits, coefficient], coefficients finite", "[[ZZ, [0, 1], 1.0]]"
    )
    num_qubits: int = _field("a positive integer", "2", gt=0, strict=True)


def _observable_kind(value: Any) -> str:
    if isinstance(value, list):
        return "ObservableList"
    if isinstance(value, dict):
        return "SparseObservable" if "sparse" in value else "WeightedPaulis"
    return "PauliLabel"


Observables = TypeAliasType(
    "Observables",
    Annotated[
        Annotated[str, Tag("PauliLabel")]
        | Annotated[dict[str, FiniteFloat], Tag("WeightedPaulis")]
        | Annotated[SparseObservableModel, Tag("SparseObservable")]
        | Annotated[list["Observables"], Tag("ObservableList")],
        Discriminator(_observable_kind),
    ],
)

NestedFloats = TypeAliasType("NestedFloats", FiniteFloat | list["NestedFloats"])


class PubModel(StrictModel):
    circuit: str = _field("the name of an entry of `circuits:`", "bell")
    shots: int | None = _field(
        f"a positive integer, at most {count(MAX_SHOTS)}",
        "1000",
        default=None,
        gt=0,
        le=MAX_SHOTS,
        strict=True,
    )
    parameters: Parameters | None = _field(
        "a mapping of parameter name to a number, a list of numbers or "
        "{linspace: [start, stop, num]}; or {file: x.npy, names: [...]}",
        "{theta: [0.0, 1.57]}",
        default=None,
    )
    sweep: Literal["zip", "product"] = _field("zip or product", "product", default="zip")
    observables: Observables | None = _field(
        "a Pauli label, {label: coeff, ...}, {sparse: [...], num_qubits: n}, or a list of those",
        "ZZ",
        default=None,
    )
    precision: FiniteFloat | None = _field("a positive number", "0.01", default=None, gt=0)


class ExpectModel(StrictModel):
    pub: int = _field("a PUB index, from 0", "0", ge=0, strict=True)
    counts: dict[str, FiniteFloat] | None = _field(
        "expected probabilities by bitstring", '{"00": 0.5, "11": 0.5}', default=None
    )
    evs: NestedFloats | None = _field(
        "expected values (a number or nested list)", "[1.0]", default=None
    )
    tolerance: FiniteFloat = _field("a positive number", "0.05", gt=0)
    shape: list[int] | None = _field("the PUB's result shape", "[5, 3]", default=None)

    @model_validator(mode="after")
    def _one_check(self) -> ExpectModel:
        if (self.counts is None) == (self.evs is None):
            raise _custom(
                "an expect entry needs exactly one of counts (sampler) or evs (estimator), "
                "e.g. \"counts: {'00': 0.5, '11': 0.5}\""
            )
        return self


class OptionsModel(BaseModel):
    """`options:`: the two qprim reads itself, and the backend's own options, which the
    loader checks against the workload's backend (they differ between Aer and IBM)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    default_shots: int | None = _field(
        f"a positive integer, at most {count(MAX_SHOTS)} (the shots of a sampler PUB "
        "that sets none)",
        "1000",
        default=None,
        gt=0,
        le=MAX_SHOTS,
        strict=True,
    )
    default_precision: FiniteFloat | None = _field(
        "a positive number (the precision of an estimator PUB that sets none)",
        "0.01",
        default=None,
        gt=0,
    )

    def given(self) -> dict[str, Any]:
        """The options as written: qprim's two when set, then the backend's."""
        return self.model_dump(exclude_unset=True)


class WorkloadModel(StrictModel):
    """A qprim workload file, format version 1."""

    qprim: Literal[1] = _field("the format version, 1", "1")
    name: str | None = _field(
        "letters, digits, '.', '_' and '-', starting with a letter or digit, at most "
        f"{MAX_NAME_LENGTH} characters (it names the run folder; default: the file's stem)",
        "bell-and-sweep",
        default=None,
        pattern=NAME_PATTERN,
        max_length=MAX_NAME_LENGTH,
    )
    primitive: Literal["sampler", "estimator"] = _field("sampler or estimator", "sampler")
    backend: BackendModel = _field("the backend", "{kind: aer}", default_factory=BackendModel)
    transpile: TranspileModel | bool = _field(
        "{optimization_level: 0..3, seed: n} or false",
        "{optimization_level: 1}",
        default_factory=TranspileModel,
    )
    options: OptionsModel = _field(
        "primitive options", "{default_shots: 1000}", default_factory=OptionsModel
    )
    tags: list[str] = _field("a list of labels", "[demo, nightly]", default_factory=list)
    execution: ExecutionModel = _field(
        "how the workload is split into jobs and run",
        "{max_executions_per_job: 200000, mode: auto}",
        default_factory=ExecutionModel,
    )
    retry: RetryModel | None = _field("what qprim resubmits by itself", "{failed: 2}", default=None)
    circuits: dict[str, CircuitModel] = _field(
        "named circuits, at least one", "{bell: {file: bell.qasm}}", min_length=1
    )
    pubs: list[PubModel] = _field("a list of PUBs, at least one", "[{circuit: bell}]", min_length=1)
    expect: list[ExpectModel] = _field(
        "a list of checks", "[{pub: 0, counts: ..., tolerance: 0.05}]", default_factory=list
    )


def workload_json_schema() -> dict[str, Any]:
    """JSON Schema of the YAML format, generated from the models above."""
    schema = WorkloadModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "qprim workload"
    return schema


def parse_model(doc: SourceDoc) -> WorkloadModel:
    """Validate the document's shape; the first problem becomes a `FILE:LINE` error."""
    try:
        return WorkloadModel.model_validate(doc.data)
    except ValidationError as exc:
        raise _translate(_most_telling(exc.errors()), doc) from None


def _most_telling(errors: list[ErrorDetails]) -> ErrorDetails:
    """In the first key with errors: ours, else the union branch that got deepest into
    the value (`{linspace: [0, 1, 10**9]}` is a linspace with a bad num, not a bad number)."""
    ours = [e for e in errors if e["type"].startswith("qprim_")]
    first = (ours or errors)[0]["loc"][:1]
    same_key = [e for e in ours or errors if e["loc"][:1] == first]
    return max(same_key, key=lambda e: len(e["loc"]))


def _translate(err: ErrorDetails, doc: SourceDoc) -> WorkloadError:
    path = _data_path(err["loc"], doc)
    found = _field_for(err["loc"])
    field_name, info = found if found else ("", None)
    hint = ""
    if info is not None and info.description:
        example = f', e.g. "{field_name}: {info.examples[0]}"' if info.examples else ""
        hint = f"{info.description}{example}"
    kind = err["type"]
    if kind == "qprim_unknown_key":
        key = str((err.get("ctx") or {})["key"])
        return doc.error(
            (*path, key),
            f"unknown key '{key}' in {label(path)}; "
            f"allowed keys: {(err.get('ctx') or {})['allowed']}",
        )
    if kind == "qprim_custom":
        return doc.error(path, f"{label(path)}: {err['msg']}")
    if kind == "missing":
        return doc.error(path, f"missing key '{field_name}' in {label(path)}: {hint}")
    got = err.get("input")
    if kind == "finite_number":
        detail = f" ({hint})" if hint else ""
        return doc.error(path, f"{label(path)} must be a finite number, not {got!r}{detail}")
    shown = (
        f" (got {_shown(got)})" if isinstance(got, str | int | float | bool) or got is None else ""
    )
    if not hint:
        return doc.error(path, f"{label(path)}: {err['msg']}{shown}")
    return doc.error(path, f"{label(path)} must be {hint}{shown}")


def _shown(value: object) -> str:
    """A value as the user wrote it, cut short when long (a 300-character name)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(str(value))} characters)"


def label(path: tuple[str | int, ...]) -> str:
    """`("pubs", 2, "shots")` -> `pubs[2].shots`; the root is `the workload`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the workload"


def _data_path(loc: tuple[str | int, ...], doc: SourceDoc) -> tuple[str | int, ...]:
    """Keep the parts of a pydantic `loc` that exist in the document (drops union tags)."""
    path: tuple[str | int, ...] = ()
    for part in loc:
        if (*path, part) in doc.lines:
            path = (*path, part)
    return path


def _field_for(loc: tuple[str | int, ...]) -> tuple[str, FieldInfo] | None:
    """The deepest model field named on the error's path, for its description/example."""
    current: Any = WorkloadModel
    found: tuple[str, FieldInfo] | None = None
    for part in loc:
        for model in _models_in(current, set()):
            if isinstance(part, str) and part in model.model_fields:
                found = (part, model.model_fields[part])
                current = found[1].annotation
                break
    return found


def _models_in(tp: Any, seen: set[int]) -> list[type[BaseModel]]:
    if id(tp) in seen:
        return []
    seen.add(id(tp))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if isinstance(tp, TypeAliasType):
        return _models_in(tp.__value__, seen)
    return [m for arg in get_args(tp) for m in _models_in(arg, seen)]
