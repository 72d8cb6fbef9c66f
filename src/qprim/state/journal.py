"""The durable record of submissions: the source of truth for "was this already submitted?".

A row is written as `prepared` (with the job tag) before the backend is called and
becomes `submitted` (with the job id) only after the backend accepted the job, so the
journal never claims more than happened. A `prepared` row left by a crash is resolved
by looking the tag up at the backend. `claim` decides, in ONE transaction, whether this
caller makes a new attempt; the digest lock (`state.locks`) keeps a second process out
while the first talks to the backend.

The rows also remember what a rerun needs without asking anyone: each job's result
digest (to verify the stored result), its metrics, and the transpiled PUBs' sizes.
Execution-mode groups (IBM batches and sessions) are recorded the same way, so a rerun
after a crash attaches to the batch it had opened.

SQLAlchemy Core over SQLite (`$QPRIM_HOME/journal.sqlite`); the schema is versioned and
migrated in place, including files written by qprim 0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from qprim.errors import StateError
from qprim.files import qprim_home
from qprim.state.locks import exclusive

SCHEMA_VERSION = 3
metadata = sa.MetaData()

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("tag", sa.Text, nullable=False, unique=True),
    sa.Column("state", sa.Text, nullable=False),  # prepared | submitted
    sa.Column("job_id", sa.Text, index=True),
    sa.Column("status", sa.Text),
    sa.Column("backend_kind", sa.Text, nullable=False),
    sa.Column("backend_name", sa.Text, nullable=False),
    sa.Column("block", sa.Text),
    sa.Column("workload", sa.Text, nullable=False),
    sa.Column("primitive", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
    # version 2
    sa.Column("part", sa.Integer, nullable=False, server_default="1"),
    sa.Column("parts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("mode", sa.Text, nullable=False, server_default="job"),
    sa.Column("session_id", sa.Text),
    sa.Column("pubs", sa.Text),  # JSON: the transpiled PUBs' facts (index, depth, size, ...)
    sa.Column("metrics", sa.Text),  # JSON: the job's timing, once fetched
    sa.Column("result_sha256", sa.Text),
    sa.Column("result_size", sa.Integer),
    # version 3: a submit whose answer never came (given up on): the service may still make
    # a second job for this tag, so every later run that reuses it looks the tag up
    sa.Column("uncertain", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("digest", "attempt"),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),  # batch | session
    sa.Column("backend_kind", sa.Text, nullable=False),
    sa.Column("backend_name", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text),
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
    sa.UniqueConstraint("key", "attempt"),
)

meta = sa.Table(
    "qprim_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Columns each schema version added to `submissions` (for files of older versions).
_ADDED_IN = {
    2: (
        "part",
        "parts",
        "mode",
        "session_id",
        "pubs",
        "metrics",
        "result_sha256",
        "result_size",
    ),
    3: ("uncertain",),
}


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
    part: int = 1
    parts: int = 1
    mode: str = "job"
    session_id: str | None = None
    pubs: list[dict[str, Any]] | None = None
    metrics: dict[str, Any] | None = None
    result_sha256: str | None = None
    result_size: int | None = None
    uncertain: bool = False

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> Submission:
        values = dict(row._mapping)
        for key in ("pubs", "metrics"):
            values[key] = json.loads(values[key]) if values[key] else None
        values["uncertain"] = bool(values["uncertain"])
        return cls(**{f.name: values[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class SubmissionMeta:
    """What a new attempt records besides its digest."""

    backend_kind: str
    backend_name: str
    block: str | None
    workload: str
    primitive: str
    part: int = 1
    parts: int = 1
    mode: str = "job"


@dataclass(frozen=True)
class Claim:
    """The latest attempt for a digest, and whether this caller just created it."""

    submission: Submission
    claimed: bool


@dataclass(frozen=True)
class Group:
    """An IBM batch or session opened for a workload's jobs."""

    id: int
    key: str
    attempt: int
    mode: str
    session_id: str | None
    closed: bool


# What to do about a journal SQLite cannot use, by SQLite's own error code.
_DAMAGED = (
    "; it is damaged: move it aside, a new one is made, and jobs already submitted are "
    "found again by their tags"
)
_SQLITE_HINTS = {
    11: _DAMAGED,  # SQLITE_CORRUPT
    26: _DAMAGED,  # SQLITE_NOTADB
    13: "; the disk is full: make room and run again",  # SQLITE_FULL
    8: "; its folder is read-only: set QPRIM_HOME to a writable folder",  # SQLITE_READONLY
    14: "; its folder cannot be written: set QPRIM_HOME to a writable folder",  # CANTOPEN
}


