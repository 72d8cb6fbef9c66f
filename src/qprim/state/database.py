"""The journal's database: a SQLite file on one machine, or PostgreSQL shared by a team.

Everything the two do differently lives here, so the journal itself is one
implementation over SQLAlchemy Core:

- opening: SQLite takes its write lock at BEGIN (IMMEDIATE), so a read-then-insert can
  never interleave; PostgreSQL (psycopg 3) serialises the same transactions per key with
  `pg_advisory_xact_lock`, released at commit.
- holding a key while the backend is called (`hold`): on SQLite an OS file lock beside
  the file; on PostgreSQL a session-level advisory lock on a connection of its own, in
  autocommit. Why session-level: the hold lasts as long as a submit (minutes, when IBM
  makes qprim wait for room), and a transaction held open that long would meet
  `idle_in_transaction_session_timeout` and keep the claim's own transaction apart from
  it; a session lock needs no open transaction and the server drops it the moment the
  holder's connection dies (a crash, a killed machine). Waiting polls
  `pg_try_advisory_lock` so that it obeys the deadline, and the holder is named from
  `pg_locks` and `pg_stat_activity` (every connection says `qprim HOST:PID`).
- failures: a database that does not answer is "unavailable" (exit 7, run again later);
  one that refuses the login or is damaged is the user's to fix (exit 4). URLs are shown
  with the password masked, always.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sqlite3
import time
from functools import cache
from typing import Any

import sqlalchemy as sa

from qprim.errors import AuthError, DeadlineError, QprimError, ServiceUnavailable, StateError

POLL_S = 0.1
CONNECT_TIMEOUT_S = 10
SQLITE_WAIT_S = 60  # for another process's write transaction (they last milliseconds)


def masked(url: str | sa.URL) -> str:
    """The URL as a person may see it: the password replaced by ***."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def normalized(url: str) -> sa.URL:
    """`postgresql://` means psycopg 3 (the `team` extra); other drivers are kept."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_postgres(engine: sa.Engine | sa.Connection) -> bool:
    return engine.dialect.name == "postgresql"


def application_name() -> str:
    """How this process shows up in `pg_stat_activity` (and so as a lock's holder)."""
    return f"qprim {socket.gethostname()}:{os.getpid()}"[:63]


@cache
def engine_for(url: str) -> sa.Engine:
    """One engine per database and process."""
    parsed = normalized(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(parsed)
    if parsed.get_backend_name() != "postgresql":
        raise StateError(
            f"the journal URL {masked(parsed)} names a database qprim does not support: "
            "use postgresql://USER:PASSWORD@HOST:PORT/DB (or leave QPRIM_JOURNAL_URL unset "
            "for the local SQLite file)"
        )
    try:
        return sa.create_engine(
            parsed,
            pool_pre_ping=True,  # a restarted server costs one reconnect, not a failed run
            connect_args={
                "application_name": application_name(),
                "connect_timeout": CONNECT_TIMEOUT_S,
            },
        )
    except ModuleNotFoundError as exc:
        raise StateError(
            f"a PostgreSQL journal needs the psycopg driver ({exc.name} is missing): "
            "pip install 'qprim[team]'"
        ) from None


def _sqlite(url: sa.URL) -> sa.Engine:
    """Every transaction takes SQLite's write lock at BEGIN (IMMEDIATE)."""
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_WAIT_S})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # qprim emits BEGIN itself, below

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def use_wal(path: str) -> None:
    """Put the SQLite file in WAL mode (readers never wait for a writer): a property of the
    file, set once, by the process that makes it or upgrades it from qprim 0.1."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_WAIT_S)) as connection:
            if connection.execute("PRAGMA journal_mode").fetchall() != [("wal",)]:
                connection.execute("PRAGMA journal_mode=WAL").fetchall()
    except sqlite3.Error as exc:  # the same reading as any other journal failure
        raise sa.exc.DBAPIError("PRAGMA journal_mode=WAL", None, exc) from exc


def lock_number(key: str) -> int:
    """A stable signed 64-bit advisory-lock key for `key` (the same on every machine)."""
    return int.from_bytes(hashlib.sha256(f"qprim:{key}".encode()).digest()[:8], "big", signed=True)


def serialize(db: sa.Connection, key: str) -> None:
    """Inside a transaction: no other transaction serialised on `key` runs until this one
    ends. SQLite's BEGIN IMMEDIATE already serialises every transaction."""
    if is_postgres(db):
        db.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_number(key)})


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a key, held on a connection of its own."""

    def __init__(self, connection: sa.Connection, number: int) -> None:
        self.connection = connection
        self.number = number

    @classmethod
    def acquire(
        cls, engine: sa.Engine, key: str, deadline: float | None, what: str
    ) -> AdvisoryLock:
        """Wait for the lock (polling, so that the deadline is obeyed)."""
        number = lock_number(key)
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            while not connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": number}
            ).scalar():
                if deadline is not None and time.time() >= deadline:
                    raise DeadlineError(
                        f"gave up waiting for {_holder(connection, number)} to finish "
                        f"{what} (--timeout reached)"
                    )
                left = POLL_S if deadline is None else deadline - time.time()
                time.sleep(max(0.0, min(POLL_S, left)))
        except BaseException:
            connection.close()
            raise
        return cls(connection, number)

    def release(self) -> None:
        """Unlock and drop the connection: one that held a lock never goes back to the
        pool. A connection that died took its lock with it."""
        with contextlib.suppress(sa.exc.DBAPIError):
            self.connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.number})
        self.connection.invalidate()
        self.connection.close()


def _holder(connection: sa.Connection, number: int) -> str:
    """`another qprim process (pid N on HOST, since T)`, from the server's own view."""
    found = connection.execute(
        sa.text(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid = :hi AND l.objid = :lo"
        ),
        {"hi": (number >> 32) & 0xFFFFFFFF, "lo": number & 0xFFFFFFFF},
    ).first()
    if found is None:
        return "another qprim process"
    name, since = found
    host, _, pid = str(name).removeprefix("qprim ").rpartition(":")
    stamp = since.isoformat(timespec="seconds") if since is not None else "?"
    return f"another qprim process (pid {pid} on {host}, since {stamp})"


