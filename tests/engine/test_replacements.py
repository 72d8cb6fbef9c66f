"""The journal's claim of a failed job's replacement: one at a time, within the budget,
whoever asks and however often (in-process, on a temporary SQLite journal)."""

from __future__ import annotations

import threading
from pathlib import Path

from qprim.state.journal import Journal, Submission, SubmissionMeta

META = SubmissionMeta("ibm", "fake_manila", None, "w", "sampler")
DIGEST = "sha256:" + "ab" * 32


def _failed(journal: Journal, row: Submission, job_id: str) -> Submission:
    submitted = journal.mark_submitted(row, job_id)
    journal.record_status(job_id, "ERROR")
    return submitted


def test_a_replacement_names_what_it_replaces_and_the_budget_holds(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    first = _failed(journal, journal.claim(DIGEST, META).submission, "job-1")
    claim = journal.claim_replacement(first, META, budget=2)
    assert claim is not None and claim.claimed
    second = claim.submission
    assert (second.attempt, second.replaces, second.state) == (2, first.tag, "prepared")
    assert second.tag != first.tag

    # asked again for the same failed job (a crash, a retry, another process): no new one
    again = journal.claim_replacement(first, META, budget=2)
    assert again is not None and not again.claimed and again.submission.id == second.id

    second = _failed(journal, second, "job-2")
    third = journal.claim_replacement(second, META, budget=2)
    assert third is not None and third.claimed and third.submission.replaces == second.tag
    third_row = _failed(journal, third.submission, "job-3")
    assert journal.claim_replacement(third_row, META, budget=2) is None  # two in a row: spent
    assert journal.latest(DIGEST).id == third_row.id


def test_processes_replacing_the_same_failed_job_at_once_make_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    failed = _failed(journal, journal.claim(DIGEST, META).submission, "job-1")
    claims = []
    start = threading.Barrier(8)

    def replace() -> None:
        start.wait()
        claims.append(Journal(tmp_path).claim_replacement(failed, META, budget=3))

    threads = [threading.Thread(target=replace) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claim.claimed for claim in claims) == 1
    assert len({claim.submission.id for claim in claims}) == 1
    assert [row.attempt for row in journal.recent()] == [2, 1]


def test_a_journal_of_schema_3_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    Journal(tmp_path).claim(DIGEST, META)
    with sqlite3.connect(tmp_path / "journal.sqlite") as db:
        db.execute("ALTER TABLE submissions DROP COLUMN replaces")
        db.execute("UPDATE qprim_meta SET value = '3' WHERE key = 'schema_version'")
    from qprim.state.journal import _opened

    _opened.cache_clear()
    (row,) = Journal(tmp_path).recent()
    assert row.replaces is None and row.digest == DIGEST
