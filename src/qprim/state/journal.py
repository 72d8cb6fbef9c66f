"""The durable record of submissions: the source of truth for "was this already submitted?".

A row is written as `prepared` (with the job tag) before the backend is called and
becomes `submitted` (with the job id) only after the backend accepted the job, so the
journal never claims more than happened. A `prepared` row left by a crash is resolved
by looking the tag up at the backend. `claim` decides, in ONE transaction, whether this
caller makes a new attempt; `hold` keeps every other qprim process (on this machine
for SQLite, on every machine for PostgreSQL) away from a digest while one talks to the
backend.

The rows also remember what a rerun needs without asking anyone: each job's result
digest (to verify the stored result), its metrics, and the transpiled PUBs' sizes.
Execution-mode groups (IBM batches and sessions) are recorded the same way, so a rerun
after a crash attaches to the batch it had opened. A job resubmitted because it failed
for a transient reason is a new attempt that names the one it replaces (`replaces`, its
tag), claimed in one transaction only while the failed attempt is still the latest:
however many processes retry, crash or run at once, one replacement at a time.

SQLAlchemy Core over `$QPRIM_HOME/journal.sqlite` by default, or a team's PostgreSQL
database (`QPRIM_JOURNAL_URL`); what differs between the two is in `state.database`.
The schema is versioned and migrated in place by qprim itself, including files written
by qprim 0.1.
"""

from __future__ import annotations

import json
import time
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
from qprim.state import database
from qprim.state.locks import exclusive, file_lock

SCHEMA_VERSION = 4
OPEN_WAIT_S = 60  # another process making the SQLite file takes well under a second
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
    # version 4: the tag of the attempt this one resubmits (its job failed transiently)
    sa.Column("replaces", sa.Text),
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
    4: ("replaces",),
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
    replaces: str | None = None

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


def job_tag(digest: str, attempt: int) -> str:
    """A stable tag for attempt N of a digest: finds a job whose id was never recorded."""
    return f"qprim-{digest.removeprefix('sha256:')[:32]}-{attempt}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Copied:
    """What `copy_into` did: rows added to the other journal, and rows it had already."""

    submissions: int
    groups: int
    already_there: int
    job_ids: tuple[tuple[str, str], ...]  # (backend kind, job id) of every copied job


