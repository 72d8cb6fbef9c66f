"""A real Prefect server on a free loopback port, for the tests and the benchmarks.

A server of the caller's, for as long as the caller holds it: the test suite starts one
and points every `qprim` process at it (`PREFECT_API_URL`), its fast path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from qprim.flows.server import free_port, healthy


def server_env(prefect_home: Path) -> dict[str, str]:
    """This environment without Prefect or qprim settings, with its own PREFECT_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QPRIM_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
    )
    return env


@contextmanager
def local_prefect_server(
    home: Path, timeout: float = 300, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run `prefect server start` with its state in `home` (and `env`'s settings, e.g.
    `PREFECT_SERVER_DATABASE_CONNECTION_URL` for a server on PostgreSQL); yield its API URL."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = home / "server.log"
    with open(log_path, "wb") as log:
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
            env={**server_env(home), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/api"
            _wait_healthy(url, server, timeout, log_path)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        if healthy(url):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not start:\n{log.read_text()[-3000:]}")
