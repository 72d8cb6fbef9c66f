"""The Prefect UI tells the story of a run, read back through the Prefect REST API: the
final state and its message (failed checks, a run given up or interrupted), the
artifacts of a workload that did not finish, one log line per decision of the engine,
and Prefect's own log lines on the console with `-v`."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

from qprim import load_run
from tests.support import EXAMPLES, PrefectAPI, Qprim

BELL = (EXAMPLES / "bell.yaml").read_text()


def tagged_bell(qprim: Qprim, name: str, *, wrong_check: bool = False) -> tuple[Path, str]:
    """The Bell workload under its own name, with a tag no other test's flow run has."""
    tag = f"test-{uuid.uuid4().hex[:12]}"
    text = BELL.replace("name: bell\n", f"name: {name}\ntags: [{tag}]\n")
    if wrong_check:
        text = text.replace('counts: {"00": 0.5, "11": 0.5}', 'counts: {"00": 0.9, "11": 0.1}')
    path = qprim.cwd / f"{name}.yaml"
    path.write_text(text)
    return path, tag


def wait_for(marker: Path, process: object) -> None:
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "qprim never reached the pause point"
        time.sleep(0.2)


def test_failed_checks_end_in_a_failed_state_with_their_details_and_everything_saved(
    qprim: Qprim, prefect_api_url: str
) -> None:
    workload, _ = tagged_bell(qprim, "bell-wrong", wrong_check=True)
    done = qprim.run("run", workload, "--out", "out", "--json")
    assert done.returncode == 6, done.stderr
    saved = load_run(qprim.cwd / "out")  # the results are saved all the same
    (check,) = saved.record.failed_checks
    assert set(saved.result[0].data.c.get_counts()) == {"00", "11"}

    api = PrefectAPI(prefect_api_url)
    flow_run = api.flow_run(json.loads(done.stdout)["flow_run"]["id"])
    state = flow_run["state"]
    assert (state["type"], state["name"]) == ("FAILED", "Failed")
    assert f"bell-wrong: 1 of 1 checks failed: pub 0 counts: {check.detail}" in state["message"]
    artifacts = api.artifacts(flow_run["id"])
    assert {"job-metrics-bell-wrong", "run-summary-bell-wrong"} <= set(artifacts)
    assert check.detail in artifacts["run-summary-bell-wrong"]["data"]


def test_a_passing_run_ends_completed_saying_where_it_was_saved(
    qprim: Qprim, prefect_api_url: str
) -> None:
    workload, tag = tagged_bell(qprim, "bell-ok")
    done = qprim.run("run", workload, "--out", "out")
    assert done.returncode == 0, done.stderr
    state = PrefectAPI(prefect_api_url).flow_run_tagged(tag)["state"]
    assert state["type"] == "COMPLETED"
    assert state["message"] == "bell-ok: all 1 checks passed; saved to out"


def test_a_run_given_up_names_its_jobs_in_its_state_and_artifact_and_a_rerun_collects_them(
    qprim: Qprim, prefect_api_url: str, tmp_path: Path
) -> None:
    workload, tag = tagged_bell(qprim, "bell-slow")
    marker = tmp_path / "fetched"
    # the job runs, then qprim stalls before storing its result: --timeout gives up on it
    stalled = {"QPRIM_FAULT_PAUSE": f"fetched:{marker}"}
    done = qprim.run("run", workload, "--timeout", "2", "--json", env=stalled)
    assert done.returncode == 5, done.stderr
    (job,) = qprim.aer_jobs()
    assert f"qprim fetch {job['job_id']}" in done.stderr

    api = PrefectAPI(prefect_api_url)
    flow_run = api.flow_run_tagged(tag)
    state = flow_run["state"]
    assert (state["type"], state["name"]) == ("FAILED", "TimedOut")
    assert "bell-slow: timed out" in state["message"]
    assert f"the jobs keep running at the backend: {job['job_id']}" in state["message"]
    summary = api.artifacts(flow_run["id"])["run-summary-bell-slow"]
    assert f"`{job['job_id']}`" in summary["data"] and "did not finish" in summary["data"]
    assert "job-metrics-bell-slow" not in api.artifacts(flow_run["id"])  # nothing finished

    again = qprim.run_json("run", workload, "--out", "again")
    assert again["jobs"][0]["job_id"] == job["job_id"] and len(qprim.aer_jobs()) == 1


