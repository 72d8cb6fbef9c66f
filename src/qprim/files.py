"""Where qprim keeps its state, and how it writes files without ever half-writing them."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def read_umask() -> int:
    """The process's umask. Linux says it in /proc without changing it; elsewhere it is set
    and put back, once, when qprim starts (before any thread that creates files)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = read_umask()
FILE_MODE = 0o666 & ~UMASK  # what open() would have made: mkstemp makes 0600
DIR_MODE = 0o777 & ~UMASK  # what mkdir would have made: mkdtemp makes 0700


_caller_pid: int | None = None  # the `qprim` process a resident's child runs for


def become_caller(pid: int) -> None:
    """In a process forked by qprim's resident process for the `qprim` process `pid`: read
    the umask again (it took the caller's after this module was imported), and be known
    by the caller's pid, the one the user sees."""
    global UMASK, FILE_MODE, DIR_MODE, _caller_pid
    UMASK = read_umask()
    FILE_MODE = 0o666 & ~UMASK
    DIR_MODE = 0o777 & ~UMASK
    _caller_pid = pid


def command_pid() -> int:
    """The pid of the `qprim` command this process runs, as the user sees it (`ps`, kill)."""
    return _caller_pid or os.getpid()


def qprim_home() -> Path:
    """The folder holding the journal, the Aer job store and locks (`QPRIM_HOME`, else
    ~/.qprim). Not created here: commands that only read (validate, show) must work on a
    read-only home; what writes creates the folders it writes into."""
    return Path(os.environ.get("QPRIM_HOME") or Path.home() / ".qprim")


def prefect_home() -> Path:
    """Where Prefect keeps its database (`PREFECT_HOME`, else ~/.prefect), read without
    importing Prefect."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def local_server_dir() -> Path:
    """The state of the local Prefect server qprim keeps (and of the resident process
    beside it). It lives by the database the server serves, not in QPRIM_HOME: qprim homes
    that share a PREFECT_HOME must share one server, as two servers on one SQLite
    database would each see the other's writes half done."""
    return prefect_home() / "qprim-server"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temp file beside `path`, fsync, then rename: readers see all or nothing.
    The file gets the mode the user's umask gives any new file, as `open()` would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def make_staging_dir(parent: Path, prefix: str) -> Path:
    """A new, uniquely named folder in `parent` with the mode the umask gives any folder
    (`mkdtemp` makes it private, and a run folder renamed from it would stay so)."""
    folder = Path(tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=".tmp"))
    folder.chmod(DIR_MODE)
    return folder


def write_json_atomic(path: Path, payload: Any, **dump_kwargs: Any) -> None:
    write_atomic(path, json.dumps(payload, indent=2, **dump_kwargs) + "\n")
