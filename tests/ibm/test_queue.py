"""Seeing the queue: a queued IBM job's place and its device's pending jobs, in the live
lines of `qprim run` and in `qprim jobs --refresh`."""

from __future__ import annotations

import json
import re

from tests.ibm.support import IBM


def test_the_run_shows_a_queued_jobs_place_and_the_devices_pending_jobs(ibm: IBM) -> None:
    ibm.emulator.set_device("fake_manila", other_jobs=4)
    done = ibm.qprim.run("run", ibm.workload("q", tags=["qprim-fault:queue=6"]))
    assert done.returncode == 0, done.stderr
    job_id = ibm.jobs()[0]["id"]
    assert re.search(
        rf"status {job_id} QUEUED: position 5 in the queue, 5 jobs pending on fake_manila",
        done.stderr,
    ), done.stderr


def test_jobs_refresh_shows_where_a_queued_job_stands(ibm: IBM) -> None:
    ibm.emulator.set_device("fake_manila", other_jobs=2)
    waiting = ibm.qprim.run(
        "run", ibm.workload("q", tags=["qprim-fault:queue=120"]), "--timeout", "3"
    )
    assert waiting.returncode == 5, waiting.stderr
    job_id = ibm.jobs()[0]["id"]
    refreshed = ibm.qprim.run("jobs", "--refresh", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    (row,) = json.loads(refreshed.stdout)
    assert row["job_id"] == job_id and row["status"] == "QUEUED"
    assert row["queue"] == {"position": 3, "pending_jobs": 3}
    assert f"{job_id} (q): QUEUED, position 3 in the queue, 3 jobs pending on ibm:" in (
        refreshed.stderr
    )
    assert ibm.qprim.run("cancel", job_id).returncode == 0
