"""Backends: one protocol (`Backend`), implemented for Aer and IBM Quantum; the table of
backend kinds and the factory that opens the backends a command needs (`kinds`)."""

from qprim.backends.base import Backend, FoundJob, JobMetrics, JobRequest, JobStatus
from qprim.backends.kinds import Backends

__all__ = ["Backend", "Backends", "FoundJob", "JobMetrics", "JobRequest", "JobStatus"]
