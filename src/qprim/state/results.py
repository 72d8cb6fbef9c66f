"""The result store: every fetched result, by backend kind and job id, kept whole and
verified before it is trusted.

A result is written once, atomically, the moment it arrives, with its sha256 beside it
(`results/<kind>/<job_id>.json.sha256`); the journal records the same digest. A read that
does not match (a damaged or truncated object) is reported and treated as missing, so
the caller falls back to the durable Aer job store or the backend instead of showing
wrong numbers. Where the objects live is the storage's business: `$QPRIM_HOME` by
default, or a storage a team shares (`QPRIM_RESULTS`), where another machine finds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qprim.state.codec import sha256
from qprim.state.storage import ObjectStorage

log = logging.getLogger("qprim")


@dataclass(frozen=True)
class StoredResult:
    sha256: str
    size: int


class ResultStore:
    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage

    def put(self, kind: str, job_id: str, data: bytes) -> StoredResult:
        """Store a result (idempotent: the same job always has the same result)."""
        key = self._key(kind, job_id)
        digest = sha256(data)
        self.storage.write(key, data)
        # the digest last: a result without one is an unfinished write, never trusted
        self.storage.write(f"{key}.sha256", digest.encode())
        return StoredResult(digest, len(data))

    def get(self, kind: str, job_id: str, expected: str | None = None) -> bytes | None:
        """The stored result if it is whole: its sha256 must match `expected` (from the
        journal) or, without one, the digest written beside it."""
        key = self._key(kind, job_id)
        data = self.storage.read(key)
        beside = self.storage.read(f"{key}.sha256")
        if data is None or beside is None:
            return None
        wanted = expected or beside.decode(errors="replace").strip()
        actual = sha256(data)
        if actual != wanted:
            log.warning(
                "the stored result of job %s is damaged (sha256 %s, expected %s); "
                "fetching it again",
                job_id,
                actual[:12],
                wanted[:12],
            )
            return None
        return data

    @classmethod
    def keys(cls, kind: str, job_id: str) -> list[str]:
        """A result's objects, the digest last (as `put` writes them)."""
        key = cls._key(kind, job_id)
        return [key, f"{key}.sha256"]

    @staticmethod
    def _key(kind: str, job_id: str) -> str:
        if "/" in job_id or job_id.startswith("."):
            raise ValueError(f"not a job id: {job_id!r}")
        return f"results/{kind}/{job_id}.json"