class Journal:
    """The journal at `url` (a SQLAlchemy URL), else the SQLite file in `home`."""

    def __init__(self, home: Path | None = None, url: str | None = None) -> None:
        self.home = home or qprim_home()
        if url is None:
            self.home.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.home / 'journal.sqlite'}"
        self.url = database.normalized(url)
        self.where = str(self.url.database) if self.is_local else database.masked(self.url)
        with self._unusable_as_state_error():
            self.db = _opened(url)

    @property
    def is_local(self) -> bool:
        """A SQLite file: one machine's journal."""
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        with self._unusable_as_state_error(), self.db.begin() as connection:
            yield connection

    @contextmanager
    def _unusable_as_state_error(self) -> Iterator[None]:
        """A journal that is unreachable, damaged, read-only or full is not a qprim bug."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise database.failure(exc, self.where, self.url) from exc

    def hold(
        self, key: str, deadline: float | None = None, what: str = "submitting this work"
    ) -> AbstractContextManager[None]:
        """Keeps every other qprim process that shares this journal away from `key` (a
        digest, or an Aer job to run) while this one works on it; obeys `deadline`, names
        the holder. SQLite: a file lock (one machine); PostgreSQL: an advisory lock."""
        if self.is_local:
            return file_lock(self.home / "locks", key, deadline, what)
        return self._advisory(key, deadline, what)

    @contextmanager
    def _advisory(self, key: str, deadline: float | None, what: str) -> Iterator[None]:
        with self._unusable_as_state_error():
            lock = database.AdvisoryLock.acquire(self.db, key, deadline, what)
        try:
            yield
        finally:
            lock.release()

    # ----- submissions -----------------------------------------------------------------
    def claim(self, digest: str, meta: SubmissionMeta, *, refresh: bool = False) -> Claim:
        """The latest attempt for `digest`, or (none yet, or `refresh`) a new `prepared` one.

        One transaction: two callers can never both create attempt N."""
        with self._transaction() as db:
            database.serialize(db, f"claim:{digest}")
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

    def claim_replacement(
        self, failed: Submission, meta: SubmissionMeta, budget: int
    ) -> Claim | None:
        """A new attempt that replaces `failed` (its job failed transiently), in ONE
        transaction: the latest attempt unclaimed if another caller replaced `failed`
        already, None if `budget` replacements in a row were spent."""
        with self._transaction() as db:
            database.serialize(db, f"claim:{failed.digest}")
            latest = _latest(db, failed.digest)
            assert latest is not None
            if latest.id != failed.id:
                return Claim(latest, claimed=False)
            if _replacements(db, failed) >= budget:
                return None
            stamp = now()
            db.execute(
                submissions.insert().values(
                    digest=failed.digest,
                    attempt=failed.attempt + 1,
                    tag=job_tag(failed.digest, failed.attempt + 1),
                    state="prepared",
                    created=stamp,
                    updated=stamp,
                    replaces=failed.tag,
                    **{f.name: getattr(meta, f.name) for f in fields(meta)},
                )
            )
            created = _latest(db, failed.digest)
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
            database.serialize(db, f"group:{key}")
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

    # ----- moving to a shared journal ----------------------------------------------------
    def copy_into(self, target: Journal) -> Copied:
        """Add every row of this journal that `target` lacks (submissions by tag, groups by
        key and attempt), in one transaction of `target`; ids are `target`'s own."""
        with self._transaction() as db:
            rows = [dict(row._mapping) for row in db.execute(sa.select(submissions))]
            group_rows = [dict(row._mapping) for row in db.execute(sa.select(groups))]
        added = kept = added_groups = 0
        copied: list[tuple[str, str]] = []
        with target._transaction() as db:
            database.serialize(db, "copy")
            tags = set(db.execute(sa.select(submissions.c.tag)).scalars())
            for row in sorted(rows, key=lambda row: row["id"]):
                if row["tag"] in tags:
                    kept += 1
                    continue
                db.execute(submissions.insert().values(_without_id(row)))
                added += 1
                if row["job_id"]:
                    copied.append((row["backend_kind"], row["job_id"]))
            known = {tuple(key) for key in db.execute(sa.select(groups.c.key, groups.c.attempt))}
            for row in sorted(group_rows, key=lambda row: row["id"]):
                if (row["key"], row["attempt"]) in known:
                    kept += 1
                    continue
                db.execute(groups.insert().values(_without_id(row)))
                added_groups += 1
        return Copied(added, added_groups, kept, tuple(copied))


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "id"}


def _latest(db: sa.Connection, digest: str) -> Submission | None:
    row = db.execute(
        sa.select(submissions)
        .where(submissions.c.digest == digest)
        .order_by(submissions.c.attempt.desc())
        .limit(1)
    ).first()
    return Submission.from_row(row) if row else None


def _replacements(db: sa.Connection, row: Submission) -> int:
    """How many resubmissions in a row led to `row` (its chain of `replaces`)."""
    count = 0
    while row.replaces is not None:
        found = db.execute(sa.select(submissions).where(submissions.c.tag == row.replaces)).first()
        if found is None:
            break
        count += 1
        row = Submission.from_row(found)
    return count


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
def _opened(url: str) -> sa.Engine:
    """The database at `url`, its schema brought up to SCHEMA_VERSION (once per process)."""
    engine = database.engine_for(url)
    if database.is_postgres(engine):
        _migrate(engine)  # serialised by an advisory lock inside
        return engine
    path = str(engine.url.database)
    # One process on the machine at a time makes or upgrades the file: processes starting
    # together on a new file would otherwise meet SQLite halfway through its switch to
    # WAL, which it refuses at once ("database is locked"), without waiting.
    lock = Path(path + ".lock")
    try:
        with exclusive(lock, time.time() + OPEN_WAIT_S, "creating or upgrading the journal"):
            database.use_wal(path)
            _migrate(engine)
    except OSError as exc:
        raise StateError(
            f"the journal {path} cannot be used ({exc.strerror}){database.UNWRITABLE}"
        ) from None
    return engine


def _migrate(engine: sa.Engine) -> None:
    """Create the schema, or bring an older file up to SCHEMA_VERSION, in one transaction."""
    with engine.begin() as db:
        database.serialize(db, "migrate")  # two machines upgrading at once: one does it
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
