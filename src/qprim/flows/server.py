"""The local Prefect server qprim keeps between commands, so that no command pays for
starting one (Prefect's temporary server costs about 7 s per process).

With no PREFECT_API_URL, the first command that needs Prefect starts `prefect server
start` under a small supervisor (`python -m qprim.flows.supervisor`), fully detached: a
session of its own, stdin from /dev/null, output to a log file, no inherited descriptors,
so `qprim run ... | cat` ends when qprim does. Later commands find it in
`$PREFECT_HOME/qprim-server/` and check `GET {url}/health` with a short timeout. It keeps
Prefect's own database (PREFECT_HOME's), as the temporary server does; its state sits
beside that database, so every qprim home that shares a PREFECT_HOME shares the server.

Files in `$PREFECT_HOME/qprim-server/`:

- `server.json`: the server (URL, the supervisor's pid, ...), written by its supervisor;
- `server.log`: the supervisor's and Prefect's output;
- `last-used`: touched when a command starts and when it ends;
- `users.lock`: every command using the server holds it shared for as long as it runs;
  the supervisor stops the server only when it gets it exclusively and `last-used` is
  older than the idle period, so a run waiting hours for an IBM queue keeps it alive;
- `start.lock`: held around check-and-start and around stop: two commands start one
  server.

Nothing here imports Prefect: `qprim server status` and `stop` stay instant.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from qprim.errors import DeadlineError, InputError, ServerError
from qprim.files import local_server_dir, write_json_atomic
from qprim.flows.resident import SOCKET_NAME, resident_status, rss_bytes
from qprim.state import locks

IDLE_ENV = "QPRIM_SERVER_IDLE_MINUTES"
PORT_ENV = "QPRIM_SERVER_PORT"
DEFAULT_IDLE_MINUTES = 30.0
HOST = "127.0.0.1"
SUPERVISOR = "qprim.flows.supervisor"
# A first start migrates a new database: 10 s or more on a busy machine. The same
# allowance qprim gives Prefect's temporary server (flows/env.py).
STARTUP_TIMEOUT_S = 180.0
# A healthy local server answers in milliseconds; one that does not answer in this time
# is checked once more, longer, under the start lock, and then replaced.
HEALTH_TIMEOUT_S = 2.0
RECHECK_TIMEOUT_S = 5.0
# Prefect shuts down gracefully in a few seconds; what is left after this is killed.
STOP_TIMEOUT_S = 30.0
# A command that finds the server stopping waits for it to be gone, then starts another.
STOPPING_WAIT_S = STOP_TIMEOUT_S + 30
# A port can be taken (QPRIM_SERVER_PORT, or between choosing a free one and the server
# binding it): Prefect then exits at once, and the next attempt takes another.
START_ATTEMPTS = 3
START_LOCK_WAIT_S = STARTUP_TIMEOUT_S + 60
POLL_S = 0.25
# while a server starts, its supervisor and the commands waiting for it look more often:
# every poll is time a first command waits for nothing
STARTING_POLL_S = 0.05


@dataclass(frozen=True)
class ServerPaths:
    """Where the managed server's state lives (see the module docstring)."""

    root: Path

    @property
    def record(self) -> Path:
        return self.root / "server.json"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def last_used(self) -> Path:
        return self.root / "last-used"

    @property
    def users_lock(self) -> Path:
        return self.root / "users.lock"

    @property
    def start_lock(self) -> Path:
        return self.root / "start.lock"

    @property
    def resident_socket(self) -> Path:
        return self.root / SOCKET_NAME


def server_paths() -> ServerPaths:
    return ServerPaths(local_server_dir())


@dataclass(frozen=True)
class ServerRecord:
    """What `server.json` says about the server (written by its supervisor)."""

    url: str  # the API URL commands use as PREFECT_API_URL
    pid: int  # the supervisor: `qprim server stop` signals it; it leads the process group
    server_pid: int  # `prefect server start`, the supervisor's child
    port: int
    started: str  # ISO 8601, UTC
    idle_minutes: float
    log: str
    prefect_home: str
    ready: bool = False  # the supervisor has seen the server answer its health check

    @property
    def ui_url(self) -> str:
        return self.url.removesuffix("/api")


_RECORD_FIELDS = fields(ServerRecord)


def read_record(paths: ServerPaths) -> ServerRecord | None:
    try:
        data = json.loads(paths.record.read_text())
        return ServerRecord(**{f.name: data[f.name] for f in _RECORD_FIELDS if f.name in data})
    except (OSError, ValueError, TypeError):
        return None


def write_record(paths: ServerPaths, record: ServerRecord) -> None:
    write_json_atomic(paths.record, asdict(record))


def forget(paths: ServerPaths, pid: int) -> None:
    """Remove `server.json` if it still names supervisor `pid` (a newer one may not)."""
    record = read_record(paths)
    if record is not None and record.pid == pid:
        paths.record.unlink(missing_ok=True)


# ----- settings -------------------------------------------------------------------------


