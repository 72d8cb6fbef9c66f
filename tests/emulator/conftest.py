"""Emulator tests: fixtures come from qprim's pytest plugin."""

from __future__ import annotations

import uuid

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The client's deprecation chatter is not what these tests are about."""
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore::DeprecationWarning"))
        item.add_marker(pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"))


@pytest.fixture
def tag() -> str:
    """A unique job tag, so tests count only their own jobs."""
    return f"test-{uuid.uuid4().hex[:10]}"
