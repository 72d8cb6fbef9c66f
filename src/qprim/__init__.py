"""qprim: run Qiskit primitive workloads reliably.

The Python API (docs/python-api.md, "Python API"): `run` a workload file or a loaded `Workload`,
`run_pubs` for PUBs built in Python, `load_run` a saved run folder; Prefect tasks for
flows of your own are in `qprim.tasks`. Failures are typed (`qprim.errors`).

Kept import-light on purpose: `qprim --help` must not import prefect or qiskit, so
these functions import what they need when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qprim.api import run, run_pubs
from qprim.version import __version__

if TYPE_CHECKING:
    from qprim.report.runs import SavedRun


def load_run(path: Any) -> SavedRun:
    """Load a saved run folder: its `PrimitiveResult` and its `run.json` manifest."""
    from qprim.report.runs import load_run as _load_run

    return _load_run(path)


__all__ = ["__version__", "load_run", "run", "run_pubs"]
