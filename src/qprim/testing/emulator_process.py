"""The emulator in its own process, driven through its admin API over HTTP.

Tests of qprim's IBM path use this rather than the in-process fixture: the process
under test then holds nothing but the server, exactly as a user's CI would run it
(`qprim emulator serve`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qprim.flows.server import free_port


class EmulatorClient:
    """The admin API of a running emulator (`/__admin__/...`)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def jobs(self, tag: str | None = None, dry_runs: bool = False) -> list[dict[str, Any]]:
        """Jobs created (with `tag`), oldest first: id, tags, session_id, status, ...; the
        dry runs (jobs on `mock_*` devices, estimated, never run) instead, with `dry_runs`."""
        query = [f"tag={urllib.request.quote(tag)}"] if tag else []
        query += ["dry_runs=true"] if dry_runs else []
        return self._request("GET", "/__admin__/jobs" + (f"?{'&'.join(query)}" if query else ""))

    def usage(self) -> dict[str, Any]:
        """What the instance reports (`GET /api/v1/instances/usage`), without a client."""
        return self._request("GET", "/__admin__/usage")

    def sessions(self) -> list[dict[str, Any]]:
        """Sessions and batches: id, mode (batch/dedicated), state, backend, job_ids."""
        return self._request("GET", "/__admin__/sessions")

    def add_fault(self, method: str, path: str, count: int, **fault: Any) -> None:
        """Arm an `HttpFault`: status, delay, lose_response, after_dispatch."""
        self._request(
            "POST", "/__admin__/faults", {"method": method, "path": path, "count": count, **fault}
        )

    def set_device(
        self, name: str, status: str | None = None, other_jobs: int | None = None
    ) -> None:
        """A device's status (online, paused, offline) and other users' jobs queued there."""
        body = {"status": status, "other_jobs": other_jobs}
        given = {key: value for key, value in body.items() if value is not None}
        self._request("POST", f"/__admin__/devices/{name}", given)

    def set_usage(self, limit_seconds: float | None, consumed_seconds: float = 0.0) -> None:
        """The instance's quota (None: unlimited) and the seconds used before."""
        self._request(
            "POST",
            "/__admin__/usage",
            {"limit_seconds": limit_seconds, "consumed_seconds": consumed_seconds},
        )

    def clear_faults(self) -> None:
        self._request("DELETE", "/__admin__/faults")

    def healthy(self) -> bool:
        try:
            return bool(self._request("GET", "/__admin__/health", timeout=2))
        except OSError:
            return False

    def _request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
        return json.loads(text) if text else None


@contextmanager
def emulator_process(*args: str, timeout: float = 120) -> Iterator[EmulatorClient]:
    """`qprim emulator serve` on a free loopback port, stopped on exit."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "qprim", "emulator", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = EmulatorClient(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while not client.healthy():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {server.stdout.read()}")
            time.sleep(0.2)
        yield client
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.returncode not in (0, -15):
            raise RuntimeError(f"the emulator crashed ({server.returncode})")