def idle_minutes() -> float:
    """QPRIM_SERVER_IDLE_MINUTES: how long a server nobody uses keeps running."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return DEFAULT_IDLE_MINUTES
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(
            f"{IDLE_ENV}={raw}: expected a positive number of minutes "
            f"(default {DEFAULT_IDLE_MINUTES:g}; e.g. 120, or 0.5)"
        )
    return value


def preferred_port() -> int | None:
    """QPRIM_SERVER_PORT: the port to try first (a free one is chosen if it is taken)."""
    raw = os.environ.get(PORT_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise InputError(f"{PORT_ENV}={raw}: expected a port number (1-65535), e.g. 4200")
    return int(raw)


# ----- processes, ports, health ---------------------------------------------------------


def command_line(pid: int) -> str | None:
    """The command line of live process `pid`, or None if it is gone (or a zombie)."""
    if pid <= 0:
        return None
    if Path("/proc/self").is_dir():
        proc = Path("/proc", str(pid))
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            return None
        if state in ("Z", "X"):
            return None
        return command.replace(b"\0", b" ").decode("utf-8", "replace")
    listed = subprocess.run(
        ["ps", "-o", "stat=,command=", "-p", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split(None, 1)
    return listed[1] if len(listed) == 2 and not listed[0].startswith("Z") else None


def supervisor_alive(record: ServerRecord) -> bool:
    command = command_line(record.pid)
    return command is not None and SUPERVISOR in command


def _prefect_alive(record: ServerRecord) -> bool:
    command = command_line(record.server_pid)
    return command is not None and "prefect" in command and f"--port {record.port}" in command


_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def healthy(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """Prefect's `GET {url}/health` answers 200 within `timeout`."""
    try:
        with _LOCAL.open(f"{url}/health", timeout=timeout) as answer:
            return answer.status == 200
    except (OSError, http.client.HTTPException):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# ----- using, starting, stopping --------------------------------------------------------

_in_use: IO[str] | None = None  # the shared users.lock this process holds until it ends


def ensure_running() -> tuple[ServerRecord, bool]:
    """The running server (started if none is; a dead or hung one replaced), and whether
    this call started it. This process counts as a user of it until it ends."""
    minutes, port = idle_minutes(), preferred_port()
    try:
        paths = server_paths()
        paths.root.mkdir(parents=True, exist_ok=True)
        _use(paths)
        record = read_record(paths)
        if record and record.ready and supervisor_alive(record) and healthy(record.url):
            return record, False
        with _start_lock(paths):
            record = read_record(paths)
            if record is not None:
                usable = _usable(paths, record)
                if usable is not None:
                    return usable, False
                _discard(paths, record)
            return _start(paths, minutes, port), True
    except OSError as exc:
        raise ServerError(
            f"qprim could not keep a local Prefect server ({exc}): point PREFECT_API_URL at "
            "a running one, or set QPRIM_SERVER=temporary"
        ) from exc


def started_message(record: ServerRecord) -> str:
    """The one line a command prints when it started the server."""
    return (
        f"qprim started a local Prefect server, UI at {record.ui_url}; it stops after "
        f"{record.idle_minutes:g} idle minutes, or now with `qprim server stop`"
    )


def _use(paths: ServerPaths) -> None:
    """Count this process as a user of the server, for as long as it lives."""
    global _in_use
    if _in_use is None:
        # a supervisor that is stopping holds users.lock exclusively until it is gone
        _in_use = locks.shared(paths.users_lock, time.time() + STOPPING_WAIT_S)
        if _in_use is None:
            raise ServerError(
                f"the local Prefect server is still stopping after {STOPPING_WAIT_S:.0f} s; "
                f"see {paths.log}"
            )
        atexit.register(_touch, paths)
    _touch(paths)


def _touch(paths: ServerPaths) -> None:
    with contextlib.suppress(OSError):
        paths.last_used.touch()


@contextlib.contextmanager
def _start_lock(paths: ServerPaths) -> Iterator[None]:
    """One process at a time checks-and-starts or stops: two commands start one server."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(locks.exclusive(paths.start_lock, time.time() + START_LOCK_WAIT_S))
        except DeadlineError:
            raise ServerError(
                f"gave up after {START_LOCK_WAIT_S:.0f} s waiting for "
                f"{locks.holder(paths.start_lock)} to start or stop the local Prefect server; "
                f"its log: {paths.log}"
            ) from None
        yield


def _usable(paths: ServerPaths, record: ServerRecord) -> ServerRecord | None:
    """`record`'s server if it works (waiting for one still starting), else None."""
    if not supervisor_alive(record):
        return None
    if not record.ready:
        started = datetime.fromisoformat(record.started).timestamp()
        ready = _wait_ready(paths, record.pid, started + STARTUP_TIMEOUT_S)
        if ready is None:
            return None
        record = ready
    return record if healthy(record.url, RECHECK_TIMEOUT_S) else None


