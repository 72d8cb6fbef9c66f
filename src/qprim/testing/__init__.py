"""Test helpers for qprim: a loopback IBM Quantum Runtime emulator and pytest fixtures.

Why: qprim's IBM path must be exercised with the real `qiskit-ibm-runtime` client
without internet. Importing this package is cheap; the emulator imports Aer lazily.
"""

from __future__ import annotations

from qprim.testing.emulator import (
    CANCEL_TAG,
    DEFAULT_CRN,
    DEFAULT_TOKEN,
    FAIL_TAG,
    INVALID_TOKEN,
    NOISE_TAG,
    QUEUE_TAG_PREFIX,
    RuntimeEmulator,
    client_env,
    client_settings,
    runtime_service,
    serve,
)

__all__ = [
    "CANCEL_TAG",
    "DEFAULT_CRN",
    "DEFAULT_TOKEN",
    "FAIL_TAG",
    "INVALID_TOKEN",
    "NOISE_TAG",
    "QUEUE_TAG_PREFIX",
    "RuntimeEmulator",
    "client_env",
    "client_settings",
    "runtime_service",
    "serve",
]
