"""The run record: `run.json`'s schema, as typed models that every reader shares.

Why typed: the flow writes it, and the terminal tables, the Prefect artifacts, JUnit,
plots and `qprim show` read it; a field that changes meaning must fail loudly, not
leave a reader with a stale dict key. `record_version` 2 added parts, execution modes
and split PUBs; 3 added each PUB's parameter values and observable labels and each
check's target, so tables, plots and exports label sweeps without re-loading the
workload. Files of versions 1 and 2 still load (their PUBs have no `parameters` or
`observables`: `qprim.report.runs.load_run` fills them from the workload copy if it can).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from qprim.version import __version__

RECORD_VERSION = 3


class Record(BaseModel):
    """Unknown keys are kept (a newer qprim may add some), nothing is coerced silently."""

    model_config = ConfigDict(extra="allow")


class Metrics(Record):
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    queue_s: float | None = None
    run_s: float | None = None
    quantum_s: float | None = None


class PointRange(Record):
    """The points `[start, stop)` of a PUB's flattened sweep that one job carried."""

    pub: int
    start: int
    stop: int


class JobRecord(Record):
    job_id: str
    pubs: list[int]
    points: list[PointRange] = Field(default_factory=list)  # only for split PUBs
    status: str
    submit: Literal["new", "reused"]
    result: Literal["fetched", "cached"]
    part: int = 1
    parts: int = 1
    mode: str = "job"
    session_id: str | None = None
    digest: str | None = None
    tag: str | None = None
    metrics: Metrics = Field(default_factory=Metrics)


class ParametersRecord(Record):
    """A PUB's parameter values by name, as bound: `values` is a nested list of shape
    `(*sweep shape, len(names))`, so `values[i][j][k]` is parameter `names[k]` at sweep
    point `(i, j)` (a product sweep's axes follow the order the names were written in)."""

    names: list[str]
    values: list[Any]


class ObservablesRecord(Record):
    """An estimator PUB's observables as text (`ZZ`, `1*XX - 0.5*YY`): `labels` is a
    nested list of `shape` (a single string for shape `[]`). The result's shape is this
    shape broadcast with the sweep's, as in Qiskit."""

    labels: Any
    shape: list[int]


class PubRecord(Record):
    index: int
    circuit: str | None
    shape: list[int]
    depth: int | None = None
    size: int | None = None
    shots: int | None = None
    precision: float | None = None
    # record_version 3; None: no parameters (or, for older records and some `qprim fetch`
    # runs, not known: see report/layout.py)
    parameters: ParametersRecord | None = None
    observables: ObservablesRecord | None = None  # estimator PUBs (record_version 3)


class CheckRecord(Record):
    pub: int
    kind: str
    passed: bool
    detail: str
    # record_version 3, so a plot can draw the target without the workload: counts:
    # {bitstring: probability}; evs: a number or nested list; shape: a list of ints
    expected: Any = None
    tolerance: float | None = None
    at: list[int] | None = None  # the result index where a swept check was worst


class WorkloadRef(Record):
    name: str
    digest: str | None = None
    source: str | None = None


class BackendRecord(Record):
    kind: str
    name: str | None
    noise: bool = False
    seed: int | None = None
    block: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


class ExecutionRecord(Record):
    mode: str = "job"
    session_id: str | None = None


class FlowRunRef(Record):
    id: str
    name: str


class RunRecord(Record):
    record_version: int = RECORD_VERSION
    qprim_version: str = __version__
    workload: WorkloadRef
    primitive: Literal["sampler", "estimator"]
    backend: BackendRecord
    execution: ExecutionRecord = Field(default_factory=ExecutionRecord)
    jobs: list[JobRecord]
    pubs: list[PubRecord]
    expect: list[CheckRecord] = Field(default_factory=list)
    flow_run: FlowRunRef | None = None
    saved: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)

    @property
    def failed_checks(self) -> list[CheckRecord]:
        return [check for check in self.expect if not check.passed]

    @property
    def job_ids(self) -> list[str]:
        return [job.job_id for job in self.jobs]

    def document(self) -> dict[str, object]:
        """The JSON document, as written to run.json."""
        return self.model_dump(mode="json")


def package_versions() -> dict[str, str]:
    packages = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime", "prefect")
    return {name: metadata.version(name.replace("_", "-")) for name in packages}