def _wait_ready(
    paths: ServerPaths,
    pid: int,
    deadline: float,
    launched: subprocess.Popen[bytes] | None = None,
) -> ServerRecord | None:
    """The record of supervisor `pid` once its server answers; None if it exits first or
    `deadline` passes."""
    while time.time() < deadline:
        record = read_record(paths)
        if record is not None and record.pid == pid and record.ready:
            return record
        exited = launched.poll() is not None if launched else command_line(pid) is None
        if exited:
            return None
        time.sleep(STARTING_POLL_S)
    return None


def _start(paths: ServerPaths, minutes: float, preferred: int | None) -> ServerRecord:
    """Launch a supervisor and wait until its server answers; on another port if Prefect
    exits at once (a taken port)."""
    for attempt in range(START_ATTEMPTS):
        first = attempt == 0
        port = preferred if first and preferred else free_port()
        launched = _launch(paths, port, minutes, fresh_log=first)
        record = _wait_ready(paths, launched.pid, time.time() + STARTUP_TIMEOUT_S, launched)
        if record is not None:
            return record
        if launched.poll() is None:  # it is still trying after all this time: give up
            _kill_group(launched.pid)
            break
    raise ServerError(
        f"the local Prefect server did not start; the end of its log ({paths.log}):\n"
        + _tail(paths.log)
    )


def _launch(
    paths: ServerPaths, port: int, minutes: float, fresh_log: bool
) -> subprocess.Popen[bytes]:
    """The supervisor, fully detached: nothing of this process (its terminal, its pipes,
    its locks) stays with it, so a pipeline or CI step ends when qprim does."""
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    command = [sys.executable, "-m", SUPERVISOR, "--dir", str(paths.root), "--port", str(port)]
    with open(paths.log, "wb" if fresh_log else "ab") as log:
        return subprocess.Popen(
            [*command, "--idle-minutes", repr(minutes)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # its own folder, not the user's: Prefect reads .env and prefect.toml from there
            cwd=paths.root,
            env=env,
            start_new_session=True,
            close_fds=True,
        )


def _discard(paths: ServerPaths, record: ServerRecord) -> None:
    """Kill whatever is left of a dead or hung server (its process group) and forget it."""
    if supervisor_alive(record) or _prefect_alive(record):
        _kill_group(record.pid)
        _wait_gone(record, STOP_TIMEOUT_S)
    forget(paths, record.pid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_gone(record: ServerRecord, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (supervisor_alive(record) or _prefect_alive(record)) and time.monotonic() < deadline:
        time.sleep(POLL_S)


def stop() -> ServerRecord | None:
    """Stop the server: SIGTERM to its supervisor, which stops Prefect; whatever is left
    after STOP_TIMEOUT_S is killed. The record of what was stopped; None if none ran."""
    paths = server_paths()
    if not paths.root.is_dir():  # no command ever kept a server here
        return None
    with _start_lock(paths):
        record = read_record(paths)
        if record is None:
            return None
        alive = supervisor_alive(record) or _prefect_alive(record)
        if supervisor_alive(record):
            os.kill(record.pid, signal.SIGTERM)
            _wait_gone(record, STOP_TIMEOUT_S)
        _discard(paths, record)
    return record if alive else None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ----- status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerStatus:
    """What `qprim server status` shows."""

    state: str  # running | starting | not answering | not running
    record: ServerRecord | None
    last_used: datetime | None
    paths: ServerPaths
    resident: dict[str, Any] | None = None  # what the resident process says of itself

    @property
    def running(self) -> bool:
        return self.state == "running"

    def document(self) -> dict[str, Any]:
        record = self.record
        idle = record.idle_minutes if record else None
        stops = (
            self.last_used + timedelta(minutes=idle)
            if self.running and self.last_used and idle
            else None
        )
        return {
            "state": self.state,
            "running": self.running,
            "ui_url": record.ui_url if record else None,
            "url": record.url if record else None,
            "pid": record.pid if record else None,
            "server_pid": record.server_pid if record else None,
            "port": record.port if record else None,
            "started": record.started if record else None,
            "last_used": _iso(self.last_used),
            "idle_minutes": idle,
            "stops_if_unused_at": _iso(stops),
            "prefect_home": record.prefect_home if record else None,
            "log": str(self.paths.log),
            "state_dir": str(self.paths.root),
            "server_rss_bytes": rss_bytes(record.server_pid) if record else None,
            "resident": self.resident,
        }


def status() -> ServerStatus:
    paths = server_paths()
    record = read_record(paths)
    try:
        last_used = datetime.fromtimestamp(paths.last_used.stat().st_mtime, UTC)
    except OSError:
        last_used = None
    if record is None or not supervisor_alive(record):
        return ServerStatus("not running", None, last_used, paths)
    if not record.ready:
        state = "starting"
    else:
        state = "running" if healthy(record.url) else "not answering"
    return ServerStatus(state, record, last_used, paths, resident_status(paths.resident_socket))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
