"""The durable record of submissions: the source of truth for "was this already submitted?".

A row is written as `prepared` (with the job tag) before the backend is called and
becomes `submitted` (with the job id) only after the backend accepted the job, so the
journal never claims more than happened. A `prepared` row left by a crash is resolved
by looking the tag up at the backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qprim.files import file_lock, qprim_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    tag TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('prepared', 'submitted')),
    job_id TEXT,
    status TEXT,
    backend_kind TEXT NOT NULL,
    backend_name TEXT NOT NULL,
    block TEXT,
    workload TEXT NOT NULL,
    primitive TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (digest, attempt)
);
CREATE INDEX IF NOT EXISTS submissions_job ON submissions (job_id);
"""


@dataclass(frozen=True)
class Submission:
    id: int
    digest: str
    attempt: int
    tag: str
    state: str
    job_id: str | None
    status: str | None
    backend_kind: str
    backend_name: str
    block: str | None
    workload: str
    primitive: str
    created: str
    updated: str


def job_tag(digest: str, attempt: int) -> str:
    """A stable tag for attempt N of a digest: finds a job whose id was never recorded."""
    return f"qprim-{digest.removeprefix('sha256:')[:32]}-{attempt}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    def __init__(self, home: Path | None = None) -> None:
        self.home = home or qprim_home()
        self.path = self.home / "journal.sqlite"
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=60)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction: committed on success, rolled back on error
                yield db

    def lock(self, digest: str) -> AbstractContextManager[None]:
        """Serialises every process working on the same digest, so two runs make one job."""
        return file_lock(self.home / "locks" / f"{digest.removeprefix('sha256:')}.lock")

    def latest(self, digest: str) -> Submission | None:
        return self._one(
            "SELECT * FROM submissions WHERE digest = ? ORDER BY attempt DESC LIMIT 1", digest
        )

    def by_job_id(self, job_id: str) -> Submission | None:
        return self._one("SELECT * FROM submissions WHERE job_id = ?", job_id)

    def recent(self, limit: int = 50) -> list[Submission]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM submissions ORDER BY id DESC LIMIT ?", (limit,))
            return [Submission(**row) for row in rows]

    def prepare(
        self,
        digest: str,
        *,
        backend_kind: str,
        backend_name: str,
        block: str | None,
        workload: str,
        primitive: str,
    ) -> Submission:
        """Record the intent to submit (a new attempt) before the backend is called."""
        previous = self.latest(digest)
        attempt = previous.attempt + 1 if previous else 1
        now = _now()
        with self._connect() as db:
            db.execute(
                "INSERT INTO submissions (digest, attempt, tag, state, backend_kind,"
                " backend_name, block, workload, primitive, created, updated)"
                " VALUES (?, ?, ?, 'prepared', ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest,
                    attempt,
                    job_tag(digest, attempt),
                    backend_kind,
                    backend_name,
                    block,
                    workload,
                    primitive,
                    now,
                    now,
                ),
            )
        submission = self.latest(digest)
        assert submission is not None
        return submission

    def mark_submitted(self, submission: Submission, job_id: str) -> Submission:
        with self._connect() as db:
            db.execute(
                "UPDATE submissions SET state = 'submitted', job_id = ?, updated = ? WHERE id = ?",
                (job_id, _now(), submission.id),
            )
        updated = self.by_job_id(job_id)
        assert updated is not None
        return updated

    def record_status(self, job_id: str, status: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE submissions SET status = ?, updated = ? WHERE job_id = ?",
                (status, _now(), job_id),
            )

    def _one(self, query: str, *args: object) -> Submission | None:
        with self._connect() as db:
            row = db.execute(query, args).fetchone()
        return Submission(**row) if row else None
