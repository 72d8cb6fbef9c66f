"""The `qprim` entry point: hand the command to the resident process when one is running
(no imports to pay), else run it in this process, exactly as before.

Only the standard library is imported here: when the resident process serves the command,
this process only passes its terminal, working directory, environment and umask over a
Unix socket, forwards signals, and exits with the command's exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from typing import BinaryIO

from qprim.files import read_umask
from qprim.flows.resident import CONNECT_TIMEOUT_S, connect_unix, socket_path

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)
# The commands worth a resident process, and qprim's own help and version: `server`
# (which stops it) and `emulator serve` (a long-lived server of its own) always run here.
SERVED = frozenset(
    {
        "run",
        "validate",
        "fetch",
        "jobs",
        "cancel",
        "show",
        "export",
        "compare",
        "schema",
        "deploy",
        "blocks",
        "journal",
        "--help",
        "--version",
    }
)


def request(argv: list[str]) -> dict[str, object]:
    """What the resident process needs to run `qprim ARGV` as this process would."""
    return {
        "argv": argv,
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": read_umask(),
        "executable": os.path.realpath(sys.executable),
        "prefix": sys.prefix,
        "path": sys.path,
    }


def run_resident(argv: list[str]) -> int | None:
    """The exit code of `qprim ARGV` run by the resident process; None when there is none
    to run it (not running, refusing, anything wrong): then the caller runs it itself."""
    if not argv or argv[0] not in SERVED:
        return None
    path = socket_path()
    if path is None or not path.exists():
        return None
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(CONNECT_TIMEOUT_S)
        connect_unix(connection, path)
        body = json.dumps(request(argv)).encode() + b"\n"
        socket.send_fds(connection, [body], [0, 1, 2])
        reader = connection.makefile("rb")
        answer = json.loads(reader.readline() or b"{}")
    except (OSError, ValueError) as exc:
        _debug(f"qprim's resident process at {path} is not usable ({exc}): running here")
        return None
    pid = answer.get("pid")
    if not isinstance(pid, int):
        _debug(f"qprim's resident process declined ({answer.get('refused')}): running here")
        return None
    connection.settimeout(None)
    return _wait(reader, pid)


def _debug(line: str) -> None:
    """One debug log line (logging imported only then: it is not free)."""
    import logging

    logging.getLogger("qprim.resident").debug(line)


def _wait(reader: BinaryIO, pid: int) -> int:
    """Forward signals to the command's process group until the resident process says how
    it ended; end the same way."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    line = reader.readline()
    ended = json.loads(line) if line else {"signal": signal.SIGKILL}
    if "signal" in ended:  # killed by a signal: so is this process, as if it had run here
        for signum in FORWARDED:
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), int(ended["signal"]))
        return 128 + int(ended["signal"])
    return int(ended.get("exit", 1))


def main() -> None:
    code = run_resident(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from qprim.cli import main as cli_main

    cli_main()