def test_ctrl_c_ends_the_flow_run_cancelled_naming_the_jobs_that_keep_running(
    qprim: Qprim, prefect_api_url: str, tmp_path: Path
) -> None:
    workload, tag = tagged_bell(qprim, "bell-stopped")
    marker = tmp_path / "fetched"
    victim = qprim.popen("run", workload, env={"QPRIM_FAULT_PAUSE": f"fetched:{marker}"})
    wait_for(marker, victim)
    victim.send_signal(signal.SIGINT)
    _, stderr = victim.communicate(timeout=60)
    assert victim.returncode == 130, stderr
    (job,) = qprim.aer_jobs()

    api = PrefectAPI(prefect_api_url)
    flow_run = api.flow_run_tagged(tag)
    assert flow_run["state"]["type"] == "CANCELLED"
    assert "interrupted (Ctrl-C)" in flow_run["state"]["message"]
    assert job["job_id"] in flow_run["state"]["message"]
    summary = api.artifacts(flow_run["id"])["run-summary-bell-stopped"]["data"]
    assert f"`{job['job_id']}`" in summary and "interrupted" in summary


def test_every_decision_of_the_engine_is_a_log_line_of_its_task_run(
    qprim: Qprim, prefect_api_url: str, tmp_path: Path
) -> None:
    api = PrefectAPI(prefect_api_url)
    workload, _ = tagged_bell(qprim, "bell-log")
    first = qprim.run_json("run", workload, "--out", "first")
    job_id = first["jobs"][0]["job_id"]
    assert ("submit bell-log", f"bell-log: submitted {job_id}") in api.task_log_lines(
        first["flow_run"]["id"]
    )

    second = qprim.run_json("run", workload, "--out", "second")
    lines = api.task_log_lines(second["flow_run"]["id"])
    assert ("submit bell-log", f"bell-log: reused {job_id}: recorded in the journal") in lines
    assert ("fetch bell-log", f"bell-log: cached {job_id}: restored from the result store") in (
        lines
    )

    # a run killed after the backend accepted its job, before the journal heard of it: the
    # next run finds the job by its tag
    marker = tmp_path / "accepted"
    victim = qprim.popen(
        "run", workload, "--refresh", env={"QPRIM_FAULT_PAUSE": f"accepted:{marker}"}
    )
    wait_for(marker, victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    found = qprim.run_json("run", workload, "--out", "found")
    found_id = found["jobs"][0]["job_id"]
    assert found_id != job_id and len(qprim.aer_jobs()) == 2
    (line,) = [
        text for task, text in api.task_log_lines(found["flow_run"]["id"]) if "found" in text
    ]
    assert line.startswith(f"bell-log: found {found_id}: by its tag qprim-")


def test_verbose_shows_prefects_log_lines_and_they_still_reach_the_server(
    qprim: Qprim, prefect_api_url: str
) -> None:
    workload, _ = tagged_bell(qprim, "bell-verbose")
    quiet = qprim.run("run", workload, "--out", "quiet", "--json")
    assert quiet.returncode == 0, quiet.stderr
    assert "Task run 'submit bell-verbose'" not in quiet.stderr

    loud = qprim.run("run", workload, "--out", "loud", "--json", "-v")
    assert loud.returncode == 0, loud.stderr
    manifest = json.loads(loud.stdout)  # stdout stays one clean document
    job_id = manifest["jobs"][0]["job_id"]
    assert f"Task run 'submit bell-verbose' - bell-verbose: reused {job_id}" in loud.stderr
    assert "Finished in state Completed()" in loud.stderr
    logged = [
        log["message"] for log in PrefectAPI(prefect_api_url).logs(manifest["flow_run"]["id"])
    ]
    assert f"bell-verbose: reused {job_id}: recorded in the journal" in logged
