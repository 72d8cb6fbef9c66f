"""The resident process (`qprim.resident`): a command it serves behaves exactly as one run
in its own process (output, exit code, files, signals), takes the caller's settings, and
whenever the resident process could be wrong, the command runs in its own process.

Every other test's `qprim` goes through the session's resident process too (conftest.py),
so the whole suite checks that it is invisible; these check that it is really used, and
what happens when it must not be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qprim.engine.core import PAUSE_ENV as PAUSE
from qprim.errors import ExitCode
from qprim.flows.resident import resident_status
from qprim.flows.server import free_port
from tests.support import EXAMPLES, Qprim, resident_process, wait_for

BELL = EXAMPLES / "bell.yaml"
OFF = {"QPRIM_RESIDENT": "off"}


def served(socket_path: Path) -> int:
    status = resident_status(socket_path)
    assert status is not None, "the session's resident process does not answer"
    return int(status["served"])


def outcome(done: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return done.returncode, done.stdout, done.stderr


def test_a_served_command_prints_and_exits_as_one_run_in_its_own_process(
    qprim: Qprim, resident: Path
) -> None:
    bad = qprim.cwd / "bad.yaml"
    bad.write_text("qprim: 1\nprimitive: sampler\ncircuits:\n  - name: x\n    qasm: nope\n")
    before = served(resident)
    commands = [("validate", bad), ("schema",), ("--help",), ("--version",), ("nope",)]
    by_resident = [qprim.run(*command) for command in commands]
    assert served(resident) == before + 4  # `nope` is no command: it is not sent
    by_itself = [qprim.run(*command, env=OFF) for command in commands]
    assert [outcome(d) for d in by_resident] == [outcome(d) for d in by_itself]
    assert by_resident[0].returncode == 2 and "bad.yaml:3: circuits" in by_resident[0].stderr


def test_a_served_run_takes_the_callers_folder_environment_and_umask(
    qprim: Qprim, resident: Path
) -> None:
    before = served(resident)
    done = qprim.run("run", BELL, "--out", "here", umask=0o077)
    assert done.returncode == 0, done.stderr
    assert served(resident) == before + 1
    folder = qprim.cwd / "here"  # relative to the caller's folder
    assert (folder / "run.json").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    # the caller's QPRIM_HOME, not the resident process's: the job is in this test's store
    assert len(qprim.aer_jobs()) == 1


def test_ctrl_c_reaches_the_command_and_a_caller_killed_outright_takes_it_along(
    qprim: Qprim, resident: Path, tmp_path: Path
) -> None:
    def interrupted(signum: int) -> tuple[int, str]:
        marker = tmp_path / f"fetched-{signum}"
        pause = {"QPRIM_FAULT_PAUSE": f"fetched:{marker}"}
        process = qprim.popen("run", BELL, "--out", f"out-{signum}", env=pause)
        try:
            wait_for(lambda: marker.exists() or process.poll() is not None, 120)
            assert (resident_status(resident) or {}).get("running") == 1
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=120)
        finally:
            process.kill()
        # the command forked for the caller is gone too: nothing runs on for nobody
        wait_for(lambda: (resident_status(resident) or {}).get("running") == 0, 60)
        return process.returncode, stderr

    code, stderr = interrupted(signal.SIGINT)
    assert code == 130 and "qprim fetch" in stderr, stderr  # how to get the result later
    code, stderr = interrupted(signal.SIGKILL)
    assert code == -signal.SIGKILL, stderr


@pytest.mark.slow
def test_when_its_code_changed_the_command_runs_on_its_own_and_the_resident_exits(
    qprim: Qprim, tmp_path: Path
) -> None:
    """A source file it imported changed: never old code. The command still runs."""
    extra = tmp_path / "extra"
    extra.mkdir()
    module = extra / "sitecustomize.py"  # imported by every Python started with the path
    module.write_text("MARK = 1\n")
    socket_path = tmp_path / "own.sock"
    env = {"QPRIM_RESIDENT": str(socket_path), "PYTHONPATH": str(extra)}
    with resident_process(socket_path, env={"PYTHONPATH": str(extra)}) as process:
        first = qprim.run("schema", env=env)
        assert first.returncode == 0, first.stderr
        assert served(socket_path) == 1
        module.write_text("MARK = 2  # changed\n")
        second = qprim.run("schema", env=env)
        assert outcome(second) == outcome(first)
        assert process.wait(60) == 3  # STALE_EXIT: its supervisor starts a new one
        assert not socket_path.exists()


def test_settings_libraries_read_at_import_or_no_resident_mean_a_run_of_its_own(
    qprim: Qprim, resident: Path
) -> None:
    before = served(resident)
    threads = qprim.run("schema", env={"OMP_NUM_THREADS": "1"})
    missing = qprim.run("schema", env={"QPRIM_RESIDENT": str(qprim.cwd / "none.sock")})
    assert threads.returncode == missing.returncode == 0
    assert threads.stdout == missing.stdout != ""
    assert served(resident) == before


def test_the_entry_point_imports_nothing_heavy_before_asking_the_resident_process() -> None:
    """The caller's whole cost is Python's start: no Typer, rich, Prefect or Qiskit."""
    probe = (
        "import sys, qprim.launch; "
        "print(sorted(m for m in ('typer', 'rich', 'prefect', 'qiskit', 'pydantic') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QPRIM_RESIDENT": "off"},
    )
    assert done.stdout.strip() == "[]"


def test_a_served_command_reads_the_callers_prefect_settings_not_the_resident_processes(
    qprim: Qprim, resident: Path
) -> None:
    """The resident process read Prefect's settings once; a command with other ones (its
    environment, or a settings file in its folder) reads them again."""
    dead = f"http://127.0.0.1:{free_port()}/api"
    before = served(resident)
    by_env = qprim.run("run", BELL, "--out", "a", env={"PREFECT_API_URL": dead})
    (qprim.cwd / "prefect.toml").write_text(f'[api]\nurl = "{dead}"\n')
    by_file = subprocess.run(
        [sys.executable, "-m", "qprim", "run", str(BELL), "--out", "b"],
        cwd=qprim.cwd,
        env={k: v for k, v in qprim.env.items() if k != "PREFECT_API_URL"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    (qprim.cwd / "prefect.toml").unlink()
    fine = qprim.run("run", BELL, "--out", "c")
    assert served(resident) == before + 3
    for refused in (by_env, by_file):
        assert refused.returncode == ExitCode.UNAVAILABLE, refused.stderr
        assert dead in refused.stderr and "nothing was submitted" in refused.stderr
    assert fine.returncode == 0, fine.stderr
    assert len(qprim.aer_jobs()) == 1


def test_two_served_runs_at_once_make_one_job_and_answer_as_in_their_own_processes(
    qprim: Qprim, resident: Path
) -> None:
    before = served(resident)
    runs = [qprim.popen("run", BELL, "--json", "--out", f"run{i}") for i in range(2)]
    ended = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in ended]
    assert served(resident) == before + 2
    assert len(qprim.aer_jobs()) == 1  # the journal's lock held across both processes
    documents = [json.loads(out) for out, _ in ended]
    assert len({doc["jobs"][0]["job_id"] for doc in documents}) == 1
    by_itself = qprim.run("run", BELL, "--json", "--out", "run2", env=OFF)
    assert by_itself.returncode == 0, by_itself.stderr
    assert json.loads(by_itself.stdout).keys() == documents[0].keys()


@pytest.mark.slow
def test_a_resident_process_killed_mid_command_leaves_the_command_to_end_as_it_would(
    qprim: Qprim, tmp_path: Path
) -> None:
    """The command's process outlives the resident process that forked it: Ctrl-C still
    reaches it and its exit code still reaches the caller; the next command runs on its
    own (the dead process's socket file answers nothing)."""
    socket_path = tmp_path / "own.sock"
    marker = tmp_path / "fetched"
    own = {"QPRIM_RESIDENT": str(socket_path)}
    with resident_process(socket_path) as process:
        run = qprim.popen("run", BELL, "--out", "out", env={**own, PAUSE: f"fetched:{marker}"})
        try:
            wait_for(lambda: marker.exists() or run.poll() is not None, 120)
            assert (resident_status(socket_path) or {}).get("running") == 1
            process.kill()
            process.wait(60)
            run.send_signal(signal.SIGINT)
            _, stderr = run.communicate(timeout=120)
        finally:
            run.kill()
    assert run.returncode == 130 and "qprim fetch" in stderr, stderr
    assert socket_path.exists()  # left behind by the killed process
    after = qprim.run("schema", env=own)
    assert outcome(after) == outcome(qprim.run("schema", env=OFF))
