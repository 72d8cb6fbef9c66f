"""`qprim jobs --refresh` and `qprim cancel` on IBM: the real qiskit-ibm-runtime client,
through the block the job was submitted with, against the loopback emulator."""

from __future__ import annotations

import json
import re
import time

from tests.ibm.support import IBM


def given_up(ibm: IBM, name: str, queue_s: int, shots: int) -> str:
    """A job left queued by a run that gave up waiting (exit 5): its id. (Tags are not
    part of the work: other `shots` make other work.)"""
    workload = ibm.workload(name, shots=shots, tags=[f"qprim-fault:queue={queue_s}"])
    done = ibm.qprim.run("run", workload, "--timeout", "8")
    assert done.returncode == 5, done.stderr
    return re.search(r"qprim fetch (\S+)", done.stderr).group(1)


def emulator_status(ibm: IBM, job_id: str) -> str:
    return next(job["status"] for job in ibm.jobs() if job["id"] == job_id)


def test_refresh_records_how_a_job_ended_and_cancel_stops_a_queued_one(ibm: IBM) -> None:
    quick = given_up(ibm, "quick", 12, shots=1000)
    slow = given_up(ibm, "slow", 600, shots=1001)
    deadline = time.monotonic() + 120
    while emulator_status(ibm, quick) != "Completed":
        assert time.monotonic() < deadline, "the emulator never ran the quick job"
        time.sleep(0.5)

    refreshed = ibm.qprim.run("jobs", "--refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    assert re.search(rf"^{quick} \(quick\): \S+ -> DONE$", refreshed.stderr, re.M)
    assert slow not in refreshed.stderr  # still queued: nothing changed
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
