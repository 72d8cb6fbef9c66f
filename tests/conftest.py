"""Shared test fixtures: a real Prefect server for the session, isolated qprim state per test.

Tests run `qprim` as a real subprocess (exit codes, stderr, SIGKILL) against a real
Prefect server started once here: that is the "running local server" fast path. The
embedded default (a temporary server per process) has its own test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "workloads"
CORPUS = REPO.parent / "shared" / "corpus" / "qasmbench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QPRIM_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        COLUMNS="200",
    )
    return env


@pytest.fixture(scope="session")
def prefect_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server on loopback, shared by the whole test session."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    log_path = home / "server.log"
    with open(log_path, "w") as log:
        yield from _serve(home, port, log_path, log)


def _serve(home: Path, port: int, log_path: Path, log: Any) -> Iterator[str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-ui",
            "--analytics-off",
        ],
        env=base_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"Prefect server did not start: {log_path.read_text()}")
        time.sleep(0.5)
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@dataclass
class Qprim:
    """Runs the real `qprim` command in a subprocess with this test's own state."""

    env: dict[str, str]
    cwd: Path
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = Path(self.env["QPRIM_HOME"])

    def run(
        self, *args: str | os.PathLike[str], timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qprim", *map(str, args)],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(
        self, *args: str | os.PathLike[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "qprim", *map(str, args)],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_json(self, *args: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
        """`qprim ... --json`, asserting success; the parsed document."""
        done = self.run(*args, "--json", **kwargs)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def aer_jobs(self) -> list[dict[str, Any]]:
        """Every job in the durable Aer job store: what the 'backend' really received."""
        root = self.home / "aer-jobs"
        return [json.loads(p.read_text()) for p in sorted(root.glob("*/job.json"))]


@pytest.fixture
def qprim(tmp_path: Path, prefect_api_url: str) -> Qprim:
    """`qprim` against the session's Prefect server, with fresh journal, job store and cache."""
    env = base_env(tmp_path / "prefect-home")
    env.update(
        PREFECT_API_URL=prefect_api_url,
        PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "prefect-storage"),
        QPRIM_HOME=str(tmp_path / "qprim-home"),
    )
    work = tmp_path / "work"
    work.mkdir()
    return Qprim(env, work)
