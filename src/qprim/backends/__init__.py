"""Backends: one protocol (`Backend`), implemented for Aer and IBM Quantum."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qprim.backends.base import Backend, FoundJob, JobMetrics, JobRequest, JobStatus

if TYPE_CHECKING:
    from qprim.workload.types import BackendSpec


def resolve_spec(spec: BackendSpec) -> BackendSpec:
    """Fill in what a workload left to its saved block (device, noise, seed), so that the
    digest covers it. The workload's own values win."""
    if spec.block is None:
        return spec
    from dataclasses import replace

    from qprim import blocks

    if spec.kind == "ibm":
        return replace(spec, name=spec.name or blocks.load_ibm_config(spec.block).backend)
    config = blocks.load_aer_config(spec.block)
    return replace(
        spec,
        name=spec.name or config.device,
        noise=spec.noise or config.noise,
        seed=spec.seed if spec.seed is not None else config.seed,
    )


def open_backend(spec: BackendSpec, deadline: float | None = None) -> Backend:
    """The backend a workload's `backend:` section names; `deadline` bounds its calls."""
    if spec.kind == "ibm":
        from qprim.backends.ibm import IBMBackend

        return IBMBackend(spec.name, spec.block, spec.seed, deadline)
    from qprim.backends.aer import AerBackend

    return AerBackend(name=spec.name or "aer_simulator", noise=spec.noise, seed=spec.seed)


__all__ = [
    "Backend",
    "FoundJob",
    "JobMetrics",
    "JobRequest",
    "JobStatus",
    "open_backend",
    "resolve_spec",
]
