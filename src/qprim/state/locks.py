"""Locks between qprim processes on one machine, that obey a deadline and say who holds
them.

An OS file lock (`flock`): the OS releases it when its holder dies, so a crash never
leaves work locked. An exclusive holder writes who it is into the lock file, so a process
that gives up waiting can tell the user which process has the work. Shared locks say
"in use" for as long as a process lives: any number of them at once, none while someone
holds the lock exclusively (how the local Prefect server knows it is idle).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from qprim.errors import DeadlineError
from qprim.files import command_pid

POLL_S = 0.2


@contextlib.contextmanager
def exclusive(
    path: Path, deadline: float | None = None, what: str = "submitting this work"
) -> Iterator[None]:
    """Hold the lock at `path`; DeadlineError (naming the holder) if not ours by `deadline`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if not _acquire(handle, deadline, fcntl.LOCK_EX):
            raise DeadlineError(
                f"gave up waiting for {holder(path)} to finish {what} (--timeout reached)"
            )
        try:
            _write_holder(handle)
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def file_lock(
    folder: Path, key: str, deadline: float | None = None, what: str = "submitting this work"
) -> AbstractContextManager[None]:
    """The lock named `key` (a digest, `aer-run:JOB`) among the lock files in `folder`."""
    name = key.removeprefix("sha256:").replace(":", "-")
    return exclusive(folder / f"{name}.lock", deadline, what)


def shared(path: Path, deadline: float) -> IO[str] | None:
    """A shared lock on `path`, held until the returned file is closed or the process ends;
    None if an exclusive holder keeps it past `deadline`."""
    return _held(path, deadline, fcntl.LOCK_SH)


def try_exclusive(path: Path) -> IO[str] | None:
    """The lock at `path`, exclusively and at once, held until the returned file is closed
    or the process ends; None if anyone holds it (shared or not)."""
    return _held(path, time.time(), fcntl.LOCK_EX)


def _held(path: Path, deadline: float, operation: int) -> IO[str] | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (the caller keeps it open: that is the lock)
    if _acquire(handle, deadline, operation):
        return handle
    handle.close()
    return None


def _acquire(handle: IO[str], deadline: float | None, operation: int) -> bool:
    """Lock `handle` with `operation` (shared or exclusive); False if not ours by `deadline`."""
    if deadline is None:
        fcntl.flock(handle.fileno(), operation)
        return True
    while True:
        try:
            fcntl.flock(handle.fileno(), operation | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.time() >= deadline:
                return False
            time.sleep(min(POLL_S, max(0.0, deadline - time.time())))


def _write_holder(handle: object) -> None:
    record = {
        "pid": command_pid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    handle.seek(0)  # type: ignore[attr-defined]
    handle.truncate()  # type: ignore[attr-defined]
    handle.write(json.dumps(record))  # type: ignore[attr-defined]
    handle.flush()  # type: ignore[attr-defined]


def holder(path: Path) -> str:
    """`another qprim process (pid N on HOST, since T)`, as far as the lock file tells."""
    try:
        record = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        record = {}
    if not record:
        return "another qprim process"
    return (
        f"another qprim process (pid {record.get('pid')} on {record.get('host')}, "
        f"since {record.get('since')})"
    )
