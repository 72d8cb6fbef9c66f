"""Pytest fixtures for the IBM Runtime emulator.

Why: tests of qprim's IBM path need a fresh, real-HTTP Runtime on loopback with no
setup. Enable with `pytest_plugins = ["qprim.testing.pytest_plugin"]`.

- `ibm_emulator`: function scope, fresh emulator on a free port, stopped afterwards.
- `ibm_emulator_session`: one emulator for the session; its faults are cleared before
  and after every test that uses it (jobs persist: filter them by a unique tag).
- `ibm_service`: a real `QiskitRuntimeService` bound to `ibm_emulator`; the client env
  vars (`IAM_URL`, `QISKIT_FUNCTIONS_EXPERIMENTAL`) are set with monkeypatch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qprim.testing.emulator import RuntimeEmulator, client_env, runtime_service

EMULATOR_SEED = 1234


@pytest.fixture
def ibm_emulator() -> Iterator[RuntimeEmulator]:
    with RuntimeEmulator(seed=EMULATOR_SEED) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def _ibm_emulator_session_server() -> Iterator[RuntimeEmulator]:
    with RuntimeEmulator(seed=EMULATOR_SEED) as emulator:
        yield emulator


@pytest.fixture
def ibm_emulator_session(
    _ibm_emulator_session_server: RuntimeEmulator,
) -> Iterator[RuntimeEmulator]:
    _ibm_emulator_session_server.clear_faults()
    yield _ibm_emulator_session_server
    _ibm_emulator_session_server.clear_faults()


@pytest.fixture
def ibm_service(ibm_emulator: RuntimeEmulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in client_env(ibm_emulator.url).items():
        monkeypatch.setenv(name, value)
    return runtime_service(ibm_emulator.url)
