"""qprim: run Qiskit primitive workloads reliably.

Kept import-light on purpose: `qprim --help` must not import prefect or qiskit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from qprim.state.runs import SavedRun


def load_run(path: Any) -> SavedRun:
    """Load a saved run folder: its `PrimitiveResult` and its `run.json` manifest."""
    from qprim.state.runs import load_run as _load_run

    return _load_run(path)


__all__ = ["__version__", "load_run"]
