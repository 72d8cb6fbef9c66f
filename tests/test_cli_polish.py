"""The command line as a script or a person at a terminal meets it: one JSON document on
stdout whatever happens, run folders that respect the umask, whole job ids at 80
columns, `qprim jobs` in a pipe, shell completion, no telemetry notice."""

from __future__ import annotations

import json
import os
import pty
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qprim import load_run
from tests.support import EXAMPLES, Qprim, run_json_record

BELL = EXAMPLES / "bell.yaml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def error_document(done: subprocess.CompletedProcess[str], code: int) -> dict:
    """The one error document on stdout, agreeing with the exit code."""
    assert done.returncode == code, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"error", "exit_code", "location", "job_ids"}, document
    assert document["exit_code"] == code
    said = " ".join(document["error"].split())[:40]
    assert said in " ".join(done.stderr.split()), (said, done.stderr)  # people read it there
    return document


def test_every_json_command_puts_one_error_document_on_stdout(qprim: Qprim) -> None:
    invalid = qprim.cwd / "invalid.yaml"
    invalid.write_text(BELL.read_text().replace("shots: 4000", "shots: -3"))
    line = BELL.read_text().splitlines().index("    shots: 4000") + 1

    for command in (("validate", invalid), ("run", invalid)):
        done = qprim.run(*command, "--json")
        if command[0] == "run":  # run: one document per workload, its error included
            assert done.returncode == 2, done.stderr
            document = json.loads(done.stdout)
            assert document["workload"] == {"name": "invalid", "source": str(invalid)}
        else:
            document = error_document(done, 2)
        assert document["location"] == {"file": str(invalid), "line": line}
        assert "shots" in document["error"] and document["job_ids"] == []

    assert "unknown job" in error_document(qprim.run("fetch", "aer-0", "--json"), 2)["error"]
    assert "unknown job" in error_document(qprim.run("cancel", "aer-0", "--json"), 2)["error"]
    assert "run.json" in error_document(qprim.run("compare", "a", "b", "--json"), 2)["error"]
    assert "pattern" in error_document(qprim.run("run", "nothing-*.yaml", "--json"), 2)["error"]
    assert (
        "unknown block" in error_document(qprim.run("blocks", "show", "nope", "--json"), 2)["error"]
    )
    # usage errors too: a missing argument, a value that is not a number
    assert "Missing argument" in error_document(qprim.run("validate", "--json"), 2)["error"]
    assert "--limit" in error_document(qprim.run("jobs", "--limit", "x", "--json"), 2)["error"]
    assert "--pool" in error_document(qprim.run("deploy", BELL, "--json"), 2)["error"]
    nested = error_document(qprim.run("blocks", "show", "--json"), 2)  # in a command group
    assert "Missing argument" in nested["error"]
    # qprim's own state unusable: exit 4
    for side in qprim.home.glob("journal.sqlite-*"):  # its WAL would still be readable
        side.unlink()
    (qprim.home / "journal.sqlite").write_bytes(b"not a database" * 100)
    assert "journal" in error_document(qprim.run("jobs", "--json"), 4)["error"]


def test_run_json_gives_each_run_folder_and_its_numbers(qprim: Qprim) -> None:
    done = qprim.run("run", BELL, EXAMPLES / "estimator.yaml", "--out", "out", "--json")
    assert done.returncode == 0, done.stderr
    sampler, estimator = json.loads(done.stdout)
    for document in (sampler, estimator):
        assert document["exit_code"] == 0
        saved = load_run(qprim.cwd / document["path"])
        assert saved.record.document() == run_json_record(document)
    (pub,) = sampler["results"]
    saved = load_run(qprim.cwd / sampler["path"])
    assert pub == {"pub": 0, "shape": [], "counts": {"c": saved.result[0].data.c.get_counts()}}
    saved = load_run(qprim.cwd / estimator["path"])
    for index, pub in enumerate(estimator["results"]):
        data = saved.result[index].data
        assert pub["shape"] == list(data.evs.shape)
        assert np.allclose(pub["evs"], data.evs) and np.allclose(pub["stds"], data.stds)


