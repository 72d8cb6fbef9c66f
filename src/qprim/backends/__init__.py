"""Backends: one protocol (`Backend`), implemented for Aer and IBM Quantum, and the factory
that opens the ones a command needs from configuration objects."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qprim.backends.base import Backend, FoundJob, JobMetrics, JobRequest, JobStatus

if TYPE_CHECKING:
    from qprim.backends.aer.execute import AerRunner
    from qprim.backends.aer.store import AerJobStore
    from qprim.backends.ibm import IBMAccount
    from qprim.workload.types import BackendSpec


@dataclass
class Backends:
    """Opens each backend once per command. IBM accounts are keyed by block name (None:
    Qiskit's own account discovery); the caller resolved blocks into accounts."""

    aer_store: AerJobStore
    aer_runner: AerRunner
    accounts: Mapping[str | None, IBMAccount] = field(default_factory=dict)
    deadline: float | None = None
    ibm_call_timeout: float | None = None  # None: the IBM backend's own cap
    _open: dict[tuple[object, ...], Backend] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, spec: BackendSpec) -> Backend:
        key = (spec.kind, spec.name, spec.noise, spec.seed, spec.block, spec.fractional_gates)
        with self._lock:
            if key not in self._open:
                self._open[key] = self._make(spec)
            return self._open[key]

    def _make(self, spec: BackendSpec) -> Backend:
        if spec.kind == "ibm":
            from qprim.backends.ibm import IBMAccount, IBMBackend

            account = self.accounts.get(spec.block) or IBMAccount(name=spec.block)
            cap = {"call_timeout": self.ibm_call_timeout} if self.ibm_call_timeout else {}
            return IBMBackend(
                account,
                spec.name,
                spec.seed,
                self.deadline,
                fractional_gates=spec.fractional_gates,
                **cap,
            )
        from qprim.backends.aer import AerBackend, AerSettings
        from qprim.workload.types import AER_SIMULATOR

        settings = AerSettings(spec.name or AER_SIMULATOR, spec.noise, spec.seed)
        return AerBackend(settings, self.aer_store, self.aer_runner)


__all__ = ["Backend", "Backends", "FoundJob", "JobMetrics", "JobRequest", "JobStatus"]
