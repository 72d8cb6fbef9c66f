"""The team tests' servers, each started once for the package: PostgreSQL (the shared
journal and the Prefect server's database), a Prefect server on it, and an S3-compatible
server (moto) for the shared store. Every test gets a database of its own and two
"machines": two QPRIM_HOMEs and working folders sharing one journal and one store."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import PostgresServer, find_pg_bin, postgres_server
from tests.prefect_server import free_port, local_prefect_server
from tests.support import Qprim, base_env
from tests.team.support import PASSWORD, ROLE, Team, save_block

PG_BIN = find_pg_bin()


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    if PG_BIN is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on this machine: "
            "apt-get install postgresql, or set QPRIM_PG_BIN"
        )
    with postgres_server(PG_BIN) as server:
        yield server


@pytest.fixture(scope="session")
def prefect_api_url(pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The team's Prefect server, itself on PostgreSQL (overrides the SQLite one)."""
    pg.create_database("prefect", ROLE, PASSWORD)
    database = pg.url("prefect", ROLE, PASSWORD, driver="postgresql+asyncpg")
    home = tmp_path_factory.mktemp("prefect-on-postgres")
    env = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": database}  # Prefect 3's name
    with local_prefect_server(home, env=env) as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3-compatible server on loopback, in a process of its own."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "moto did not start"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def journal_url(pg: PostgresServer) -> str:
    """A new, empty shared journal database for this test."""
    return pg.create_database(f"journal_{uuid.uuid4().hex[:10]}", ROLE, PASSWORD)


@pytest.fixture
def team(tmp_path: Path, prefect_api_url: str, journal_url: str, resident: Path) -> Team:
    """Machines A and B: own homes and folders; one journal, one store (a local-file-system
    block on a shared folder; tests that want S3 replace it)."""
    shared = tmp_path / "shared-store"
    slug = save_block(prefect_api_url, "local-file-system", basepath=str(shared))
    machines = []
    for name in ("a", "b"):
        env = base_env(tmp_path / f"prefect-home-{name}")
        env.update(
            PREFECT_API_URL=prefect_api_url,
            QPRIM_HOME=str(tmp_path / f"home-{name}"),
            QPRIM_JOURNAL_URL=journal_url,
            QPRIM_RESULTS=slug,
        )
        work = tmp_path / f"work-{name}"
        work.mkdir()
        machines.append(Qprim(env, work))
    return Team(machines[0], machines[1], prefect_api_url, journal_url, shared)
