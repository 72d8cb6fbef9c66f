"""Faults in qprim's own surroundings, through the real CLI: run folders that must never lie,
damaged state, a lock held by another run, an unreachable Prefect server, a read-only
home and a full disk. Each ends with a clear message, the right exit code and nothing
lost or half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qprim import load_run
from tests.prefect_server import free_port
from tests.support import EXAMPLES, Qprim

BELL = EXAMPLES / "bell.yaml"


def bell_with_shots(folder: Path, shots: int) -> Path:
    """The Bell example with other shots (other work), without its check (few shots)."""
    path = folder / f"bell-{shots}.yaml"
    text = BELL.read_text().replace("shots: 4000", f"shots: {shots}")
    path.write_text(text[: text.index("expect:")])
    return path


def journal_rows(qprim: Qprim) -> list[dict]:
    return json.loads(qprim.run("jobs", "--json").stdout or "[]")


# --- run folders -----------------------------------------------------------------------


def test_an_out_that_is_a_file_or_someone_elses_folder_is_refused_before_submitting(
    qprim: Qprim,
) -> None:
    (qprim.cwd / "a-file").write_text("mine")
    papers = qprim.cwd / "papers"
    papers.mkdir()
    (papers / "draft.tex").write_text("precious")
    for out, expected in (("a-file", "a file is in the way"), ("papers", "not a qprim run")):
        done = qprim.run("run", BELL, "--out", out)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr
    assert qprim.aer_jobs() == [] and journal_rows(qprim) == []
    assert (papers / "draft.tex").read_text() == "precious"


def test_a_rerun_into_the_same_out_replaces_the_earlier_run_whole(
    qprim: Qprim, tmp_path: Path
) -> None:
    qprim.run_json("run", bell_with_shots(tmp_path, 100), "--out", "out")
    qprim.run_json("run", bell_with_shots(tmp_path, 200), "--out", "out")
    saved = load_run(qprim.cwd / "out")
    assert saved.record.pubs[0].shots == 200
    assert sum(saved.result[0].data.c.get_counts().values()) == 200
    assert sorted(p.name for p in (qprim.cwd / "out" / "workload").iterdir()) == [
        "bell-200.yaml"
    ]  # nothing of the earlier run is left behind
    assert [p.name for p in qprim.cwd.iterdir() if p.name.startswith(".")] == []


# One process per kill point: it saves over an earlier run and SIGKILLs itself at the
# N-th rename or atomic write inside save_run; the folder must then hold one whole run.
KILL_AT_WRITE = """
import os, signal, sys
from pathlib import Path
import qprim.report.runs as runs
from qprim.report.runs import load_run
template = load_run(sys.argv[3])
new_record = template.record.model_copy(update={"saved": "the-new-run"})
count, target = [0], int(sys.argv[2])
def dies(real):
    def call(*args, **kwargs):
        count[0] += 1
        if count[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
runs.write_atomic = dies(runs.write_atomic)
runs.os.rename = dies(os.rename)
runs.save_run(Path(sys.argv[1]), new_record, (Path(sys.argv[3]) / "result.json").read_bytes())
print("survived")
"""


def test_a_save_killed_at_any_write_leaves_one_whole_run_and_no_leftovers(
    qprim: Qprim,
) -> None:
    qprim.run_json("run", BELL, "--out", "out")
    out = qprim.cwd / "out"
    template = qprim.cwd.parent / "template"
    shutil.copytree(out, template)
    outcomes = set()
    for point in range(1, 6):  # result, record, rename aside, rename into place, (none)
        killed = subprocess.run(
            [sys.executable, "-c", KILL_AT_WRITE, str(out), str(point), str(template)],
            env=qprim.env,
            capture_output=True,
            text=True,
        )
        finished = killed.returncode == 0
        assert finished or killed.returncode == -signal.SIGKILL, killed.stderr
        # the next save beside it cleans up what the killed one left (or puts it back)
        probe = subprocess.run(
            [sys.executable, "-c", KILL_AT_WRITE, str(out), "999", str(template)],
            env=qprim.env,
            capture_output=True,
            text=True,
        )
        assert probe.returncode == 0, probe.stderr
        saved = load_run(out)  # a whole run: record and result load together
        outcomes.add(finished)
        assert saved.record.saved == "the-new-run"
        assert set(saved.result[0].data.c.get_counts()) == {"00", "11"}
        assert [p.name for p in qprim.cwd.iterdir() if p.name.startswith(".")] == []
    assert outcomes == {True, False}  # some points killed it, the last did not


def test_leftovers_of_a_killed_save_are_cleaned_and_an_aside_run_is_put_back(
    qprim: Qprim,
) -> None:
    qprim.run_json("run", BELL, "--out", "out")
    out = qprim.cwd / "out"
    os.rename(out, qprim.cwd / ".out.999999.abc.old.tmp")  # killed between the two renames
    (qprim.cwd / ".out.999999.def.tmp").mkdir()  # and its staging folder
    before = load_run(qprim.cwd / ".out.999999.abc.old.tmp").record
    rerun = qprim.run_json("run", BELL, "--out", "out")
    assert rerun["jobs"][0]["submit"] == "reused"
    assert load_run(out).record.workload == before.workload
    assert [p.name for p in qprim.cwd.iterdir() if p.name.startswith(".")] == []


# --- damaged state -----------------------------------------------------------------------


def test_a_damaged_stored_result_is_fetched_again_not_trusted(qprim: Qprim) -> None:
    first = qprim.run_json("run", BELL, "--out", "first")
    job_id = first["jobs"][0]["job_id"]
    stored = qprim.home / "results" / "aer" / f"{job_id}.json"
    text = stored.read_text()
    stored.write_text(text[:200] + "A" * 40 + text[240:])  # 40 characters overwritten
    again = qprim.run_json("run", BELL, "--out", "again")
    fetched = qprim.run_json("fetch", job_id, "--out", "fetched")
    assert again["jobs"][0]["result"] == "fetched"  # from the Aer job store, verified
    expected = load_run(qprim.cwd / "first").result[0].data.c.get_counts()
    for folder in ("again", "fetched"):
        assert load_run(qprim.cwd / folder).result[0].data.c.get_counts() == expected
    assert fetched["jobs"][0]["result"] == "cached"  # repaired by the rerun
    assert len(qprim.aer_jobs()) == 1


def test_one_damaged_aer_job_does_not_stop_other_work(qprim: Qprim, tmp_path: Path) -> None:
    first = qprim.run_json("run", BELL, "--out", "a")
    (damaged,) = (qprim.home / "aer-jobs").glob("*/job.json")
    damaged.write_text("{not json")
    done = qprim.run("run", bell_with_shots(tmp_path, 300), "--out", "b")
    asked = qprim.run("fetch", first["jobs"][0]["job_id"], "--out", "c")
    assert done.returncode == 0, done.stderr
    assert len(list((qprim.home / "aer-jobs").glob("*/job.json"))) == 2
    # the damaged job itself, when asked for, is a clear error, not a traceback
    assert asked.returncode == 4, asked.stderr
    assert "is damaged" in asked.stderr and "Traceback" not in asked.stderr


def test_a_damaged_journal_is_a_clear_configuration_error(qprim: Qprim) -> None:
    qprim.home.mkdir(parents=True)
    (qprim.home / "journal.sqlite").write_bytes(b"this is not a database" * 100)
    done = qprim.run("run", BELL)
    assert done.returncode == 4, done.stderr
    assert "journal.sqlite cannot be used" in done.stderr and "move it aside" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (qprim.home / "aer-jobs").exists()


# --- waiting for others, and for Prefect -----------------------------------------------------


def test_waiting_for_another_run_that_holds_the_work_obeys_the_timeout(
    qprim: Qprim, tmp_path: Path
) -> None:
    marker = tmp_path / "claimed"
    holder = qprim.popen("run", BELL, env={"QPRIM_FAULT_PAUSE": f"claimed:{marker}"})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        started = time.monotonic()
        waiting = qprim.run("run", BELL, "--timeout", "5")
        assert waiting.returncode == 5, waiting.stderr
        assert time.monotonic() - started < 60
        assert f"pid {holder.pid}" in waiting.stderr  # it says who holds the work
        assert qprim.aer_jobs() == []
    finally:
        holder.kill()
        holder.wait()


def test_an_unreachable_prefect_server_is_one_message_and_nothing_is_submitted(
    qprim: Qprim,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api"
    started = time.monotonic()
    done = qprim.run("run", BELL, env={"PREFECT_API_URL": dead})
    assert done.returncode == 7, done.stderr
    assert f"the Prefect server at {dead} does not answer" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
    assert qprim.aer_jobs() == []


# --- read-only home, full disk ----------------------------------------------------------------


def mounted_tmpfs(where: Path, options: str) -> None:
    """Mount a tmpfs with `options`, or skip: not every machine lets tests mount."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    """An empty, read-only file system (read-only for root too, unlike file modes)."""
    home = tmp_path / "ro-home"
    mounted_tmpfs(home, "ro,size=1m")
    yield home
    subprocess.run(["umount", "-l", str(home)], check=False)


def test_a_read_only_home_still_validates_and_a_run_says_why_it_cannot(
    qprim: Qprim, read_only_home: Path
) -> None:
    qprim.env["QPRIM_HOME"] = str(read_only_home)
    valid = qprim.run("validate", BELL, "--json")
    assert valid.returncode == 0, valid.stderr
    ran = qprim.run("run", BELL)
    assert ran.returncode == 4, ran.stderr
    assert str(read_only_home) in ran.stderr and "Traceback" not in ran.stderr
    assert "cannot be written" in ran.stderr and "QPRIM_HOME" in ran.stderr


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, where the machine lets the tests mount one."""
    mount = tmp_path / "tiny"
    mounted_tmpfs(mount, "size=2m")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_says_where_the_result_is(qprim: Qprim, tiny_disk: Path) -> None:
    # the job runs and its result is stored in QPRIM_HOME; only the run folder has no room
    filler = tiny_disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    shots = bell_with_shots(qprim.cwd, 300)
    done = qprim.run("run", shots, "--out", str(tiny_disk / "full"))
    assert done.returncode == 4, done.stderr
    assert "no space left" in done.stderr and "Traceback" not in done.stderr
    (job,) = qprim.aer_jobs()
    assert f"qprim fetch {job['job_id']}" in done.stderr  # where the result is
    assert not (tiny_disk / "full").exists()  # nothing half-written claims a run
    filler.unlink()
    fetched = qprim.run_json("fetch", job["job_id"], "--out", str(tiny_disk / "full"))
    assert fetched["jobs"][0]["result"] == "cached"
