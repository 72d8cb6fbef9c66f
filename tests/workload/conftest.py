"""Helpers: write small workload trees into tmp_path and load them from there."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BELL_QASM3 = """\
OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
"""


@pytest.fixture
def bell_qasm3() -> str:
    return BELL_QASM3


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run in tmp_path so workload paths are relative, as a user would type them."""
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture
def write(in_tmp: Path) -> Callable[[str, str], str]:
    def _write(name: str, text: str) -> str:
        path = in_tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return name

    return _write
