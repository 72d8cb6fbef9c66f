"""Where qprim keeps whole objects (results, Aer jobs): a folder, or any storage a team shares.

The result store and the Aer job store only need two things of a storage: write an
object whole, and read it back (None when it is not there). A local folder does this
with a temp file and a rename; a Prefect storage block (`qprim.flows.storage`) does it
with one PUT per object. Keys are `/`-separated relative names, the same everywhere, so
a local folder and a bucket hold the same layout.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol

from qprim.files import write_atomic


class ObjectStorage(Protocol):
    """Named objects, each written whole: a reader sees all of an object or none of it."""

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically."""
        ...

    def describe(self) -> str:
        """Where the objects live, for messages (no secrets)."""
        ...


def checked_key(key: str) -> str:
    """A relative key that cannot leave its storage (`..`, absolute paths, empty parts)."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """A folder on this machine (or a shared mount): atomic by temp file and rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / checked_key(key)).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, data: bytes) -> None:
        write_atomic(self.root / checked_key(key), data)

    def describe(self) -> str:
        return str(self.root)
