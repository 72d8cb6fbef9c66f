"""Where qprim keeps its state, and how it writes files without ever half-writing them."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def qprim_home() -> Path:
    """The folder holding the journal, the Aer job store and locks (`QPRIM_HOME`, else
    ~/.qprim). Not created here: commands that only read (validate, show) must work on a
    read-only home; what writes creates the folders it writes into."""
    return Path(os.environ.get("QPRIM_HOME") or Path.home() / ".qprim")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temp file beside `path`, fsync, then rename: readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, payload: Any, **dump_kwargs: Any) -> None:
    write_atomic(path, json.dumps(payload, indent=2, **dump_kwargs) + "\n")
