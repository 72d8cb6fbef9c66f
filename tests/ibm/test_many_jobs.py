"""Many jobs on the IBM path, for real: the real qiskit-ibm-runtime client against the
emulator in its own process. A folder of workloads waits in the queue once; a sweep
split into jobs survives a kill and merges back; batches and sessions; the pending-job
limit; the duplicates a retrying client makes."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np

from qprim import load_run
from qprim.testing.emulator_process import emulator_process
from tests.ibm.support import IBM, TOKEN, create_block
from tests.support import PrefectAPI

POST_JOBS = r"^/api/v1/jobs$"
SWEEP = """\
primitive: sampler
execution: {execution}
circuits:
  ry:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] theta;
      qubit[1] q;
      bit[1] c;
      ry(theta) q[0];
      c = measure q;
pubs:
  - circuit: ry
    shots: 400
    parameters: {{theta: {{linspace: [0, 3.14159265, {points}]}}}}
"""


def sweep(
    ibm: IBM, name: str, *, points: int, per_job: int, mode: str = "auto", **kw: object
) -> object:
    execution = f"{{max_executions_per_job: {per_job * 400}, mode: {mode}}}"
    return ibm.write(name, SWEEP.format(execution=execution, points=points), **kw)  # type: ignore[arg-type]


def assert_ry_physics(run_dir: object, points: int) -> None:
    """P(1) = sin^2(theta/2) at every point of the merged result, in order."""
    counts = load_run(run_dir).result[0].data.c  # type: ignore[arg-type]
    assert counts.shape == (points,)
    thetas = np.linspace(0, 3.14159265, points)
    for index, theta in enumerate(thetas):
        point = counts[index].get_counts()
        assert sum(point.values()) == 400
        assert abs(point.get("1", 0) / 400 - np.sin(theta / 2) ** 2) < 0.12, (index, point)


def test_a_folder_of_ibm_workloads_waits_in_the_queue_once(ibm: IBM) -> None:
    folder = ibm.qprim.cwd / "suite"
    folder.mkdir()
    for number in range(4):  # four different works, each 8 s in the queue
        ibm.workload(f"w{number}", shots=1000 + number, tags=["qprim-fault:queue=8"], folder=folder)
    done = ibm.qprim.run("run", folder, "--json")
    assert done.returncode == 0, done.stderr
    jobs = ibm.jobs()
    assert len(jobs) == 4
    # all four were in the queue together: one queue wait, not four (wall time is left to
    # bench/concurrency.py; on a busy machine it says little)
    first_finished = min(job["finished"] for job in jobs)
    assert all(job["created"] < first_finished for job in jobs)
    assert len(json.loads(done.stdout)) == 4


def test_a_sweep_split_into_three_jobs_survives_a_kill_and_merges_back(ibm: IBM) -> None:
    workload = sweep(ibm, "sweep", points=30, per_job=10)
    # the service creates each job, but its answer hangs: qprim dies holding no job id
    ibm.emulator.add_fault("POST", POST_JOBS, 3, delay=120, after_dispatch=True)
    victim = ibm.qprim.popen("run", workload, "--out", "killed")
    deadline = time.monotonic() + 120
    while len(ibm.jobs()) < 2:
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "the jobs were never created"
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    ibm.emulator.clear_faults()

    rerun = ibm.qprim.run_json("run", workload, "--out", "rerun", "--timeout", "300")
    jobs = ibm.jobs()
    assert len(jobs) == 3  # the two made before the kill were found, one was added
    assert sorted(job["id"] for job in jobs) == sorted(j["job_id"] for j in rerun["jobs"])
    assert [(p["start"], p["stop"]) for j in rerun["jobs"] for p in j["points"]] == [
        (0, 10),
        (10, 20),
        (20, 30),
    ]
    assert_ry_physics(ibm.qprim.cwd / "rerun", 30)
    # auto mode: several IBM jobs run as one batch, re-attached after the kill
    assert rerun["execution"]["mode"] == "batch"
    assert len({job["session_id"] for job in jobs}) == 1
    assert [s["mode"] for s in ibm.emulator.sessions()] == ["batch"]

    again = ibm.qprim.run_json("run", workload, "--out", "again")
    assert {(j["submit"], j["result"]) for j in again["jobs"]} == {("reused", "cached")}
    assert len(ibm.jobs()) == 3


def test_session_mode_puts_every_job_in_one_dedicated_session(ibm: IBM) -> None:
    workload = sweep(ibm, "session", points=8, per_job=4, mode="session")
    manifest = ibm.qprim.run_json("run", workload, "--out", "out")
    jobs = ibm.jobs()
    assert len(jobs) == 2
    (session,) = ibm.emulator.sessions()
    assert session["mode"] == "dedicated"
    assert {job["session_id"] for job in jobs} == {session["id"]}
    assert manifest["execution"] == {"mode": "session", "session_id": session["id"]}
    assert not session["accepting_jobs"]  # closed once every job existed
    assert_ry_physics(ibm.qprim.cwd / "out", 8)


def test_work_reused_across_modes_says_the_mode_and_batch_it_really_ran_in(ibm: IBM) -> None:
    # the mode is not part of the digest: a session workload whose jobs a batch already
    # ran reuses them (no device time twice), and its run.json says so
    batch = ibm.qprim.run_json("run", sweep(ibm, "b", points=8, per_job=4, mode="batch"))
    (opened,) = ibm.emulator.sessions()
    assert batch["execution"] == {"mode": "batch", "session_id": opened["id"]}
    for mode in ("session", "job"):
        again = ibm.qprim.run_json("run", sweep(ibm, mode, points=8, per_job=4, mode=mode))
        assert again["execution"] == {"mode": mode, "session_id": None}
        assert {(j["submit"], j["mode"], j["session_id"]) for j in again["jobs"]} == {
            ("reused", "batch", opened["id"])
        }
    assert len(ibm.jobs()) == 2 and len(ibm.emulator.sessions()) == 1


def test_a_pending_job_limit_is_waited_out_and_nothing_is_made_twice(ibm: IBM) -> None:
    with emulator_process("--seed", "1234", "--max-pending-jobs", "2") as limited:
        ibm.qprim.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
        block = create_block(ibm.qprim, limited, "limited", "QPRIM_TEST_IBM_TOKEN")
        ibm.emulator, ibm.block = limited, block
        workload = sweep(ibm, "limited", points=10, per_job=2, tags=["qprim-fault:queue=2"])
        done = ibm.qprim.run("run", workload, "--out", "out", "--json")
        assert done.returncode == 0, done.stderr
        assert len(limited.jobs()) == 5
        assert "pending-job limit" in done.stderr  # it said why it waited
        # and so do the Prefect logs, as a line of the submit task run that waited
        api = PrefectAPI(ibm.qprim.env["PREFECT_API_URL"])
        lines = api.task_log_lines(json.loads(done.stdout)["flow_run"]["id"])
        assert any(
            task.startswith("submit limited part ")
            and text.startswith("limited part ")
            and ": waiting: " in text
            and "pending-job limit" in text
            for task, text in lines
        ), lines
        assert_ry_physics(ibm.qprim.cwd / "out", 10)


def test_duplicates_made_by_the_clients_own_retry_are_cancelled(ibm: IBM) -> None:
    # the service accepts the job, then answers 502: the client posts it again
    ibm.emulator.add_fault("POST", POST_JOBS, 1, status=502, after_dispatch=True)
    workload = ibm.workload("bell", tags=["qprim-fault:queue=5"])
    done = ibm.qprim.run("run", workload, "--out", "out", "--json")
    assert done.returncode == 0, done.stderr
    earliest, later = ibm.jobs()  # oldest first
    kept = json.loads(done.stdout)["jobs"][0]["job_id"]
    assert kept == earliest["id"]
    assert {job["id"]: job["status"] for job in ibm.jobs()} == {
        earliest["id"]: "Completed",
        later["id"]: "Cancelled",
    }
    assert f"cancelled {later['id']}" in done.stderr
    api = PrefectAPI(ibm.qprim.env["PREFECT_API_URL"])
    lines = api.task_log_lines(json.loads(done.stdout)["flow_run"]["id"])
    decision = f"kept the earliest, {kept}; cancelled {later['id']} (still queued)"
    assert ("submit bell", f"bell: duplicates {kept}: {decision}") in lines
