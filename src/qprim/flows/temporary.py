"""`QPRIM_SERVER=temporary`: Prefect's temporary server for one command, stopped when the
command ends.

Prefect starts this server itself on a client's first call when no API URL is set (its
ephemeral mode), but only then, after importing its whole server into the client (2 s on
two cores). qprim starts the same server, the same way (`uvicorn`'s factory
`prefect.server.api.server:create_app` in Prefect's ephemeral mode, no UI, on loopback,
on the database in PREFECT_HOME), as soon as a command knows it needs one, so that it
starts while the command does its other work, and on a database from qprim's template
(`qprim.flows.template`). Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from importlib import util
from pathlib import Path
from typing import IO

from qprim.errors import ServerError
from qprim.flows import template
from qprim.flows.server import (
    HOST,
    START_ATTEMPTS,
    STARTING_POLL_S,
    STARTUP_TIMEOUT_S,
    free_port,
    healthy,
)
from qprim.flows.settings import prefect_settings

# what Prefect's own temporary server is started with (prefect.server.api.server's
# SubprocessASGIServer): its ephemeral services only, no UI
EPHEMERAL = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
STOP_TIMEOUT_S = 5.0  # as Prefect gives its own


def start() -> str:
    """Start a temporary server, stopped when this process ends; its API URL once it
    answers (another port if Prefect exits at once: a port taken meanwhile)."""
    settings = prefect_settings()
    environment = {**template.server_settings(settings), **EPHEMERAL}
    with tempfile.TemporaryFile() as log:  # what it says, shown if it does not start
        for _attempt in range(START_ATTEMPTS):
            port = free_port()
            server = _launch(port, environment, log)
            atexit.register(_stop, server)
            url = f"http://{HOST}:{port}/api"
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while server.poll() is None and time.monotonic() < deadline:
                if healthy(url, 1.0):
                    return url
                time.sleep(STARTING_POLL_S)
            _stop(server)
        log.seek(0)
        said = log.read().decode(errors="replace").strip().splitlines()[-20:]
    raise ServerError(
        "Prefect's temporary server did not start (QPRIM_SERVER=temporary); it said:\n"
        + "\n".join(said)
    )


def _launch(port: int, environment: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    spec = util.find_spec("prefect")  # where uvicorn imports it from, as Prefect says
    app_dir = Path(spec.origin).parents[1] if spec and spec.origin else Path.cwd()
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir)),
            *("--factory", "prefect.server.api.server:create_app"),
            *("--host", HOST, "--port", str(port), "--log-level", "error", "--lifespan", "on"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**environment, **os.environ, **EPHEMERAL},
    )


def _stop(server: subprocess.Popen[bytes]) -> None:
    """As Prefect stops its own: terminate, then kill what is left after a while."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(STOP_TIMEOUT_S)
