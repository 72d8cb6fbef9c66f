"""Test helpers for qprim: a loopback IBM Quantum Runtime emulator and pytest fixtures.

Why: qprim's IBM path must be exercised with the real `qiskit-ibm-runtime` client
without internet. Importing this package is cheap; the emulator imports Aer lazily.
The public names are the emulator module's.
"""

from __future__ import annotations

from qprim.testing import emulator
from qprim.testing.emulator import *  # noqa: F403

__all__ = emulator.__all__