def test_run_json_leaves_out_the_numbers_of_a_huge_sweep_and_says_where_they_are(
    qprim: Qprim,
) -> None:
    huge = qprim.cwd / "huge.yaml"
    huge.write_text(
        "qprim: 1\nprimitive: estimator\ncircuits:\n  ry:\n    qasm3: |\n"
        '      OPENQASM 3.0;\n      include "stdgates.inc";\n      input float[64] theta;\n'
        "      qubit[1] q;\n      ry(theta) q[0];\n"
        "pubs:\n  - circuit: ry\n    observables: Z\n"
        "    parameters: {theta: {linspace: [0, 3.14159265, 6000]}}\n"
    )
    document = qprim.run_json("run", huge, "--out", "huge-run")
    assert document["results"] is None
    assert "qprim export huge-run --format json" in document["results_omitted"]
    assert load_run(qprim.cwd / "huge-run").result[0].data.evs.shape == (6000,)


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_run_folders_respect_the_umask(
    qprim: Qprim, umask: int, file_mode: int, dir_mode: int
) -> None:
    done = qprim.run("run", EXAMPLES / "qasm-file.yaml", "--out", "out", umask=umask)
    assert done.returncode == 0, done.stderr
    out = qprim.cwd / "out"
    folders = [out, *(p for p in out.rglob("*") if p.is_dir())]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"run.json", "result.json"} <= {p.name for p in files}
    assert any(p.parent.name == "circuits" for p in files)  # the workload copy too
    copied = {p for p in files if "workload" in p.parts}
    for path in folders:
        assert stat.S_IMODE(path.stat().st_mode) == dir_mode, path
    for path in set(files) - copied:  # copies keep their source's mode, as cp -p does
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path


def folded(text: str, job_id: str) -> str:
    """A job id as a table too narrow for it shows it: its first piece and those below."""
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if job_id[:6] in line)
    start = lines[row].index(job_id[:6])
    pieces = []
    for line in lines[row:]:
        piece = line[start:].split(" ", 1)[0]
        if not piece:
            break
        pieces.append(piece)
    return "".join(pieces)


def test_job_ids_are_whole_at_80_columns_and_folded_never_cut_below(qprim: Qprim) -> None:
    narrow = {"COLUMNS": "80"}
    done = qprim.run("run", BELL, "--out", "out", env=narrow)
    assert done.returncode == 0, done.stderr
    job_id = load_run(qprim.cwd / "out").record.jobs[0].job_id
    assert max(len(line.rstrip()) for line in done.stderr.splitlines()) <= 80
    assert re.search(rf"^\s+{job_id}\s+DONE\s", done.stderr, re.M)  # job metrics
    assert re.search(rf"^\s+{job_id}\s+0\s+new\s+fetched", done.stderr, re.M)  # cache
    terminal = {**narrow, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "0"}
    for command in (("show", "out"), ("jobs",)):
        shown = qprim.run(*command, env=terminal)
        assert shown.returncode == 0, shown.stderr
        text = ANSI.sub("", shown.stdout)
        assert job_id in text, text
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
        # narrower than the id's row: it is folded onto the next lines, never cut
        tiny = qprim.run(*command, env={**terminal, "COLUMNS": "28"})
        text = ANSI.sub("", tiny.stdout)
        assert folded(text, job_id) == job_id and not re.search(r"aer-\S*…", text), text


def test_jobs_in_a_pipe_are_tab_separated_lines_for_grep_and_cut(qprim: Qprim) -> None:
    first = qprim.run_json("run", BELL, "--out", "a")
    second = qprim.run_json("run", EXAMPLES / "ghz5.yaml", "--out", "b")
    listed = qprim.run("jobs")  # stdout is a pipe here
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split("\t") == [
        "when", "workload", "part", "job_id", "backend", "mode", "status",
    ]  # fmt: skip
    assert len(rows) == 2 and all(len(row.split("\t")) == 7 for row in rows)
    ghz_id, bell_id = (row.split("\t")[3] for row in rows)  # newest first
    assert (bell_id, ghz_id) == (first["jobs"][0]["job_id"], second["jobs"][0]["job_id"])
    grepped = [row for row in rows if "\tbell\t" in row]
    assert grepped == [next(row for row in rows if bell_id in row)]
    assert grepped[0].endswith("\tDONE")


