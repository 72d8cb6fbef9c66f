"""Backends: one protocol (`Backend`), implemented for Aer and IBM Quantum."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qprim.backends.base import Backend, JobMetrics, JobRequest, JobStatus

if TYPE_CHECKING:
    from qprim.workload.types import BackendSpec


def open_backend(spec: BackendSpec) -> Backend:
    """The backend a workload's `backend:` section names."""
    if spec.kind == "aer":
        from qprim.backends.aer import AerBackend

        return AerBackend(name=spec.name or "aer_simulator", noise=spec.noise, seed=spec.seed)
    from qprim.errors import InputError

    raise InputError(f"backend kind {spec.kind!r} is not supported yet")


__all__ = ["Backend", "JobMetrics", "JobRequest", "JobStatus", "open_backend"]
