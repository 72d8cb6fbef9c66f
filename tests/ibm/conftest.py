"""The IBM path's fixtures: a real Prefect block pointing at the emulator (`emulator`, in
tests/conftest.py), created through the real CLI."""

from __future__ import annotations

import pytest

from qprim.testing.emulator_process import EmulatorClient
from tests.ibm.support import IBM, TOKEN, create_block
from tests.support import Qprim


@pytest.fixture
def ibm(qprim: Qprim, emulator: EmulatorClient) -> IBM:
    """A block pointing at the emulator, created through the real CLI."""
    qprim.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(qprim, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")
    return IBM(qprim, emulator, block)
