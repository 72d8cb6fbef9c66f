"""Shared test fixtures: a real Prefect server for the session, isolated qprim state per test.

Tests run `qprim` as a real subprocess (exit codes, stderr, SIGKILL) against a real
Prefect server started once here (`PREFECT_API_URL`): the fast path. The server qprim
keeps by itself when PREFECT_API_URL is unset (`managed`) and Prefect's temporary server
(`QPRIM_SERVER=temporary`) have tests of their own; no managed server outlives its test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qprim.testing.emulator_process import EmulatorClient, emulator_process
from tests.prefect_server import local_prefect_server
from tests.support import (
    RESIDENT,
    Qprim,
    base_env,
    kill_processes,
    qprim_processes,
    qprim_under,
    resident_process,
)

pytest_plugins = ["qprim.testing.pytest_plugin"]


@pytest.fixture(scope="session", autouse=True)
def no_managed_server_outlives_the_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Whatever a test's `qprim` left running is killed, and reported as a failure."""
    yield
    left = qprim_processes(tmp_path_factory.getbasetemp())
    kill_processes(list(left))
    assert not left, f"tests left qprim's processes running: {left}"


@pytest.fixture(scope="session")
def resident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One resident qprim process for the session: the `qprim` commands tests run skip
    the imports, as a user's do while qprim's local server runs. Tests of the command
    without it set QPRIM_RESIDENT=off. Requested by every fixture that makes a `qprim`."""
    socket_path = tmp_path_factory.mktemp("resident") / "resident.sock"
    with resident_process(socket_path):
        RESIDENT["QPRIM_RESIDENT"] = str(socket_path)
        yield socket_path
        RESIDENT.clear()


@pytest.fixture(scope="session")
def prefect_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server on loopback, shared by the whole test session."""
    with local_prefect_server(tmp_path_factory.mktemp("prefect-server")) as url:
        yield url


@pytest.fixture
def qprim(tmp_path: Path, prefect_api_url: str, resident: Path) -> Qprim:
    """`qprim` against the session's Prefect server, with fresh journal, job store and cache."""
    return qprim_under(tmp_path, prefect_api_url)


@pytest.fixture
def managed(tmp_path: Path, resident: Path) -> Iterator[Qprim]:
    """`qprim` with no PREFECT_API_URL: it starts and uses the Prefect server it keeps, with
    this test's own QPRIM_HOME and PREFECT_HOME. Stopped at the end, leftovers killed."""
    env = base_env(tmp_path / "prefect-home")
    env.update(
        PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "prefect-storage"),
        QPRIM_HOME=str(tmp_path / "qprim-home"),
    )
    work = tmp_path / "work"
    work.mkdir()
    qprim = Qprim(env, work)
    yield qprim
    qprim.run("server", "stop", timeout=120)
    kill_processes(list(qprim_processes(qprim.home)))


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    """The IBM Runtime emulator in its own process (`qprim emulator serve`)."""
    with emulator_process("--seed", "1234") as client:
        yield client


# Fixtures that start or use real parts (a Prefect server, the emulator, PostgreSQL, qprim
# in subprocesses): a test using one is in the slow tier; `-m "not slow"` is the rest.
REAL_PARTS = {
    "qprim",
    "managed",
    "team",
    "emulator",
    "prefect_api_url",
    "resident",
    "ibm_emulator",
    "ibm_emulator_session",
    "ibm_service",
    "pg",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_PARTS.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # the long tests first, so that the workers end together: the short ones fill in last
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
