"""The local Prefect server qprim keeps (`qprim.flows.server`), through the real CLI: with
no PREFECT_API_URL, commands start ONE server, detached, reuse it, replace it when it
dies or hangs, and it stops on `qprim server stop` or when nobody uses it.

Each test has its own QPRIM_HOME and PREFECT_HOME (the `managed` fixture), so each
starts its own server on a new database; the fixture stops it afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from qprim.engine.core import PAUSE_ENV as PAUSE
from qprim.flows.env import configured_api_url
from qprim.flows.server import IDLE_ENV, PORT_ENV, SUPERVISOR, command_line
from qprim.flows.supervisor import RESIDENT
from tests.support import EXAMPLES, Qprim, port_open, qprim_processes, wait_for

BELL = EXAMPLES / "bell.yaml"
STARTED = "qprim started a local Prefect server"

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finds the server's processes in /proc"
)


def supervisors(qprim: Qprim) -> list[int]:
    return [pid for pid, cmd in qprim_processes(qprim.home).items() if SUPERVISOR in cmd]


def gone(status: dict[str, Any]) -> bool:
    """Nothing of the server `status` described is left: no process, nothing on its port."""
    alive = command_line(status["pid"]) or command_line(status["server_pid"])
    return not alive and not port_open(status["port"])


@pytest.mark.slow
@needs_proc
def test_two_runs_at_once_start_one_server_that_status_names_and_stop_ends(
    managed: Qprim,
) -> None:
    runs = [managed.popen("run", BELL, "--json", "--out", f"run{i}") for i in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    ended = [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs, strict=True)]
    for code, _, err in ended:
        assert code == 0, err
    announced = [err for _, _, err in ended if STARTED in err]
    assert len(announced) == 1, [err for _, _, err in ended]

    status = managed.run_json("server", "status")
    assert status["running"] and status["state"] == "running"
    assert supervisors(managed) == [status["pid"]]
    assert status["ui_url"] in announced[0] and "qprim server stop" in announced[0]
    with httpx.Client(base_url=status["url"], timeout=30) as api:
        for _, out, _ in ended:  # both runs are flow runs on this server
            flow_run = json.loads(out)["flow_run"]["id"]
            assert api.get(f"/flow_runs/{flow_run}").json()["state"]["type"] == "COMPLETED"
    ui = httpx.get(status["ui_url"], timeout=30)
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    # the UI in a browser asks this server, not Prefect's default port 4200
    settings = httpx.get(f"{status['ui_url']}/ui-settings", timeout=30).json()
    assert settings["api_url"] == status["url"]
    # Prefect's own database, in PREFECT_HOME: shared with a temporary server
    assert status["prefect_home"] == managed.env["PREFECT_HOME"]
    assert (Path(managed.env["PREFECT_HOME"]) / "prefect.db").exists()

    stopped = managed.run_json("server", "stop")
    assert stopped == {"stopped": True, "pid": status["pid"], "url": status["url"]}
    assert gone(status)
    assert not managed.run_json("server", "status")["running"]
    assert not managed.run_json("server", "stop")["stopped"]

    again = managed.run("run", BELL, "--out", "again")
    assert again.returncode == 0, again.stderr
    assert STARTED in again.stderr
    new = managed.run_json("server", "status")
    assert new["running"] and new["pid"] != status["pid"]


@pytest.mark.slow
@needs_proc
def test_two_qprim_homes_sharing_a_prefect_home_start_one_server_on_its_database(
    managed: Qprim,
) -> None:
    # a second QPRIM_HOME (inside the first, so the fixture's clean-up sees its processes)
    other = {"QPRIM_HOME": str(managed.home / "second-home")}
    runs = [
        managed.popen("run", BELL, "--out", f"run{i}", env=other if i else None) for i in (0, 1)
    ]
    ended = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in ended]
    assert sum(STARTED in err for _, err in ended) == 1  # one server, not one per home
    mine = managed.run_json("server", "status")
    theirs = managed.run_json("server", "status", env=other)
    assert mine["running"] and (mine["pid"], mine["url"]) == (theirs["pid"], theirs["url"])
    assert supervisors(managed) == [mine["pid"]]
    stopped = managed.run_json("server", "stop", env=other)  # either home stops it
    assert stopped["pid"] == mine["pid"] and gone(mine)


def replaced_by_the_next_run(qprim: Qprim, old: dict[str, Any]) -> dict[str, Any]:
    """The next run starts a server in place of `old`, of which nothing is left."""
    done = qprim.run("run", BELL, "--out", f"after-{old['pid']}", timeout=240)
    assert done.returncode == 0, done.stderr
    assert STARTED in done.stderr
    new = qprim.run_json("server", "status")
    assert new["running"] and new["pid"] != old["pid"]
    assert not command_line(old["pid"]) and not command_line(old["server_pid"])
    assert supervisors(qprim) == [new["pid"]]
    return new


@pytest.mark.slow
@needs_proc
def test_a_server_started_in_a_pipeline_does_not_hold_it_and_a_dead_one_is_replaced(
    managed: Qprim,
) -> None:
    # the first run starts the server: the pipeline still ends when qprim does
    piped = subprocess.run(
        f"{sys.executable} -m qprim run {BELL} --out piped --json | cat",
        shell=True,
        cwd=managed.cwd,
        env=managed.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["jobs"][0]["status"] == "DONE"
    assert STARTED in piped.stderr
    first = managed.run_json("server", "status")
    assert first["running"]

    # the supervisor killed: Prefect runs on, orphaned, until the next run replaces it
    os.kill(first["pid"], signal.SIGKILL)
    second = replaced_by_the_next_run(managed, first)
    assert first["port"] == second["port"] or not port_open(first["port"])

    # Prefect killed: its supervisor notices and goes, or the next run finds it dead
    os.kill(second["server_pid"], signal.SIGKILL)
    third = replaced_by_the_next_run(managed, second)

    # Prefect hung (stopped): the next command does not wait on it but replaces it
    os.kill(third["server_pid"], signal.SIGSTOP)
    listed = managed.run("blocks", "ls", timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert STARTED in listed.stderr
    assert not command_line(third["pid"]) and not command_line(third["server_pid"])
    assert managed.run_json("server", "status")["running"]


@pytest.mark.slow
@needs_proc
def test_a_command_using_the_server_keeps_it_alive_and_then_it_stops_when_idle(
    managed: Qprim, tmp_path: Path
) -> None:
    idle_minutes = 0.02
    marker = tmp_path / "accepted"
    # a run that waits (here: paused once its job is accepted, as if queued at IBM)
    waiting = managed.popen(
        "run",
        BELL,
        "--out",
        "waiting",
        env={IDLE_ENV: str(idle_minutes), "QPRIM_FAULT_PAUSE": f"accepted:{marker}"},
    )
    try:
        wait_for(marker.exists, 240, "the run's job accepted")
        status = managed.run_json("server", "status")
        assert status["running"] and status["idle_minutes"] == idle_minutes
        time.sleep(4 * idle_minutes * 60)  # longer than the idle period, but in use
        assert managed.run_json("server", "status")["pid"] == status["pid"]
    finally:
        waiting.kill()  # like a crash: the OS drops its hold on the server
        waiting.communicate()

    wait_for(lambda: gone(status), 60, "the idle server stopping")
    log = Path(status["log"]).read_text()
    assert "no qprim command used it for 0.02 minutes: stopping" in log
    assert not managed.run_json("server", "status")["running"]
    assert not (managed.server_dir / "server.json").exists()


@pytest.mark.slow
@needs_proc
def test_a_taken_port_is_passed_over(managed: Qprim) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = managed.run_json("server", "start", env={PORT_ENV: str(port)})
    assert started["started"] and started["running"]
    assert started["port"] != port
    assert f"Port {port} is already in use" in Path(started["log"]).read_text()


def test_status_and_stop_of_no_server_import_no_prefect(tmp_path: Path) -> None:
    probe = (
        "import contextlib, io, json, sys\n"
        "from qprim.cli import app\n"
        "docs = []\n"
        "for args in (['server', 'status', '--json'], ['server', 'stop', '--json']):\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "        app(args)\n"
        "    docs.append(json.loads(out.getvalue()))\n"
        "prefect = any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules)\n"
        "print(json.dumps({'docs': docs, 'prefect': prefect}))\n"
    )
    # a home and a Prefect home of its own: the server's state lives in PREFECT_HOME
    env = {**os.environ, "QPRIM_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    status, stop = found["docs"]
    assert status["state"] == "not running" and not status["running"]
    assert stop == {"stopped": False, "pid": None, "url": None}
    assert found["prefect"] is False


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"QPRIM_SERVER": "always"}, "QPRIM_SERVER=always: expected `managed`"),
        ({IDLE_ENV: "soon"}, f"{IDLE_ENV}=soon: expected a positive number of minutes"),
        ({IDLE_ENV: "0"}, f"{IDLE_ENV}=0: expected a positive number of minutes"),
        ({PORT_ENV: "http"}, f"{PORT_ENV}=http: expected a port number"),
    ],
)
def test_a_bad_server_setting_is_a_usage_error_and_starts_nothing(
    managed: Qprim, setting: dict[str, str], expected: str
) -> None:
    done = managed.run("blocks", "ls", env=setting, timeout=120)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert not qprim_processes(managed.home)
    assert not (managed.server_dir / "server.json").exists()


class TestConfiguredApiUrl:
    """PREFECT_API_URL wins over both qprim servers: from the environment or the active
    Prefect profile, read without importing Prefect."""

    @pytest.fixture(autouse=True)
    def prefect_home(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
        for name in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
        (tmp_path / "profiles.toml").write_text(
            'active = "here"\n'
            '[profiles.here]\nPREFECT_API_URL = "http://here:4200/api"\n'
            "[profiles.plain]\nPREFECT_LOGGING_LEVEL = 'DEBUG'\n"
        )
        return tmp_path

    def test_the_active_profile(self) -> None:
        assert configured_api_url() == "http://here:4200/api"

    def test_the_environment_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PREFECT_API_URL", "http://env:4200/api")
        assert configured_api_url() == "http://env:4200/api"

    def test_prefect_profile_chooses_the_profile(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PREFECT_PROFILE", "plain")
        assert configured_api_url() is None

    def test_no_profiles_file(self, prefect_home: Path) -> None:
        (prefect_home / "profiles.toml").unlink()
        assert configured_api_url() is None

    def test_the_working_folders_files_in_prefects_order(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        (work / "pyproject.toml").write_text('[tool.prefect.api]\nurl = "http://py:1/api"\n')
        assert configured_api_url() == "http://py:1/api"  # over the profile
        (work / "prefect.toml").write_text('[api]\nurl = "http://toml:1/api"\n')
        assert configured_api_url() == "http://toml:1/api"  # over pyproject.toml
        (work / ".env").write_text("# team settings\nexport PREFECT_API_URL='http://dot:1/api'\n")
        assert configured_api_url() == "http://dot:1/api"  # over prefect.toml
        monkeypatch.setenv("PREFECT_API_URL", "http://env:1/api")
        assert configured_api_url() == "http://env:1/api"  # the environment first


@needs_proc
def test_bad_input_is_rejected_without_starting_a_server(managed: Qprim) -> None:
    (managed.cwd / "w.yaml").write_text("qprim: 1\nprimitive: sampler\ncircuits: {bell: [1, 2}\n")
    done = managed.run("run", "w.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith("error: w.yaml:3: "), done.stderr
    assert not qprim_processes(managed.home)
    assert not managed.server_dir.exists()


@pytest.mark.slow
@needs_proc
def test_its_resident_process_starts_once_no_command_uses_it_and_serves_the_next(
    managed: Qprim, tmp_path: Path
) -> None:
    """Not while the command that started Prefect runs: its imports would slow it."""
    own = {"QPRIM_RESIDENT": ""}  # the server's own resident process, not the session's
    marker = tmp_path / "accepted"
    paused = managed.popen("run", BELL, "--out", "first", env={**own, PAUSE: f"accepted:{marker}"})
    try:
        wait_for(lambda: marker.exists() or paused.poll() is not None, 240, "the job accepted")
        assert managed.run_json("server", "status")["running"]
        assert not [cmd for cmd in qprim_processes(managed.home).values() if RESIDENT in cmd]
    finally:
        paused.kill()
        paused.communicate()

    def resident() -> dict[str, Any]:
        return managed.run_json("server", "status")["resident"] or {}

    wait_for(lambda: resident().get("pid"), 120, "the server's resident process")
    before = resident()["served"]
    again = managed.run("run", BELL, "--out", "again", env=own)
    assert again.returncode == 0, again.stderr
    assert resident()["served"] == before + 1
