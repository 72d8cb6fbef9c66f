"""`qprim jobs --refresh` and `qprim cancel` on IBM: the real qiskit-ibm-runtime client,
through the block the job was submitted with, against the loopback emulator."""

from __future__ import annotations

import json
import re
import shutil
import time

from tests.ibm.support import IBM, stopped_while_queued


def left_queued(ibm: IBM, name: str, queue_s: int, shots: int) -> str:
    """A job left queued by a run stopped with Ctrl-C: its id. (Tags are not part of the
    work: other `shots` make other work.)"""
    workload = ibm.workload(name, shots=shots, tags=[f"qprim-fault:queue={queue_s}"])
    return stopped_while_queued(ibm, workload)[0]


def emulator_status(ibm: IBM, job_id: str) -> str:
    return next(job["status"] for job in ibm.jobs() if job["id"] == job_id)


def test_refresh_records_how_a_job_ended_and_cancel_stops_a_queued_one(ibm: IBM) -> None:
    quick = left_queued(ibm, "quick", 12, shots=1000)
    slow = left_queued(ibm, "slow", 600, shots=1001)
    deadline = time.monotonic() + 120
    while emulator_status(ibm, quick) != "Completed":
        assert time.monotonic() < deadline, "the emulator never ran the quick job"
        time.sleep(0.5)

    refreshed = ibm.qprim.run("jobs", "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert re.search(rf"^{quick} \(quick\): \S+ -> DONE$", refreshed.stderr, re.M)
    # still queued: no change of status, but where it stands in the queue
    (waiting,) = [line for line in refreshed.stderr.splitlines() if line.startswith(slow)]
    assert "->" not in waiting and f"{slow} (slow): QUEUED, position 1 in the queue" in waiting
    rows = {row.split("\t")[3]: row.split("\t") for row in refreshed.stdout.splitlines()[1:]}
    assert (rows[quick][-1], rows[slow][-1]) == ("DONE", "QUEUED")
    assert rows[slow][4] == "ibm:fake_manila"

    done = ibm.qprim.run("cancel", slow, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "job_id": slow,
        "backend": "ibm:fake_manila",
        "before": "QUEUED",
        "after": "CANCELLED",
        "requested": True,
    }
    assert emulator_status(ibm, slow) == "Cancelled"  # the service was asked, not just us
    listed = ibm.qprim.run("jobs")
    assert next(r for r in listed.stdout.splitlines() if slow in r).endswith("\tCANCELLED")
    again = ibm.qprim.run("cancel", slow)
    assert again.returncode == 0 and "had already ended (CANCELLED)" in again.stderr
    assert emulator_status(ibm, quick) == "Completed"  # the other job untouched


def test_a_recorded_job_the_service_no_longer_knows_is_gone_and_refresh_makes_it_again(
    ibm: IBM,
) -> None:
    workload = ibm.workload("bell")
    first = ibm.qprim.run_json("run", workload, "--out", "first")
    job_id = first["jobs"][0]["job_id"]
    shutil.rmtree(ibm.qprim.home / "results")  # so the rerun has to ask the service
    ibm.emulator.add_fault("GET", rf"^/api/v1/jobs/{job_id}", count=100, status=404)

    rerun = ibm.qprim.run("run", workload, "--out", "rerun")
    assert rerun.returncode == 3, rerun.stderr  # ended, as a failed job
    assert f"job {job_id} is gone: ibm:fake_manila no longer knows it" in rerun.stderr
    assert str(ibm.qprim.home / "journal.sqlite") in rerun.stderr  # where it was recorded
    assert "--refresh to submit the work anew" in rerun.stderr
    assert "Job not found" not in rerun.stderr and "Traceback" not in rerun.stderr

    ibm.emulator.clear_faults()
    fresh = ibm.qprim.run_json("run", workload, "--out", "fresh", "--refresh")
    assert fresh["jobs"][0]["submit"] == "new" and fresh["jobs"][0]["job_id"] != job_id
    assert len(ibm.jobs()) == 2
