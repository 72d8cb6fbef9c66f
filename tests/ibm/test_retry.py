"""Transient failures: `retry: {failed: N}` resubmits a job IBM failed for a reason it
marks transient, one replacement at a time, each recorded as replacing the last; any other
failure, or a spent budget, still ends in exit 3. Through the real client and emulator."""

from __future__ import annotations

import itertools
import json
import signal
import time
from pathlib import Path

from tests.ibm.support import IBM, sampler_counts


def _retrying(ibm: IBM, name: str, tag: str, failed: int, shots: int = 2000) -> Path:
    path = ibm.workload(name, tags=[tag], shots=shots)
    path.write_text(path.read_text() + f"retry: {{failed: {failed}}}\n")
    return path


def _ids(jobs: list[dict]) -> list[str]:
    return [job["id"] for job in jobs]


def test_a_transient_failure_is_resubmitted_once_and_recorded(ibm: IBM) -> None:
    path = _retrying(ibm, "flaky", "qprim-fault:fail-code=1010:1", failed=2)
    done = ibm.qprim.run("run", path, "--out", "out", "--json")
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    failed, replacement = ibm.jobs()
    assert (failed["status"], failed["reason_code"]) == ("Failed", 1010)
    assert replacement["status"] == "Completed"
    assert replacement["created"] >= failed["finished"]  # never two live at once
    job = manifest["jobs"][0]
    assert (job["job_id"], job["replaces"], job["submit"]) == (
        replacement["id"],
        failed["id"],
        "new",
    )
    assert f"resubmitted {failed['id']}: IBM error 1010 is transient" in done.stderr
    rows = {row["job_id"]: row for row in json.loads(ibm.qprim.run("jobs", "--json").stdout)}
    assert rows[replacement["id"]]["replaces"] == rows[failed["id"]]["tag"]
    assert set(sampler_counts(ibm.qprim.cwd / "out")) == {"00", "11"}
    # the rerun reuses the replacement: nothing more is submitted
    again = ibm.qprim.run_json("run", path, "--out", "again")
    assert again["jobs"][0]["job_id"] == replacement["id"]
    assert len(ibm.jobs()) == 2


def test_without_retry_or_for_a_permanent_reason_a_failure_stays_exit_3(ibm: IBM) -> None:
    plain = ibm.qprim.run("run", ibm.workload("plain", tags=["qprim-fault:fail-code=1010:1"]))
    assert plain.returncode == 3, plain.stderr
    assert "IBM marks error 1010 transient" in plain.stderr
    bad = _retrying(ibm, "bad", "qprim-fault:fail", failed=3, shots=999)  # other work
    permanent = ibm.qprim.run("run", bad)
    assert permanent.returncode == 3, permanent.stderr
    assert "resubmitted" not in permanent.stderr
    assert len(ibm.jobs()) == 2  # one each: nothing was resubmitted


def test_the_budget_is_the_most_resubmissions_in_a_row(ibm: IBM) -> None:
    path = _retrying(ibm, "down", "qprim-fault:fail-code=1011:9", failed=2)
    done = ibm.qprim.run("run", path)
    assert done.returncode == 3, done.stderr
    assert "the 2 resubmissions retry.failed allows are spent" in done.stderr
    jobs = ibm.jobs()
    assert [job["status"] for job in jobs] == ["Failed"] * 3
    assert all(b["created"] >= a["finished"] for a, b in itertools.pairwise(jobs))
    # a rerun finds the budget spent in the journal: it submits nothing more
    again = ibm.qprim.run("run", path)
    assert again.returncode == 3 and len(ibm.jobs()) == 3


def test_a_run_killed_while_replacing_leaves_one_replacement(ibm: IBM, tmp_path: Path) -> None:
    """Killed after the journal claimed the replacement, before its job was submitted: the
    next run submits the replacement once, and never a second one for the failed job."""
    marker = tmp_path / "replacing"
    path = _retrying(ibm, "killed", "qprim-fault:fail-code=1010:1", failed=1)
    victim = ibm.qprim.popen("run", path, env={"QPRIM_FAULT_PAUSE": f"replacing:{marker}"})
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "qprim never reached the replacement"
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert [job["status"] for job in ibm.jobs()] == ["Failed"]

    rerun = ibm.qprim.run_json("run", path, "--out", "rerun")
    failed, replacement = ibm.jobs()
    assert rerun["jobs"][0]["job_id"] == replacement["id"]
    assert replacement["status"] == "Completed"
    again = ibm.qprim.run_json("run", path, "--out", "again")
    assert _ids(ibm.jobs()) == [failed["id"], replacement["id"]]
    assert again["jobs"][0]["job_id"] == replacement["id"]