def job_tag(digest: str, attempt: int) -> str:
    """A stable tag for attempt N of a digest: finds a job whose id was never recorded."""
    return f"qprim-{digest.removeprefix('sha256:')[:32]}-{attempt}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    def __init__(self, home: Path | None = None) -> None:
        self.home = home or qprim_home()
        self.path = self.home / "journal.sqlite"
        self.home.mkdir(parents=True, exist_ok=True)
        with self._unusable_as_state_error():
            self.db = _sqlite_engine(str(self.path))

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        with self._unusable_as_state_error(), self.db.begin() as connection:
            yield connection

    @contextmanager
    def _unusable_as_state_error(self) -> Iterator[None]:
        """A damaged, read-only or full journal is the user's to fix, not a qprim bug."""
        try:
            yield
        except sa.exc.DatabaseError as exc:
            code = getattr(exc.orig, "sqlite_errorcode", None)
            hint = _SQLITE_HINTS.get(code, "") if isinstance(code, int) else ""
            raise StateError(f"the journal {self.path} cannot be used ({exc.orig}){hint}") from exc

    def hold(self, key: str, deadline: float | None = None) -> AbstractContextManager[None]:
        """Keeps every other qprim process on this machine away from `key` (a digest)
        while this one talks to the backend; obeys `deadline`, names the holder."""
        name = key.removeprefix("sha256:")
        return exclusive(self.home / "locks" / f"{name}.lock", deadline, "this work")

    # ----- submissions -----------------------------------------------------------------
    def claim(self, digest: str, meta: SubmissionMeta, *, refresh: bool = False) -> Claim:
        """The latest attempt for `digest`, or (none yet, or `refresh`) a new `prepared` one.

        One transaction: two callers can never both create attempt N."""
        with self._transaction() as db:
            latest = _latest(db, digest)
            if latest is not None and not refresh:
                return Claim(latest, claimed=False)
            attempt = latest.attempt + 1 if latest else 1
            stamp = now()
            db.execute(
                submissions.insert().values(
                    digest=digest,
                    attempt=attempt,
                    tag=job_tag(digest, attempt),
                    state="prepared",
                    created=stamp,
                    updated=stamp,
                    **{f.name: getattr(meta, f.name) for f in fields(meta)},
                )
            )
            created = _latest(db, digest)
        assert created is not None
        return Claim(created, claimed=True)

    def mark_submitted(
        self,
        submission: Submission,
        job_id: str,
        *,
        session_id: str | None = None,
        pubs: list[dict[str, Any]] | None = None,
    ) -> Submission:
        """Record the job the backend accepted for this attempt (or the one found by tag)."""
        values: dict[str, Any] = {"state": "submitted", "job_id": job_id, "updated": now()}
        if session_id is not None:
            values["session_id"] = session_id
        if pubs is not None:
            values["pubs"] = json.dumps(pubs)
        with self._transaction() as db:
            db.execute(submissions.update().where(submissions.c.id == submission.id).values(values))
            row = db.execute(sa.select(submissions).where(submissions.c.id == submission.id)).one()
        return Submission.from_row(row)

    def mark_uncertain(self, submission: Submission) -> None:
        """qprim gave up on a submit call that may still make a job at the service."""
        with self._transaction() as db:
            db.execute(
                submissions.update()
                .where(submissions.c.id == submission.id)
                .values(uncertain=True, updated=now())
            )

    def record_status(self, job_id: str, status: str) -> None:
        self._update_job(job_id, status=status)

    def record_result(
        self, job_id: str, *, sha256: str, size: int, metrics: dict[str, Any]
    ) -> None:
        """The job is DONE and its result is stored: what a rerun verifies it against."""
        self._update_job(
            job_id,
            status="DONE",
            result_sha256=sha256,
            result_size=size,
            metrics=json.dumps(metrics),
        )

    def latest(self, digest: str) -> Submission | None:
        with self._transaction() as db:
            return _latest(db, digest)

    def by_job_id(self, job_id: str) -> Submission | None:
        with self._transaction() as db:
            row = db.execute(
                sa.select(submissions)
                .where(submissions.c.job_id == job_id)
                .order_by(submissions.c.id.desc())
            ).first()
        return Submission.from_row(row) if row else None

    def recent(self, limit: int = 50) -> list[Submission]:
        query = sa.select(submissions).order_by(submissions.c.id.desc()).limit(limit)
        with self._transaction() as db:
            return [Submission.from_row(row) for row in db.execute(query)]

    def _update_job(self, job_id: str, **values: Any) -> None:
        with self._transaction() as db:
            db.execute(
                submissions.update()
                .where(submissions.c.job_id == job_id)
                .values(updated=now(), **values)
            )

    # ----- execution-mode groups -------------------------------------------------------
    def claim_group(
        self, key: str, mode: str, backend: tuple[str, str], *, refresh: bool = False
    ) -> Group:
        """The open group for `key`, or a new one (no session id yet) in one transaction."""
        with self._transaction() as db:
            latest = _latest_group(db, key)
            if latest is not None and not latest.closed and not refresh:
                return latest
            stamp = now()
            db.execute(
                groups.insert().values(
                    key=key,
                    attempt=latest.attempt + 1 if latest else 1,
                    mode=mode,
                    backend_kind=backend[0],
                    backend_name=backend[1],
                    created=stamp,
                    updated=stamp,
                )
            )
            created = _latest_group(db, key)
        assert created is not None
        return created

    def group(self, key: str) -> Group | None:
        with self._transaction() as db:
            return _latest_group(db, key)

    def set_group_session(self, group: Group, session_id: str) -> Group:
        return self._update_group(group, session_id=session_id)

    def close_group(self, group: Group) -> Group:
        return self._update_group(group, closed=True)

    def _update_group(self, group: Group, **values: Any) -> Group:
        with self._transaction() as db:
            db.execute(
                groups.update().where(groups.c.id == group.id).values(updated=now(), **values)
            )
            found = _latest_group(db, group.key)
        assert found is not None
        return found


