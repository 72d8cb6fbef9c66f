"""Workload files (YAML, QPY, QASM) -> validated, digested Workload objects."""

from qprim.workload.backend import check_operations, check_width
from qprim.workload.digest import workload_digest
from qprim.workload.load import CircuitFileFlags, load_workload
from qprim.workload.model import workload_json_schema
from qprim.workload.summary import summarize
from qprim.workload.types import (
    BackendSpec,
    Expectation,
    Location,
    PubSpec,
    TranspileSpec,
    Workload,
    WorkloadError,
)

__all__ = [
    "BackendSpec",
    "CircuitFileFlags",
    "Expectation",
    "Location",
    "PubSpec",
    "TranspileSpec",
    "Workload",
    "WorkloadError",
    "check_operations",
    "check_width",
    "load_workload",
    "summarize",
    "workload_digest",
    "workload_json_schema",
]
