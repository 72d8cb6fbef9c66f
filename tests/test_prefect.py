"""The run is a real Prefect flow: recorded with both tasks and its artifact; and it
works on Prefect's temporary server (`QPRIM_SERVER=temporary`) with nothing started by
hand. The default, the server qprim keeps, is tested in test_server.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qprim import load_run
from qprim.flows.env import DEFAULTS, configure_prefect
from tests.support import EXAMPLES, Qprim, qprim_processes

HEAVY = ("prefect", "qiskit", "qiskit_aer", "qiskit_ibm_runtime", "numpy")


def test_flow_run_tasks_and_job_metrics_artifact_are_recorded(
    qprim: Qprim, prefect_api_url: str
) -> None:
    manifest = qprim.run_json("run", EXAMPLES / "bell.yaml", "--out", "out")
    flow_run_id = manifest["flow_run"]["id"]
    job_id = manifest["jobs"][0]["job_id"]

    with httpx.Client(base_url=prefect_api_url, timeout=30) as api:
        flow_run = api.get(f"/flow_runs/{flow_run_id}").json()
        flow = api.get(f"/flows/{flow_run['flow_id']}").json()
        tasks = api.post(
            "/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}}
        ).json()
        artifacts = api.post(
            "/artifacts/filter",
            json={
                "artifacts": {
                    "key": {"any_": ["job-metrics-bell"]},
                    "flow_run_id": {"any_": [flow_run_id]},
                }
            },
        ).json()

    assert flow["name"] == "bell"  # the flow is named after the workload
    assert flow_run["name"] == manifest["flow_run"]["name"]
    assert flow_run["state"]["type"] == "COMPLETED"
    assert sorted(task["name"] for task in tasks) == ["fetch bell", "submit bell"]
    assert all(task["state"]["type"] == "COMPLETED" for task in tasks)
    assert len(artifacts) == 1
    assert artifacts[0]["type"] == "table"
    assert job_id in str(artifacts[0]["data"])
    # the flow run's parameters say what ran, in words; no circuit
    (described,) = flow_run["parameters"]["workloads"]
    assert described["digest"] == manifest["workload"]["digest"]
    assert described["backend"] == "aer:aer_simulator"
    assert "OPENQASM" not in str(flow_run["parameters"])
    # PREFECT_API_URL wins: qprim kept no server of its own
    assert not qprim.server_dir.exists()


@pytest.mark.parametrize("where", [".env", "prefect.toml", "profile"])
def test_prefect_api_url_from_a_settings_file_is_honoured_like_the_environment(
    qprim: Qprim, prefect_api_url: str, where: str
) -> None:
    env = {k: v for k, v in qprim.env.items() if k != "PREFECT_API_URL"}
    settings = {
        ".env": (qprim.cwd / ".env", f"PREFECT_API_URL={prefect_api_url}\n"),
        "prefect.toml": (qprim.cwd / "prefect.toml", f'[api]\nurl = "{prefect_api_url}"\n'),
        "profile": (
            Path(env["PREFECT_HOME"]) / "profiles.toml",
            f'active = "team"\n[profiles.team]\nPREFECT_API_URL = "{prefect_api_url}"\n',
        ),
    }
    path, text = settings[where]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "qprim", "run", str(EXAMPLES / "bell.yaml"), "--json"],
        cwd=qprim.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    flow_run_id = json.loads(done.stdout)["flow_run"]["id"]
    with httpx.Client(base_url=prefect_api_url, timeout=30) as api:
        assert api.get(f"/flow_runs/{flow_run_id}").status_code == 200  # on that server
    assert "started a local Prefect server" not in done.stderr
    assert not qprim.server_dir.exists()


def test_qprim_server_temporary_runs_on_a_temporary_server(qprim: Qprim) -> None:
    env = {k: v for k, v in qprim.env.items() if k != "PREFECT_API_URL"}
    env["QPRIM_SERVER"] = "temporary"
    done = subprocess.run(
        [sys.executable, "-m", "qprim", "run", str(EXAMPLES / "bell.yaml"), "--out", "out"],
        cwd=qprim.cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    saved = load_run(qprim.cwd / "out")
    assert set(saved.result[0].data.c.get_counts()) == {"00", "11"}
    assert saved.record.flow_run is not None
    assert "Traceback" not in done.stderr
    # nothing left running, nothing kept
    assert "started a local Prefect server" not in done.stderr
    assert not qprim_processes(qprim.home)
    assert not qprim.server_dir.exists()


def test_help_imports_neither_prefect_nor_qiskit() -> None:
    probe = (
        "import sys\n"
        "from qprim.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout and "run" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="


def test_prefect_defaults_keep_telemetry_off_without_overriding_the_user(monkeypatch) -> None:
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "DEBUG")
    configure_prefect()
    import os

    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "DEBUG"


def test_giving_up_on_a_dead_server_lasts_only_for_the_command() -> None:
    """Once a command finds its server gone, its later calls do not retry (the run's end
    does not wait a minute on a dead server); the next command of the process retries."""
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

    from qprim.flows.health import api_retries_of_this_command, give_up_on_prefect_api

    before = PREFECT_CLIENT_MAX_RETRIES.value()
    assert before > 0
    with api_retries_of_this_command():
        give_up_on_prefect_api()
        assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
    assert PREFECT_CLIENT_MAX_RETRIES.value() == before


def test_a_deployments_entrypoint_is_the_deployed_flow() -> None:
    """A worker loads `qprim.deployment.run_flow` by its module path: the `qprim-run` flow
    whose body runs the packed workloads. The command line's own `qprim-run` flow runs only
    a command bound to it: a deployment made by an earlier build (which named that one)
    fails saying what to do, instead of running nothing."""
    from prefect.flows import load_flow_from_entrypoint

    from qprim import deployment
    from qprim.errors import InputError
    from qprim.flows.run import run_flow

    loaded = load_flow_from_entrypoint("qprim.deployment.run_flow")
    assert loaded is deployment.run_flow and loaded.name == run_flow.name == "qprim-run"
    with pytest.raises(InputError, match="run `qprim deploy` again"):
        run_flow.fn([], None)
