"""`python -m qprim.flows.supervisor`: runs `prefect server start` for qprim, and stops it
when no qprim command has used it for the idle period, or on SIGTERM (`qprim server stop`).

`qprim.flows.server` starts it fully detached; its pid is the one in `server.json` (the
one `qprim server stop` signals) and it leads the process group of the whole server. It
writes `server.json`, marks it ready once Prefect answers its health check, and removes
it when it ends. It never imports Prefect: a small process beside the server.

Idle means both: `last-used` is older than the idle period, and no command holds
`users.lock` (shared, for as long as it runs); the supervisor takes that lock
exclusively before it stops, so a command arriving meanwhile waits, then starts afresh.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from qprim.flows import template
from qprim.flows.resident import STALE_EXIT, log_line
from qprim.flows.server import (
    HOST,
    POLL_S,
    STARTING_POLL_S,
    STARTUP_TIMEOUT_S,
    STOP_TIMEOUT_S,
    ServerPaths,
    ServerRecord,
    forget,
    healthy,
    write_record,
)
from qprim.flows.settings import prefect_settings
from qprim.state import locks

RESIDENT = "qprim.resident"
RESIDENT_DELAY_S = 60.0


class Supervisor:
    """One `prefect server start` child, watched until it should stop."""

    def __init__(
        self, paths: ServerPaths, port: int, idle_minutes: float, stopping: threading.Event
    ) -> None:
        self.paths = paths
        self.idle_s = idle_minutes * 60
        self.stopping = stopping  # set by SIGTERM
        self.users: IO[str] | None = None  # held exclusively from the idle stop to the end
        self.resident: subprocess.Popen[bytes] | None = None  # see start_resident_when_unused
        self.ready_at = 0.0  # time.monotonic() when Prefect first answered
        self.resident_failed = False
        skipped = template.server_settings(prefect_settings())
        if skipped:
            said = " ".join(f"{name}={value}" for name, value in skipped.items())
            say(f"Prefect's database is at its migration head: starting with {said}")
        self.child = subprocess.Popen(
            [
                *(sys.executable, "-m", "prefect", "server", "start"),
                *("--host", HOST, "--port", str(port)),
                # the UI shows every run's flow, tasks and artifacts
                *("--ui", "--analytics-off"),
            ],
            stdin=subprocess.DEVNULL,
            # what the UI in a browser calls (else Prefect's default port, 4200), unless set
            env={"PREFECT_UI_API_URL": f"http://{HOST}:{port}/api", **skipped, **os.environ},
        )
        self.record = ServerRecord(
            url=f"http://{HOST}:{port}/api",
            pid=os.getpid(),
            server_pid=self.child.pid,
            port=port,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            idle_minutes=idle_minutes,
            log=str(paths.log),
            prefect_home=os.environ.get("PREFECT_HOME") or str(Path.home() / ".prefect"),
        )
        write_record(paths, self.record)
        paths.last_used.touch()
        say(
            f"started Prefect (pid {self.child.pid}) on port {port}; stops after "
            f"{idle_minutes:g} idle minutes"
        )

    def run(self) -> int:
        """Watch until Prefect exits, a signal arrives or nobody uses it; the exit code."""
        started = time.monotonic()
        try:
            while True:
                self.stopping.wait(POLL_S if self.record.ready else STARTING_POLL_S)
                code = self.child.poll()
                if code is not None:
                    say(f"Prefect exited by itself with code {code}")
                    return 1
                if self.stopping.is_set():
                    say("stopping: asked to (SIGTERM)")
                    return 0
                if not self.record.ready:
                    if healthy(self.record.url, 1.0):
                        self.record = replace(self.record, ready=True)
                        write_record(self.paths, self.record)
                        say(f"ready: UI at {self.record.ui_url}")
                        self.ready_at = time.monotonic()
                    elif time.monotonic() - started > STARTUP_TIMEOUT_S:
                        say(f"Prefect did not answer within {STARTUP_TIMEOUT_S:.0f} s: stopping")
                        return 1
                elif self.resident is None:
                    self.start_resident_when_unused()
                else:
                    self.watch_resident()
                if self.record.ready and self.idle():
                    say(f"no qprim command used it for {self.idle_s / 60:g} minutes: stopping")
                    return 0
        finally:
            forget(self.paths, self.record.pid)
            self.end_child()
            say("stopped")

    def start_resident_when_unused(self) -> None:
        """Start the resident process once Prefect answers and no command uses it (or
        RESIDENT_DELAY_S after): its imports (3 s of a core) would slow Prefect's start
        and the first command's flow run on a small machine, and that command, which
        started Prefect, runs in its own process anyway."""
        unused = locks.try_exclusive(self.paths.users_lock)
        if unused is not None:
            unused.close()
        if unused is not None or time.monotonic() - self.ready_at > RESIDENT_DELAY_S:
            self.resident = self.start_resident()

    def start_resident(self) -> subprocess.Popen[bytes]:
        """qprim's resident process (`qprim.resident`), serving commands beside Prefect."""
        return subprocess.Popen(
            [sys.executable, "-m", RESIDENT, "--socket", str(self.paths.resident_socket)],
            stdin=subprocess.DEVNULL,
        )

    def watch_resident(self) -> None:
        """A resident process that ended because qprim's code changed is replaced; one
        that failed is not (commands then run in their own processes, as without it)."""
        code = self.resident.poll() if self.resident else None
        if code is None or self.resident_failed:
            return
        if code == STALE_EXIT:
            say("qprim's code changed: starting a new resident process")
            self.resident = self.start_resident()
        else:
            say(f"the resident process exited with code {code}: commands run on their own")
            self.resident_failed = True

    def idle(self) -> bool:
        try:
            unused_s = time.time() - self.paths.last_used.stat().st_mtime
        except OSError:
            unused_s = self.idle_s
        if unused_s < self.idle_s:
            return False
        self.users = locks.try_exclusive(self.paths.users_lock)
        return self.users is not None

    def end_child(self) -> None:
        """Stop the resident process and Prefect (killed if they take too long)."""
        children = [child for child in (self.resident, self.child) if child is not None]
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                say(f"{child.args[2]} did not stop in time: killing it")
                child.kill()
                child.wait()


def say(text: str) -> None:
    log_line("supervisor", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="the server's state folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-minutes", type=float, required=True)
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.set())
    return Supervisor(ServerPaths(args.dir), args.port, args.idle_minutes, stopping).run()


if __name__ == "__main__":
    sys.exit(main())
