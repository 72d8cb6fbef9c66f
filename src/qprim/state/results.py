"""The result store: every fetched result, by backend kind and job id, kept whole and
verified before it is trusted.

A result is written once, atomically, the moment it arrives, with its sha256 beside it
(`<job_id>.json.sha256`); the journal records the same digest. A read that does not
match (a damaged or truncated file) is reported and treated as missing, so the caller
falls back to the durable Aer job store or the backend instead of showing wrong numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from qprim.files import qprim_home, write_atomic
from qprim.state.codec import sha256

log = logging.getLogger("qprim")


@dataclass(frozen=True)
class StoredResult:
    sha256: str
    size: int


class ResultStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or qprim_home() / "results"

    def put(self, kind: str, job_id: str, data: bytes) -> StoredResult:
        """Store a result (idempotent: the same job always has the same result)."""
        path = self._path(kind, job_id)
        digest = sha256(data)
        write_atomic(path, data)
        # the digest last: a result without one is an unfinished write, never trusted
        write_atomic(path.with_name(path.name + ".sha256"), digest)
        return StoredResult(digest, len(data))

    def get(self, kind: str, job_id: str, expected: str | None = None) -> bytes | None:
        """The stored result if it is whole: its sha256 must match `expected` (from the
        journal) or, without one, the digest written beside it."""
        path = self._path(kind, job_id)
        try:
            data = path.read_bytes()
            beside = path.with_name(path.name + ".sha256").read_text().strip()
        except FileNotFoundError:
            return None
        actual = sha256(data)
        if actual != (expected or beside):
            log.warning(
                "the stored result of job %s is damaged (sha256 %s, expected %s); "
                "fetching it again",
                job_id,
                actual[:12],
                (expected or beside)[:12],
            )
            return None
        return data

    def _path(self, kind: str, job_id: str) -> Path:
        if "/" in job_id or job_id.startswith("."):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / kind / f"{job_id}.json"
