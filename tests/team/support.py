"""Helpers of the team tests: two machines, the shared store as seen from outside qprim,
and the Prefect API of the team's server."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

from tests.support import Qprim

ROLE = "qprim_team"
PASSWORD = "pg-Secret-9f27c1d4"  # must never show up in anything qprim prints or records


@dataclass
class Team:
    a: Qprim
    b: Qprim
    api: str
    journal_url: str
    shared: Path  # the local-file-system store's folder

    def set_env(self, **values: str) -> None:
        for machine in (self.a, self.b):
            machine.env.update(values)

    def aer_jobs(self) -> list[dict[str, Any]]:
        """Every Aer job in the shared store: what the 'backend' really received."""
        return [json.loads(p.read_text()) for p in sorted(self.shared.glob("aer-jobs/*/job.json"))]

    def aer_state(self, job_id: str) -> dict[str, Any]:
        return json.loads((self.shared / "aer-jobs" / job_id / "state.json").read_text())


def save_block(api: str, block_type: str, **fields: Any) -> str:
    """Save a Prefect storage block on the team's server; its `TYPE/NAME`."""
    from prefect.filesystems import LocalFileSystem, RemoteFileSystem
    from prefect.settings import PREFECT_API_URL, temporary_settings

    cls = {"local-file-system": LocalFileSystem, "remote-file-system": RemoteFileSystem}
    name = f"store-{uuid.uuid4().hex[:8]}"
    with temporary_settings(updates={PREFECT_API_URL: api}):
        cls[block_type](**fields).save(name)
    return f"{block_type}/{name}"


def prefect_client(api: str) -> Any:
    """A synchronous Prefect client of the team's server (use as a context manager)."""
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api, httpx_settings={"timeout": 30})


def wait_for_marker(process: Popen[str], marker: Path, timeout: float = 180) -> None:
    """Until `process` wrote `marker` (it paused at a fault point); fails if it ended."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "qprim never reached the fault point"
        time.sleep(0.2)


def kill(process: Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def secret_free(text: str, *secrets: str) -> bool:
    return not any(secret in text for secret in (PASSWORD, *secrets))