def test_cancel_a_queued_aer_job_then_refresh_submits_anew(qprim: Qprim, tmp_path: Path) -> None:
    marker = tmp_path / "accepted"
    victim = qprim.popen("run", BELL, env={"QPRIM_FAULT_PAUSE": f"accepted:{marker}"})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "qprim never reached the accepted job"
        time.sleep(0.2)
    victim.kill()
    victim.wait(timeout=30)
    (queued,) = qprim.aer_jobs()

    done = qprim.run("cancel", queued["job_id"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "job_id": queued["job_id"],
        "backend": "aer:aer_simulator",
        "before": "QUEUED",
        "after": "CANCELLED",
        "requested": True,
    }
    assert f"cancelled {queued['job_id']}" in done.stderr
    state = json.loads((qprim.home / "aer-jobs" / queued["job_id"] / "state.json").read_text())
    assert state["status"] == "CANCELLED"
    again = qprim.run("cancel", queued["job_id"])
    assert again.returncode == 0 and "had already ended (CANCELLED)" in again.stderr

    # the same work again: the job says it was cancelled, until --refresh asks for a new one
    rerun = qprim.run("run", BELL, "--out", "rerun")
    assert rerun.returncode == 3 and f"{queued['job_id']} was cancelled" in rerun.stderr
    # what happened, in order: the killed run's job was found by its tag, then cancelled
    assert f"bell: found {queued['job_id']}: by its tag" in rerun.stderr
    assert f"submitted {queued['job_id']}" not in rerun.stderr
    fresh = qprim.run_json("run", BELL, "--out", "fresh", "--refresh")
    assert fresh["jobs"][0]["job_id"] != queued["job_id"] and len(qprim.aer_jobs()) == 2


def test_shell_completion_is_offered_and_completes_commands_without_heavy_imports() -> None:
    probe = (
        "import sys\n"
        "from qprim.cli import main\n"
        "sys.argv[0] = 'qprim'\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('prefect', 'qiskit', 'numpy') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "_QPRIM_COMPLETE": "complete_bash", "COMP_WORDS": "qprim ca"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cancel"]
    assert done.stderr.strip().endswith("HEAVY=")
    helped = subprocess.run(
        [sys.executable, "-m", "qprim", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--install-completion" in helped.stdout
    script = subprocess.run(
        [sys.executable, "-m", "qprim", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    assert "_QPRIM_COMPLETE=complete_bash" in script.stdout  # what --install-completion installs
    assert "complete -o default -F _qprim_completion qprim" in script.stdout


def test_no_telemetry_notice_on_a_terminal_unless_the_user_turns_it_on(qprim: Qprim) -> None:
    """Prefect shows its notice (and starts counting) only on a terminal: run under one."""
    from prefect._internal.analytics.ci_detection import CI_ENV_VARS  # it stays quiet in CI

    def on_a_terminal(home: Path, extra: dict[str, str]) -> str:
        env = {k: v for k, v in qprim.env.items() if k not in CI_ENV_VARS}
        env.update(PREFECT_HOME=str(home), **extra)
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "qprim", "run", str(BELL), "--out", str(home / "out")],
            cwd=qprim.cwd,
            env=env,
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        output = b"".join(chunks).decode(errors="replace")
        assert process.wait(timeout=300) == 0, output
        return output

    assert "anonymous usage data" not in on_a_terminal(qprim.cwd / "default-home", {})
    # the test can see the notice: a user who turned telemetry on gets it
    opted_in = on_a_terminal(qprim.cwd / "opted-in-home", {"DO_NOT_TRACK": "0"})
    assert "anonymous usage data" in opted_in
