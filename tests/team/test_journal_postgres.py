"""The journal on PostgreSQL, in-process: the schema qprim makes itself, one claim among
many at once, the advisory lock's deadline and holder, an unreachable or refusing server,
and copying a local journal into the shared one."""

from __future__ import annotations

import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from qprim.errors import AuthError, DeadlineError, ExitCode, ServiceUnavailable
from qprim.state.journal import SCHEMA_VERSION, Journal, SubmissionMeta
from tests.postgres import PostgresServer
from tests.team.support import PASSWORD, ROLE

META = SubmissionMeta("aer", "aer_simulator", None, "bell", "sampler")


def test_qprim_creates_and_versions_the_schema(journal_url: str) -> None:
    Journal(url=journal_url)
    engine = sa.create_engine(journal_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as db:
        tables = set(sa.inspect(db).get_table_names())
        version = db.execute(
            sa.text("SELECT value FROM qprim_meta WHERE key = 'schema_version'")
        ).scalar()
    engine.dispose()
    assert {"submissions", "groups", "qprim_meta"} <= tables
    assert version == str(SCHEMA_VERSION)


def test_many_claimers_at_once_make_one_attempt(journal_url: str) -> None:
    journal = Journal(url=journal_url)
    start = threading.Barrier(8)

    def claim(_: int) -> bool:
        start.wait()
        return journal.claim("sha256:" + "ab" * 32, META).claimed

    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(claim, range(8)))

    assert claimed.count(True) == 1
    assert [row.attempt for row in journal.recent()] == [1]


def test_a_held_digest_waits_until_the_deadline_and_names_its_holder(journal_url: str) -> None:
    journal = Journal(url=journal_url)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with journal.hold("sha256:cafe"):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    started = time.monotonic()
    with pytest.raises(DeadlineError) as waited, journal.hold("sha256:cafe", time.time() + 1.0):
        pass
    waited_s = time.monotonic() - started
    release.set()
    thread.join()

    assert 0.9 <= waited_s < 5
    assert f"pid {os.getpid()} on {socket.gethostname()}" in str(waited.value)
    with journal.hold("sha256:cafe", time.time() + 5):  # released: free again at once
        pass


def test_an_unreachable_or_refusing_journal_is_a_clear_error_without_the_password(
    pg: PostgresServer,
) -> None:
    gone = f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:9/nowhere"  # nothing listens on port 9
    with pytest.raises(ServiceUnavailable) as unreachable:
        Journal(url=gone)
    wrong = pg.url("postgres", ROLE, "not-the-password")
    with pytest.raises(AuthError) as refused:
        Journal(url=wrong)

    assert unreachable.value.exit_code == ExitCode.UNAVAILABLE
    assert "is unreachable" in str(unreachable.value)
    assert f"{ROLE}:***@127.0.0.1:9/nowhere" in str(unreachable.value)
    assert PASSWORD not in str(unreachable.value)
    assert "refused the login" in str(refused.value)
    assert "not-the-password" not in str(refused.value)


def test_a_local_journal_is_copied_into_the_shared_one_once(
    tmp_path: Path, journal_url: str
) -> None:
    local = Journal(tmp_path / "home")
    row = local.claim("sha256:" + "12" * 32, META).submission
    local.mark_submitted(row, "aer-0000000000000001")
    local.claim("sha256:" + "34" * 32, META)  # prepared, never submitted
    local.claim_group("workload-key", "batch", ("ibm", "fake_manila"))
    shared = Journal(url=journal_url)

    first = local.copy_into(shared)
    again = local.copy_into(shared)

    assert (first.submissions, first.groups, first.already_there) == (2, 1, 0)
    assert first.job_ids == (("aer", "aer-0000000000000001"),)
    assert (again.submissions, again.groups, again.already_there) == (0, 0, 3)
    copied = shared.latest("sha256:" + "12" * 32)
    assert copied is not None and copied.job_id == "aer-0000000000000001"
    assert shared.claim("sha256:" + "12" * 32, META).claimed is False  # reused, not redone