def _latest(db: sa.Connection, digest: str) -> Submission | None:
    row = db.execute(
        sa.select(submissions)
        .where(submissions.c.digest == digest)
        .order_by(submissions.c.attempt.desc())
        .limit(1)
    ).first()
    return Submission.from_row(row) if row else None


def _latest_group(db: sa.Connection, key: str) -> Group | None:
    row = db.execute(
        sa.select(groups).where(groups.c.key == key).order_by(groups.c.attempt.desc()).limit(1)
    ).first()
    if row is None:
        return None
    values = row._mapping
    return Group(
        values["id"],
        values["key"],
        values["attempt"],
        values["mode"],
        values["session_id"],
        bool(values["closed"]),
    )


@cache
def _sqlite_engine(path: str) -> sa.Engine:
    """One engine per file and process; every transaction takes SQLite's write lock at
    BEGIN (IMMEDIATE), so a read-then-insert claim cannot interleave with another."""
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # qprim emits BEGIN itself, below
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    _migrate(engine)
    return engine


def _migrate(engine: sa.Engine) -> None:
    """Create the schema, or bring an older file up to SCHEMA_VERSION, in one transaction."""
    with engine.begin() as db:
        tables = set(sa.inspect(db).get_table_names())
        version = _version(db, tables)
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(
                f"the journal was written by a newer qprim (schema {version}); upgrade qprim"
            )
        metadata.create_all(db, tables=[groups, meta])
        if "submissions" not in tables:
            metadata.create_all(db, tables=[submissions])
        else:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[step](db)
        db.execute(meta.delete().where(meta.c.key == "schema_version"))
        db.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


def _version(db: sa.Connection, tables: set[str]) -> int:
    if "qprim_meta" in tables:
        value = db.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if value is not None:
            return int(value)
    return 1 if "submissions" in tables else 0


def _add_columns(version: int) -> Callable[[sa.Connection], None]:
    def migrate(db: sa.Connection) -> None:
        for name in _ADDED_IN[version]:
            column = sa.schema.CreateColumn(submissions.c[name]).compile(dialect=db.dialect)
            db.exec_driver_sql(f"ALTER TABLE submissions ADD COLUMN {column}")

    return migrate


_MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    version: _add_columns(version) for version in _ADDED_IN
}
