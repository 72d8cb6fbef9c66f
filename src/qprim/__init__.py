"""qprim: run Qiskit primitive workloads reliably.

The Python API (docs/python-api.md, "Python API"): `run` a workload file or a loaded `Workload`,
`run_pubs` for PUBs built in Python, `load_run` a saved run folder; Prefect tasks for
flows of your own are in `qprim.tasks`. Failures are typed (`qprim.errors`).

Kept import-light on purpose: every `qprim` command imports this package before anything
else (the resident process's caller imports little more), so these three are imported
when first asked for, and import what they need when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qprim.version import __version__

if TYPE_CHECKING:
    from qprim.api import run, run_pubs
    from qprim.report.runs import load_run

__all__ = ["__version__", "load_run", "run", "run_pubs"]
_HOMES = {"run": "qprim.api", "run_pubs": "qprim.api", "load_run": "qprim.report.runs"}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'qprim' has no attribute {name!r}")
    from importlib import import_module

    found = getattr(import_module(_HOMES[name]), name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
