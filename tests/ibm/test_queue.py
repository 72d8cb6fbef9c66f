"""Seeing the queue: a queued IBM job's place and its device's pending jobs, in the live
lines of `qprim run` and in `qprim jobs --refresh`."""

from __future__ import annotations

import json
import re

from tests.ibm.support import IBM, stopped_while_queued


def queued_run(ibm: IBM, other_jobs: int) -> tuple[str, str]:
    """A run whose job waits in the queue (ten minutes) behind `other_jobs` of other users,
    stopped once it said so: the job's id, and what the run said."""
    ibm.emulator.set_device("fake_manila", other_jobs=other_jobs)
    return stopped_while_queued(ibm, ibm.workload("q", tags=["qprim-fault:queue=600"]))


def test_the_run_shows_a_queued_jobs_place_and_the_devices_pending_jobs(ibm: IBM) -> None:
    job_id, said = queued_run(ibm, other_jobs=4)
    assert re.search(
        rf"status {job_id} QUEUED: position 5 in the queue, 5 jobs pending on fake_manila",
        said,
    ), said


def test_jobs_refresh_shows_where_a_queued_job_stands(ibm: IBM) -> None:
    job_id, _ = queued_run(ibm, other_jobs=2)
    # a job known to be queued (the first refresh records it, if the run did not) stays
    # QUEUED: the refresh shows where it stands, not a change of status
    assert ibm.qprim.run("jobs", "--refresh").returncode == 0
    refreshed = ibm.qprim.run("jobs", "--refresh", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    (row,) = json.loads(refreshed.stdout)
    assert row["job_id"] == job_id and row["status"] == "QUEUED"
    assert row["queue"] == {"position": 3, "pending_jobs": 3}
    assert f"{job_id} (q): QUEUED, position 3 in the queue, 3 jobs pending on ibm:" in (
        refreshed.stderr
    )
    assert ibm.qprim.run("cancel", job_id).returncode == 0
