"""Beyond one machine, through the real CLI: two "machines" (two QPRIM_HOMEs and working
folders) sharing one PostgreSQL journal, one store and one Prefect server on PostgreSQL.
Runs at once from both make one job; a job run on one is fetched on the other from the
store; a store on S3 verifies what it serves; a deployment runs on a worker elsewhere;
PostgreSQL stopped in the middle of a claim loses nothing and submits nothing twice."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from subprocess import Popen
from typing import Any

import psycopg
import pytest

from qprim import load_run
from qprim.testing.emulator_process import EmulatorClient
from tests.ibm.support import IBM, TOKEN, create_block
from tests.postgres import PostgresServer, postgres_server
from tests.support import EXAMPLES, Qprim, base_env
from tests.team.conftest import PG_BIN
from tests.team.support import (
    PASSWORD,
    ROLE,
    Team,
    kill,
    prefect_client,
    save_block,
    secret_free,
    wait_for_marker,
)

BELL = EXAMPLES / "bell.yaml"
pytestmark = pytest.mark.slow


def finished(process: Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out)


def counts(run_dir: Path) -> dict[str, int]:
    return load_run(run_dir).result[0].data.c.get_counts()


def six_runs(team: Team, paths: dict[str, Path]) -> list[dict[str, Any]]:
    """Three `qprim run --json` from each machine, all started at once."""
    processes = [
        (machine, i, machine.popen("run", paths[name], "--json", "--out", f"run{i}"))
        for name, machine in (("a", team.a), ("b", team.b))
        for i in range(3)
    ]
    runs = [finished(process) for _, _, process in processes]
    for (machine, i, _), run in zip(processes, runs, strict=True):
        run["counts"] = counts(machine.cwd / f"run{i}")
    return runs


def submit_seconds(api: str, runs: list[dict[str, Any]]) -> list[float]:
    """How long each run's submit task took (waiting for the digest, claiming, and for the
    one that won, submitting), from the Prefect server's own record."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = [uuid.UUID(run["flow_run"]["id"]) for run in runs]
    with prefect_client(api) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    return sorted(
        (task.end_time - task.start_time).total_seconds()
        for task in tasks
        if task.name.startswith("submit")
    )


