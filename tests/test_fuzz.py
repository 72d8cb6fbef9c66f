"""The table of malformed workloads (tests/fuzz.py) through the real `qprim run`: each one
exits 2 with `FILE:LINE:`, no traceback, no job, no journal row, nothing written.

In-process (typer's CliRunner, QPRIM_HOME in a temporary folder) for speed: input errors
are found before Prefect is needed. A handful, and the block checks that do need
Prefect, run through the real command in subprocesses.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qprim.cli import app
from tests.fuzz import Case, all_cases, campaign, line_containing
from tests.support import EXAMPLES, Qprim, journal_submissions
from tests.workload.malformed import BELL, HEAD

CASES = all_cases()
IN_SUBPROCESSES = (
    "yaml-billion-laughs",
    "qasm2-opaque",
    "qasm3-box-on-aer",
    "ibm-unknown-option",
    "qasm-file-dev-zero",
    "npy-complex",
    "workload-bad-byte",
)


def lay_out(case: Case, work: Path) -> None:
    if case.setup is not None:
        case.setup(work)
    for name, text in case.files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(_raw(text))
    (work / "w.yaml").write_bytes(_raw(case.text))


def _raw(text: str) -> bytes:
    """UTF-8, where a lone surrogate (U+DC80..U+DCFF) stands for a byte that is not."""
    return text.encode("utf-8", "surrogateescape")


def snapshot(folder: Path) -> dict[str, int]:
    """Every file and folder under `folder` with its modification time."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def assert_refused(case: Case, code: int, stderr: str, home: Path) -> None:
    assert code == 2, stderr
    line = r"\d+" if case.line is None else str(case.line)
    assert re.match(rf"error: {re.escape(case.file)}:{line}: ", stderr), stderr
    for word in case.words:
        assert word in stderr, stderr
    assert "Traceback" not in stderr
    assert not list(home.glob("aer-jobs/*")), "a job was submitted"
    assert journal_submissions(home) == 0, "a submission was recorded"


def test_the_table_covers_the_campaign_and_every_example() -> None:
    ids = {case.id for case in CASES}
    assert len(CASES) >= 60 and len(ids) == len(CASES)
    assert {case.id for case in campaign()} <= ids
    for example in (path.stem for path in EXAMPLES.glob("*.yaml")):
        kinds = {
            case.id.removeprefix(f"{example}-").split("-")[0]
            for case in CASES
            if case.id.startswith(f"{example}-")
        }
        assert {"unknown", "value", "missing"} <= kinds, example


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_run_refuses_before_anything_happens(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("QPRIM_HOME", str(home))
    lay_out(case, work)
    before = snapshot(work)
    result = CliRunner().invoke(app, ["run", "w.yaml"], catch_exceptions=False)
    assert_refused(case, result.exit_code, result.stderr, home)
    assert snapshot(work) == before, "files were written in the working folder"


def test_validate_refuses_what_the_backend_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qprim validate` checks against the backend as `qprim run` does."""
    case = next(case for case in CASES if case.id == "qasm3-box-on-aer")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QPRIM_HOME", str(tmp_path / "home"))
    lay_out(case, tmp_path)
    result = CliRunner().invoke(app, ["validate", "w.yaml"], catch_exceptions=False)
    assert_refused(case, result.exit_code, result.stderr, tmp_path / "home")


NUMBER_FLAGS = [
    (command, flag, value)
    for command, flag in (
        (["run", str(EXAMPLES / "bell.yaml")], "--timeout"),
        (["fetch", "aer-0000000000000000"], "--timeout"),
        (["compare", "a", "b"], "--tolerance"),
        (["compare", "a", "b"], "--sigma"),
    )
    for value in ("nan", "inf", "-inf", "-1")
]


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    NUMBER_FLAGS,
    ids=[f"{c[0]}{flag}={value}" for c, flag, value in NUMBER_FLAGS],
)
def test_number_flags_that_are_not_finite_are_refused_before_anything_happens(
    command: list[str], flag: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QPRIM_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, [*command, f"{flag}={value}"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "is not a finite number of at least 0" in result.stderr
    assert not (tmp_path / "home").exists() and not list(tmp_path.iterdir())


def block_cases() -> list[Case]:
    """A block name that names no saved block, for each kind: found when Prefect is asked."""
    cases = []
    for kind in ("ibm", "aer"):
        text = HEAD + f"backend:\n  kind: {kind}\n  block: no-such-block\n" + BELL
        text += "pubs: [{circuit: bell}]\n"
        cases.append(
            Case(
                f"unknown-{kind}-block",
                text,
                line_containing(text, "block:"),
                ("unknown block 'no-such-block'", f"qprim blocks create {kind}"),
            )
        )
    return cases


def test_the_real_command_refuses_them_too(qprim: Qprim) -> None:
    """A handful of the table, and the block checks, in real processes (run at once)."""
    chosen = [case for case in CASES if case.id in IN_SUBPROCESSES] + block_cases()
    assert len(chosen) == len(IN_SUBPROCESSES) + 2
    started = []
    for case in chosen:
        work = qprim.cwd / case.id
        work.mkdir()
        lay_out(case, work)
        process = Qprim(qprim.env, work).popen("run", "w.yaml")
        started.append((case, work, snapshot(work), process))
    for case, work, before, process in started:
        _, stderr = process.communicate(timeout=300)
        done = subprocess.CompletedProcess(case.id, process.returncode, "", stderr)
        assert_refused(case, done.returncode, done.stderr, qprim.home)
        assert snapshot(work) == before, case.id
