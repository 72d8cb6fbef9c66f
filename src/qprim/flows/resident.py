"""How a command and qprim's resident process talk: where the socket is, how to reach it
however long its path, and the few messages besides a command. Standard library only,
like the local server's `server` and `supervisor` beside it: `qprim.launch`, the
supervisor and `qprim server status` use it without imports.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from qprim.files import local_server_dir

SOCKET_ENV = "QPRIM_RESIDENT"  # the resident process's socket, or "off"
SOCKET_NAME = "resident.sock"
STALE_EXIT = 3  # the resident process's exit code when qprim's code changed under it
CONNECT_TIMEOUT_S = 2.0
MAX_ADDRESS = 100  # bytes; sun_path is 108 on Linux


def socket_path() -> Path | None:
    """Where the resident process listens: QPRIM_RESIDENT, else beside qprim's local
    server (`files.local_server_dir`); None when QPRIM_RESIDENT is `off`."""
    configured = os.environ.get(SOCKET_ENV, "").strip()
    if configured.lower() in ("off", "0", "false", "no"):
        return None
    if configured:
        return Path(configured)
    return local_server_dir() / SOCKET_NAME


def connect_unix(sock: socket.socket, path: Path, bind: bool = False) -> None:
    """Connect (or bind) `sock` to `path`, however long: a Unix socket address holds about
    100 bytes, so a longer path is reached through its folder's descriptor."""
    if len(os.fsencode(path)) < MAX_ADDRESS:
        (sock.bind if bind else sock.connect)(str(path))
        return
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        short = f"/proc/self/fd/{folder}/{path.name}"
        (sock.bind if bind else sock.connect)(short)
    finally:
        os.close(folder)


def log_line(who: str, text: str) -> None:
    """A line of the local server's log, from its supervisor or the resident process."""
    print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} qprim {who}: {text}", flush=True)


def send(connection: socket.socket, document: dict[str, object]) -> None:
    connection.sendall(json.dumps(document).encode() + b"\n")


def resident_status(path: Path) -> dict[str, object] | None:
    """What the resident process at `path` says of itself (pid, commands served, memory);
    None when none answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(CONNECT_TIMEOUT_S)
            connect_unix(connection, path)
            send(connection, {"status": True})
            return json.loads(connection.makefile("rb").readline())
    except (OSError, ValueError):
        return None


def rss_bytes(pid: int) -> int | None:
    """Resident memory of process `pid` (Linux's /proc), for `qprim server status`."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
