"""Exclusive locks between qprim processes on one machine, that obey a deadline and say
who holds them.

An OS file lock (`flock`): the OS releases it when its holder dies, so a crash never
leaves work locked. The holder writes who it is into the lock file, so a process that
gives up waiting can tell the user which process has the work.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from qprim.errors import DeadlineError

POLL_S = 0.2


@contextlib.contextmanager
def exclusive(
    path: Path, deadline: float | None = None, what: str = "submitting this work"
) -> Iterator[None]:
    """Hold the lock at `path`; DeadlineError (naming the holder) if not ours by `deadline`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        _acquire(handle, deadline, what)
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


def _acquire(handle: object, deadline: float | None, what: str) -> None:
    fd = handle.fileno()  # type: ignore[attr-defined]
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.time() >= deadline:
                raise DeadlineError(
                    f"gave up waiting for {holder(Path(handle.name))} "  # type: ignore[attr-defined]
                    f"to finish {what} (--timeout reached)"
                ) from None
            time.sleep(min(POLL_S, max(0.0, deadline - time.time())))


def _write_holder(handle: object) -> None:
    record = {
        "pid": os.getpid(),
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