# ----- failures ----------------------------------------------------------------------------
# What to do about a SQLite journal that cannot be used, by SQLite's own error code.
_DAMAGED = (
    "; it is damaged: move it aside, a new one is made, and jobs already submitted are "
    "found again by their tags"
)
UNWRITABLE = "; its folder cannot be written: set QPRIM_HOME to a writable folder"
_SQLITE_HINTS = {
    11: _DAMAGED,  # SQLITE_CORRUPT
    26: _DAMAGED,  # SQLITE_NOTADB
    13: "; the disk is full: make room and run again",  # SQLITE_FULL
    8: "; its folder is read-only: set QPRIM_HOME to a writable folder",  # SQLITE_READONLY
    14: UNWRITABLE,  # SQLITE_CANTOPEN
}
UNREACHABLE_HINT = (
    "nothing more was submitted. Run the same command again when it answers: what was "
    "claimed or submitted is found again, nothing is submitted twice"
)


def failure(exc: sa.exc.DBAPIError, where: str, url: sa.URL) -> QprimError:
    """The user's view of a database error: unreachable (exit 7), or theirs to fix (4)."""
    reason = _scrub(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc), url)
    if url.get_backend_name() == "sqlite":
        code = getattr(exc.orig, "sqlite_errorcode", None)
        hint = _SQLITE_HINTS.get(code, "") if isinstance(code, int) else ""
        return StateError(f"the journal {where} cannot be used ({reason}){hint}")
    state = str(getattr(exc.orig, "sqlstate", None) or "") or _connect_state(reason)
    if state.startswith("28"):
        return AuthError(f"the journal {where} refused the login ({reason}): check the URL")
    if state == "3D000":
        return StateError(f"the journal {where} does not exist ({reason}): create the database")
    if not state or state.startswith(("08", "57")) or exc.connection_invalidated:
        return ServiceUnavailable(
            f"the journal {where} is unreachable ({reason}); {UNREACHABLE_HINT}"
        )
    return StateError(f"the journal {where} cannot be used ({reason})")


# A refused connection carries no SQLSTATE in psycopg: the server's words tell which.
_CONNECT_STATES = {
    "password authentication failed": "28P01",
    "no pg_hba.conf entry": "28000",
    "does not exist": "3D000",
}


def _connect_state(reason: str) -> str:
    return next((state for words, state in _CONNECT_STATES.items() if words in reason), "")


def _scrub(text: str, url: sa.URL) -> str:
    """Never let a password through, even inside a driver's message."""
    return text.replace(url.password, "***") if url.password else text