def test_six_runs_on_two_machines_make_one_ibm_job(team: Team, emulator: EmulatorClient) -> None:
    team.a.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(team.a, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")  # on the server
    paths = {
        name: IBM(machine, emulator, block).workload("bell-team")
        for name, machine in (("a", team.a), ("b", team.b))
    }

    runs = six_runs(team, paths)

    (job,) = emulator.jobs()
    assert {run["jobs"][0]["job_id"] for run in runs} == {job["id"]}
    assert sorted(run["jobs"][0]["submit"] for run in runs) == ["new"] + ["reused"] * 5
    assert all(run["counts"] == runs[0]["counts"] for run in runs)
    claims = submit_seconds(team.api, runs)
    assert len(claims) == 6
    print(f"\nIBM, 6 claimers on 2 machines: 1 job; submit task seconds {claims}")


def test_six_runs_on_two_machines_make_one_aer_job_simulated_once(team: Team) -> None:
    runs = six_runs(team, {"a": BELL, "b": BELL})

    (job,) = team.aer_jobs()
    assert {run["jobs"][0]["job_id"] for run in runs} == {job["job_id"]}
    assert team.aer_state(job["job_id"])["runs"] == 1  # simulated once
    assert sorted(run["jobs"][0]["submit"] for run in runs) == ["new"] + ["reused"] * 5
    assert all(run["counts"] == runs[0]["counts"] for run in runs)
    # nothing of it lives on either machine: both only know the shared journal and store
    assert not list(team.a.home.glob("aer-jobs/*")) and not list(team.b.home.glob("aer-jobs/*"))
    # and Prefect keeps each fetch task's own result in the same store
    assert len(list(team.shared.glob("prefect-results/fetch-*"))) == 6
    claims = submit_seconds(team.api, runs)
    print(f"\nAer, 6 claimers on 2 machines: 1 job; submit task seconds {claims}")


def test_an_aer_job_submitted_on_a_that_never_ran_is_run_on_b(team: Team, tmp_path: Path) -> None:
    marker = tmp_path / "accepted"
    victim = team.a.popen(
        "run", BELL, "--out", "killed", env={"QPRIM_FAULT_PAUSE": f"accepted:{marker}"}
    )
    wait_for_marker(victim, marker)
    kill(victim)  # machine A is gone: the job exists, its id was never recorded
    (job,) = team.aer_jobs()
    job_id = job["job_id"]
    assert team.aer_state(job_id)["status"] == "QUEUED"

    fetched = team.b.run_json("fetch", job_id, "--out", "fetched")
    rerun = team.b.run_json("run", BELL, "--out", "rerun")

    assert fetched["jobs"][0]["result"] == "fetched"
    state = team.aer_state(job_id)
    assert (state["status"], state["runs"]) == ("DONE", 1)
    assert (rerun["jobs"][0]["job_id"], rerun["jobs"][0]["submit"]) == (job_id, "reused")
    assert rerun["jobs"][0]["result"] == "cached"
    assert len(team.aer_jobs()) == 1
    assert counts(team.b.cwd / "rerun") == counts(team.b.cwd / "fetched")


def test_results_on_s3_are_served_to_the_other_machine_and_a_damaged_one_is_refetched(
    team: Team, emulator: EmulatorClient, s3_endpoint: str
) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="qprim-test",
        aws_secret_access_key="qprim-test",
        region_name="us-east-1",
    )
    bucket = f"qprim-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    slug = save_block(
        team.api,
        "remote-file-system",
        basepath=f"s3://{bucket}/team",
        settings={
            "key": "qprim-test",
            "secret": "qprim-test",
            "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
        },
    )
    team.set_env(QPRIM_RESULTS=slug)
    team.a.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(team.a, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")
    run = team.a.run_json("run", IBM(team.a, emulator, block).workload("bell-s3"), "--out", "a")
    job_id = run["jobs"][0]["job_id"]
    key = f"team/results/ibm/{job_id}.json"
    stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    served = team.b.run_json("fetch", job_id, "--out", "served")
    reads_after_serving = emulator.jobs()[0]["result_reads"]
    s3.put_object(Bucket=bucket, Key=key, Body=stored.replace(b"1", b"2", 1))  # bit rot
    damaged = team.b.run("fetch", job_id, "--json", "--out", "refetched")

    assert stored == (team.a.cwd / "a" / "result.json").read_bytes()
    assert served["jobs"][0]["result"] == "cached"
    assert reads_after_serving == 1  # B asked the store, never the backend
    assert damaged.returncode == 0, damaged.stderr
    assert "damaged" in damaged.stderr
    assert json.loads(damaged.stdout)["jobs"][0]["result"] == "fetched"
    assert emulator.jobs()[0]["result_reads"] == 2
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == stored  # stored again
    assert counts(team.b.cwd / "served") == counts(team.a.cwd / "a")
    assert counts(team.b.cwd / "refetched") == counts(team.a.cwd / "a")


def test_the_prefect_server_on_postgres_keeps_flow_runs_blocks_and_artifacts(
    team: Team, pg: PostgresServer
) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run = team.a.run_json("run", BELL, "--out", "run")
    flow_run_id = uuid.UUID(run["flow_run"]["id"])
    with prefect_client(team.api) as client:
        flow_run = client.read_flow_run(flow_run_id)
        tasks = client.read_task_runs()
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    with psycopg.connect(pg.url("prefect", ROLE, PASSWORD)) as db:
        (stored_runs,) = db.execute(
            "SELECT count(*) FROM flow_run WHERE id = %s", (flow_run_id,)
        ).fetchone()
        (store_blocks,) = db.execute(
            "SELECT count(*) FROM block_document WHERE name = %s",
            (team.a.env["QPRIM_RESULTS"].split("/")[1],),
        ).fetchone()

    assert flow_run.state is not None and flow_run.state.is_completed()
    assert {"submit bell", "fetch bell"} <= {t.name for t in tasks if t.flow_run_id == flow_run_id}
    assert artifacts, "qprim's run artifacts are on the server"
    assert (stored_runs, store_blocks) == (1, 1)  # in PostgreSQL, not a SQLite file


def test_a_deployment_runs_on_a_worker_elsewhere_and_every_machine_sees_its_jobs(
    team: Team, emulator: EmulatorClient, tmp_path: Path
) -> None:
    team.a.env["QPRIM_TEST_JOURNAL_URL"] = team.journal_url
    made = team.a.run(
        "blocks", "create", "team", "crew", "--journal-url-env", "QPRIM_TEST_JOURNAL_URL",
        "--results", team.a.env["QPRIM_RESULTS"], "--overwrite",
    )  # fmt: skip
    shown = team.a.run("blocks", "show", "crew")
    assert made.returncode == 0 and shown.returncode == 0, made.stderr + shown.stderr
    assert secret_free(made.stdout + made.stderr + shown.stdout + shown.stderr)
    team.a.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(team.a, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")
    ibm_workload = IBM(team.a, emulator, block).workload("bell-deployed")
    pool = f"pool-{uuid.uuid4().hex[:6]}"
    deployed = team.a.run(
        "deploy", BELL, ibm_workload, "--pool", pool, "--name", "smoke", "--team", "crew"
    )
    assert deployed.returncode == 0, deployed.stderr
    assert f"prefect worker start --pool {pool}" in deployed.stderr

    worker = start_worker(team, tmp_path / "worker-machine", pool)
    try:
        triggered = subprocess.run(
            [sys.executable, "-m", "prefect", "deployment", "run", "qprim-run/smoke"],
            env=worker.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert triggered.returncode == 0, triggered.stderr
        flow_run = wait_for_flow_run(team.api, "smoke")
    finally:
        worker.process.terminate()
        worker.process.wait(timeout=60)

    assert flow_run.state.is_completed(), (flow_run.state, worker.log.read_text()[-3000:])
    jobs = team.b.run_json("jobs")
    job_ids = {row["workload"]: row["job_id"] for row in jobs}
    assert set(job_ids) == {"bell", "bell-deployed"}
    assert len(emulator.jobs()) == 1 and len(team.aer_jobs()) == 1
    for machine in (team.a, team.b):
        for job_id in job_ids.values():
            fetched = machine.run_json("fetch", job_id, "--out", f"fetch-{job_id}")
            assert fetched["jobs"][0]["result"] == "cached"  # from the shared store
    assert list((worker.home / "deployed-runs" / flow_run.name).glob("*/run.json"))
    # no secret in what the server keeps: parameters, logs; nor in the worker's output
    with prefect_client(team.api) as client:
        deployment = client.read_deployment(flow_run.deployment_id)
        logs = client.read_logs()
    recorded = json.dumps([deployment.parameters, flow_run.parameters]) + " ".join(
        log.message for log in logs
    )
    assert secret_free(recorded + worker.log.read_text(), TOKEN)
    assert flow_run.parameters["team"] == "crew"


def test_a_scheduled_deployment_carries_its_files_and_shows_its_schedule(team: Team) -> None:
    qpy_workload = EXAMPLES / "qpy-select.yaml"
    pool = f"nightly-{uuid.uuid4().hex[:6]}"
    made = team.a.run_json(
        "deploy", BELL, qpy_workload, "--pool", pool, "--name", "nightly", "--cron", "0 3 * * *"
    )
    with prefect_client(team.api) as client:
        deployment = client.read_deployment(uuid.UUID(made["id"]))
    bell, qpy = deployment.parameters["workloads"]
    (qpy_file,) = [key for key in qpy["files"] if key.endswith(".qpy")]

    assert [schedule.schedule.cron for schedule in deployment.schedules] == ["0 3 * * *"]
    assert deployment.work_pool_name == pool
    assert deployment.entrypoint == "qprim.deployment.run_flow"
    assert bell["files"]["bell.yaml"]["text"] == BELL.read_text()
    assert base64.b64decode(qpy["files"][qpy_file]["base64"]) == (
        (EXAMPLES / qpy_file).read_bytes()
    )


def test_postgres_stopped_in_the_middle_of_a_claim_submits_nothing_twice(
    qprim: Qprim, tmp_path: Path
) -> None:
    assert PG_BIN is not None
    with postgres_server(PG_BIN) as own:  # its own: the team's Prefect server stays up
        qprim.env["QPRIM_JOURNAL_URL"] = own.create_database("journal", ROLE, PASSWORD)
        marker = tmp_path / "claimed"
        victim = qprim.popen(
            "run", BELL, "--out", "killed", env={"QPRIM_FAULT_PAUSE": f"claimed:{marker}"}
        )
        wait_for_marker(victim, marker)
        own.stop("immediate")
        kill(victim)
        down = qprim.run("run", BELL, "--out", "down")
        listing = qprim.run("jobs")
        own.start()
        rerun = qprim.run_json("run", BELL, "--out", "rerun")
        again = qprim.run_json("run", BELL, "--out", "again")
        rows = qprim.run_json("jobs")

    assert down.returncode == 7 and listing.returncode == 7, down.stderr
    for failed in (down, listing):
        assert "journal" in failed.stderr and "is unreachable" in failed.stderr
        assert "Traceback" not in failed.stderr
        assert f"{ROLE}:***@" in failed.stderr and PASSWORD not in failed.stderr
    assert rerun["jobs"][0]["submit"] == "new"  # the claimed attempt, submitted once now
    assert again["jobs"][0]["job_id"] == rerun["jobs"][0]["job_id"]
    assert again["jobs"][0]["submit"] == "reused"
    assert len(qprim.aer_jobs()) == 1
    assert [(row["attempt"], row["state"]) for row in rows] == [(1, "submitted")]


def test_journal_migrate_brings_this_machines_work_into_the_shared_state(team: Team) -> None:
    alone = {k: v for k, v in team.a.env.items() if k not in ("QPRIM_JOURNAL_URL", "QPRIM_RESULTS")}
    local = Qprim(alone, team.a.cwd)
    before = local.run_json("run", BELL, "--out", "local")
    job_id = before["jobs"][0]["job_id"]

    migrated = team.a.run_json("journal", "migrate")
    again = team.a.run_json("journal", "migrate")
    on_b = team.b.run_json("run", BELL, "--out", "on-b")

    assert (migrated["submissions"], migrated["already_there"]) == (1, 0)
    assert migrated["objects"] == 6  # the Aer job's 4 objects, the result and its digest
    assert (again["submissions"], again["already_there"]) == (0, 1)
    assert PASSWORD not in json.dumps(migrated) and "***" in migrated["to"]
    assert (on_b["jobs"][0]["job_id"], on_b["jobs"][0]["submit"]) == (job_id, "reused")
    assert on_b["jobs"][0]["result"] == "cached"
    assert [job["job_id"] for job in team.aer_jobs()] == [job_id]
    stored = (team.shared / "results" / "aer" / f"{job_id}.json").read_bytes()
    assert hashlib.sha256(stored).hexdigest() == (
        (team.shared / "results" / "aer" / f"{job_id}.json.sha256").read_text()
    )


# ----- the worker machine ----------------------------------------------------------------
class Worker:
    def __init__(self, process: Popen[bytes], env: dict[str, str], home: Path, log: Path) -> None:
        self.process, self.env, self.home, self.log = process, env, home, log


def start_worker(team: Team, folder: Path, pool: str) -> Worker:
    """`prefect worker start` on a third machine that knows only the Prefect server: no
    journal URL, no store, no IBM token (the team block in the parameters says the rest)."""
    folder.mkdir()
    env = base_env(folder / "prefect-home")
    env.update(
        PREFECT_API_URL=team.api,
        QPRIM_HOME=str(folder / "qprim-home"),
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_PREFETCH_SECONDS="5",
    )
    log = folder / "worker.log"
    with open(log, "wb") as out:
        process = Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "worker",
                "start",
                "--pool",
                pool,
                "--type",
                "process",
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, env, folder / "qprim-home", log)


def wait_for_flow_run(api: str, deployment: str, timeout: float = 420) -> Any:
    """The deployment's flow run, once it reached a final state."""
    deadline = time.monotonic() + timeout
    with prefect_client(api) as client:
        found = client.read_deployment_by_name(f"qprim-run/{deployment}")
        while time.monotonic() < deadline:
            from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
            )
            final = [run for run in runs if run.state is not None and run.state.is_final()]
            if final:
                return final[0]
            time.sleep(1)
    raise AssertionError(f"the deployment {deployment} did not finish in {timeout} s")
