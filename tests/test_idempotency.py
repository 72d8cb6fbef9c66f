"""Never submit the same work twice: reruns, fetch from another process, SIGKILL, races."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

from qprim import load_run
from tests.support import EXAMPLES, Qprim

BELL = EXAMPLES / "bell.yaml"


def counts_of(run_dir: Path) -> dict[str, int]:
    return load_run(run_dir).result[0].data.c.get_counts()


def test_rerun_reuses_the_job_and_restores_the_cached_result(qprim: Qprim) -> None:
    first = qprim.run_json("run", BELL, "--out", "first")
    second = qprim.run_json("run", BELL, "--out", "second")

    assert [job["submit"] for job in first["jobs"]] == ["new"]
    assert [job["result"] for job in first["jobs"]] == ["fetched"]
    assert [job["submit"] for job in second["jobs"]] == ["reused"]
    assert [job["result"] for job in second["jobs"]] == ["cached"]
    assert first["jobs"][0]["job_id"] == second["jobs"][0]["job_id"]
    assert len(qprim.aer_jobs()) == 1
    assert counts_of(qprim.cwd / "first") == counts_of(qprim.cwd / "second")


def test_fetch_in_a_new_process_returns_the_same_counts(qprim: Qprim) -> None:
    run = qprim.run_json("run", BELL, "--out", "run")
    job_id = run["jobs"][0]["job_id"]

    cached = qprim.run_json("fetch", job_id, "--out", "fetched")
    # with the result store gone, the durable Aer job store still has the result
    shutil.rmtree(qprim.home / "results")
    fresh = qprim.run_json("fetch", job_id, "--out", "fresh")

    assert cached["jobs"][0]["result"] == "cached"
    assert fresh["jobs"][0]["result"] == "fetched"
    assert cached["workload"]["digest"] == run["workload"]["digest"]
    expected = counts_of(qprim.cwd / "run")
    assert counts_of(qprim.cwd / "fetched") == expected
    assert counts_of(qprim.cwd / "fresh") == expected
    assert len(qprim.aer_jobs()) == 1


def test_refresh_submits_a_new_job(qprim: Qprim) -> None:
    first = qprim.run_json("run", BELL, "--out", "a")
    again = qprim.run_json("run", BELL, "--refresh", "--out", "b")

    assert again["jobs"][0]["submit"] == "new"
    assert again["jobs"][0]["result"] == "fetched"
    assert again["jobs"][0]["job_id"] != first["jobs"][0]["job_id"]
    assert len(qprim.aer_jobs()) == 2
    # and a plain rerun after that reuses the newest job
    third = qprim.run_json("run", BELL, "--out", "c")
    assert third["jobs"][0]["job_id"] == again["jobs"][0]["job_id"]


def test_a_different_shot_count_is_different_work(qprim: Qprim, tmp_path: Path) -> None:
    changed = tmp_path / "bell-2000.yaml"
    changed.write_text(BELL.read_text().replace("shots: 4000", "shots: 2000"))
    first = qprim.run_json("run", BELL, "--out", "a")
    second = qprim.run_json("run", changed, "--out", "b")

    assert second["jobs"][0]["submit"] == "new"
    assert first["workload"]["digest"] != second["workload"]["digest"]
    assert len(qprim.aer_jobs()) == 2


def test_sigkill_after_the_job_was_accepted_then_rerun_makes_no_second_job(
    qprim: Qprim, tmp_path: Path
) -> None:
    marker = tmp_path / "accepted"
    victim = qprim.popen(
        "run", BELL, "--out", "killed", env={"QPRIM_FAULT_PAUSE": f"accepted:{marker}"}
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "qprim never reached the accepted job"
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert marker.read_text() == "bell\n"

    # the backend has the job; the journal only knows it was about to submit
    (accepted,) = qprim.aer_jobs()
    accepted_job = accepted["job_id"]
    listed = json.loads(qprim.run("jobs", "--json").stdout)
    assert [(row["state"], row["job_id"]) for row in listed] == [("prepared", None)]
    assert not (qprim.cwd / "killed").exists()

    rerun = qprim.run_json("run", BELL, "--out", "rerun")

    assert rerun["jobs"][0]["job_id"] == accepted_job
    assert rerun["jobs"][0]["submit"] == "reused"
    assert len(qprim.aer_jobs()) == 1
    counts = counts_of(qprim.cwd / "rerun")
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 4000


def test_two_concurrent_runs_make_one_job(qprim: Qprim) -> None:
    runs = [qprim.popen("run", BELL, "--json", "--out", f"run{i}") for i in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    manifests = [json.loads(out) for out, _ in outputs]
    assert len(qprim.aer_jobs()) == 1
    assert sorted(m["jobs"][0]["submit"] for m in manifests) == ["new", "reused"]
    assert len({m["jobs"][0]["job_id"] for m in manifests}) == 1
    assert counts_of(qprim.cwd / "run0") == counts_of(qprim.cwd / "run1")
