"""Prefect storage blocks as qprim's object storage: where a team's results and Aer jobs live.

`QPRIM_RESULTS=<block-type>/<block-name>` (or a team block's `results`) names any
writable file system block saved on the Prefect server: `remote-file-system` (any fsspec
URL: `s3://` with s3fs, `gs://`, `az://`, ...), `local-file-system` on a shared mount,
prefect-aws's `s3-bucket`, ... Credentials stay in the block. Every object is written
with one call (one PUT on an object store: readers see all of it or nothing); a
`local-file-system` block is written through a temp file and a rename instead, because
its own `write_path` writes in place. The same block keeps Prefect's own record of the
fetch task's results (`result_storage`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qprim.errors import InputError
from qprim.state.storage import LocalStorage, ObjectStorage, checked_key

if TYPE_CHECKING:
    from prefect.filesystems import WritableFileSystem

_SLUG = re.compile(r"^[a-z0-9-]+/[a-z0-9-]+$")


def check_slug(slug: str) -> str:
    """`TYPE/NAME`, as Prefect names a saved block."""
    if not _SLUG.match(slug):
        raise InputError(
            f"not a storage block: {slug!r}; name one as BLOCK-TYPE/BLOCK-NAME, e.g. "
            "remote-file-system/team-results (see `prefect block ls`)"
        )
    return slug


def open_storage(slug: str) -> ObjectStorage:
    """The storage block `slug`, loaded from the Prefect server, as qprim's storage."""
    from prefect.blocks.core import Block
    from prefect.filesystems import LocalFileSystem, WritableFileSystem

    try:
        block = Block.load(check_slug(slug))
    except ValueError:
        raise InputError(
            f"no storage block {slug!r} on the Prefect server: create it (in the UI, or "
            "with Python: RemoteFileSystem(basepath='s3://bucket/qprim').save('NAME'))"
        ) from None
    if isinstance(block, LocalFileSystem):
        return LocalStorage(Path(block.basepath or ".").expanduser())
    if not isinstance(block, WritableFileSystem):
        raise InputError(f"{slug!r} is a {type(block).__name__}, not a writable file system")
    return BlockStorage(block, slug)


class BlockStorage:
    """Objects through a Prefect writable file system block's `read_path`/`write_path`."""

    def __init__(self, block: WritableFileSystem, slug: str) -> None:
        self.block = block
        self.slug = slug

    def read(self, key: str) -> bytes | None:
        try:
            return self.block.read_path(checked_key(key))  # type: ignore[return-value]
        except FileNotFoundError:
            return None
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise

    def write(self, key: str, data: bytes) -> None:
        self.block.write_path(checked_key(key), data)

    def describe(self) -> str:
        return self.slug


def _is_missing(exc: Exception) -> bool:
    """An object store's 'no such key' that is no FileNotFoundError (boto3's ClientError)."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("404", "NoSuchKey")
