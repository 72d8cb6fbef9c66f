"""The IBM path's fixtures: the emulator in its own process (`qprim emulator serve`) and a
real Prefect block pointing at it, created through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qprim.testing.emulator_process import EmulatorClient, emulator_process
from tests.ibm.support import IBM, TOKEN, create_block
from tests.support import Qprim


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with emulator_process("--seed", "1234") as client:
        yield client


@pytest.fixture
def ibm(qprim: Qprim, emulator: EmulatorClient) -> IBM:
    """A block pointing at the emulator, created through the real CLI."""
    qprim.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(qprim, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")
    return IBM(qprim, emulator, block)
