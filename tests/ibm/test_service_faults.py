"""An IBM service that keeps failing or stops answering, for real: the real client against
the emulator's faults. Each ends with its own exit code and a message that says whether a
job exists, and no later run lets a late job from a given-up submit run twice."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path

from qprim import load_run
from tests.ibm.support import IBM, create_block
from tests.prefect_server import local_prefect_server

POST_JOBS = r"^/api/v1/jobs$"


def live(ibm: IBM) -> list[dict]:
    return [job for job in ibm.jobs() if job["status"] != "Cancelled"]


def test_a_service_that_keeps_failing_the_submit_says_no_job_was_made(ibm: IBM) -> None:
    ibm.emulator.add_fault("POST", POST_JOBS, 10, status=503)  # more than the client retries
    workload = ibm.workload("bell")
    done = ibm.qprim.run("run", workload)
    assert done.returncode == 7, done.stderr
    assert "No job was made" in done.stderr and "Traceback" not in done.stderr
    assert ibm.jobs() == []
    ibm.emulator.clear_faults()
    again = ibm.qprim.run_json("run", workload, "--out", "again")
    assert again["jobs"][0]["submit"] == "new"
    assert len(ibm.jobs()) == 1


def test_a_submit_given_up_on_that_lands_later_is_still_caught(ibm: IBM) -> None:
    # the service sits on the submission for 40 s, then makes the job anyway; jobs wait 15 s
    # in the queue, so the late one is still queued when the third run looks
    ibm.emulator.add_fault("POST", POST_JOBS, 1, delay=40)
    workload = ibm.workload("bell", tags=["qprim-fault:queue=15"])
    started = time.monotonic()
    gave_up = ibm.qprim.run("run", workload, "--timeout", "8")
    assert gave_up.returncode == 5, gave_up.stderr
    assert "the service may still make it" in gave_up.stderr
    # run again at once: no job exists yet, so this run makes one
    rerun = ibm.qprim.run_json("run", workload, "--out", "rerun", "--timeout", "120")
    ours = rerun["jobs"][0]["job_id"]
    while len(ibm.jobs()) < 2:  # the given-up submission lands
        assert time.monotonic() - started < 120, ibm.jobs()
        time.sleep(0.5)
    late = next(job["id"] for job in ibm.jobs() if job["id"] != ours)
    third = ibm.qprim.run("run", workload, "--out", "third", "--json")
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["jobs"][0]["job_id"] == ours  # the earliest is kept
    assert f"cancelled {late}" in third.stderr
    assert [job["id"] for job in live(ibm)] == [ours]


def test_a_hung_submit_without_timeout_is_given_up_and_releases_the_work(ibm: IBM) -> None:
    ibm.emulator.add_fault("POST", POST_JOBS, 1, delay=600)
    workload = ibm.workload("bell")
    started = time.monotonic()
    hung = ibm.qprim.run("run", workload, env={"QPRIM_IBM_CALL_TIMEOUT": "5"})
    assert hung.returncode == 7, hung.stderr
    assert "did not answer submitting the job within 5 s" in hung.stderr
    assert time.monotonic() - started < 90
    ibm.emulator.clear_faults()
    # nothing holds the work: the next run proceeds (the hung request never lands: the
    # emulator drops it when it stops)
    done = ibm.qprim.run_json("run", workload, "--out", "out")
    assert done["jobs"][0]["status"] == "DONE"


def test_an_iam_outage_is_not_called_bad_credentials(ibm: IBM) -> None:
    ibm.emulator.add_fault("POST", r"^/identity/token$", 50, status=503)
    started = time.monotonic()
    done = ibm.qprim.run("run", ibm.workload("bell"))
    assert done.returncode == 7, done.stderr
    assert "IBM Cloud IAM is unavailable" in done.stderr
    assert "refused the credentials" not in done.stderr
    assert "UserWarning" not in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    assert ibm.jobs() == []


def test_a_prefect_server_killed_mid_run_loses_nothing(ibm: IBM, tmp_path: Path) -> None:
    """The run's own Prefect server dies while its job waits in the queue: the job is
    fetched and saved all the same, and qprim says the UI's record is incomplete."""
    with ExitStack() as stack:
        server = local_prefect_server(tmp_path / "doomed")
        ibm.qprim.env["PREFECT_API_URL"] = stack.enter_context(server)
        ibm.block = create_block(ibm.qprim, ibm.emulator, "doomed", "QPRIM_TEST_IBM_TOKEN")
        victim = ibm.qprim.popen(
            "run", ibm.workload("bell", tags=["qprim-fault:queue=5"]), "--out", "out"
        )
        while not ibm.jobs():
            assert victim.poll() is None, victim.communicate()
            time.sleep(0.2)
        stack.close()  # the Prefect server stops for good
        started = time.monotonic()
        _, stderr = victim.communicate(timeout=600)
    assert victim.returncode == 0, stderr
    assert "the Prefect server stopped answering" in stderr and "Traceback" not in stderr
    # qprim's words are the only ones: none of Prefect's own complaints reach the user
    for noise in ("Error logging to API", "All connection attempts failed", "EventsWorker"):
        assert noise not in stderr, stderr
    assert time.monotonic() - started < 180
    (job,) = ibm.jobs()
    saved = load_run(ibm.qprim.cwd / "out")
    assert saved.record.jobs[0].job_id == job["id"]
    assert set(saved.result[0].data.c.get_counts()) == {"00", "11"}
