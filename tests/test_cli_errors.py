"""Bad input through the command line: exit 2, `FILE:LINE: message`, no traceback,
nothing submitted, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qprim.cli import app
from tests.support import Qprim
from tests.workload.malformed import BELL, CASES, HEAD, make_workdir

LOCATED = [case for case in CASES if case[2] is not None]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QPRIM_HOME", str(tmp_path / "qprim-home"))
    return make_workdir(tmp_path)


def assert_rejected(workdir: Path, exit_code: int, stderr: str, prefix: str) -> None:
    assert exit_code == 2, stderr
    assert stderr.startswith(f"error: {prefix}"), stderr
    assert "Traceback" not in stderr
    assert not list((workdir / "qprim-home").glob("aer-jobs/*")), "a job was submitted"
    assert not (workdir / "qprim-runs").exists(), "result files were written"


def test_there_are_at_least_twenty_located_cases() -> None:
    assert len(LOCATED) >= 20


@pytest.mark.parametrize(
    ("text", "line", "words"), [case[1:] for case in LOCATED], ids=[case[0] for case in LOCATED]
)
def test_run_rejects_malformed_workload(workdir: Path, text: str, line: int, words: list[str]):
    (workdir / "w.yaml").write_text(text)
    result = CliRunner().invoke(app, ["run", "w.yaml"])
    assert_rejected(workdir, result.exit_code, result.stderr, f"w.yaml:{line}: ")
    for word in words:
        assert word in result.stderr


def test_circuit_wider_than_the_device_is_rejected_before_submitting(workdir: Path) -> None:
    wide = (
        HEAD
        + "backend: {kind: aer, name: fake_manila}\n"
        + BELL.replace("qubit[2] q; bit[2] c;", "qubit[6] q; bit[6] c;")
        + "pubs:\n  - circuit: bell\n"
    )
    (workdir / "w.yaml").write_text(wide)
    result = CliRunner().invoke(app, ["run", "w.yaml"])
    assert_rejected(workdir, result.exit_code, result.stderr, "w.yaml:")
    assert "6 qubits" in result.stderr and "fake_manila" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "missing.yaml"], ["missing.yaml"]),
        (["run", "w.yaml", "--shots", "10"], ["shots"]),
        (["fetch", "aer-0000000000000000"], ["unknown job"]),
        (["run", "w.qasm", "--backend", "fake_nowhere"], ["fake_nowhere"]),
        (["run", "w.yaml", "--primitive", "annealer"], ["annealer", "sampler", "estimator"]),
    ],
    ids=["missing-file", "flag-with-yaml", "unknown-job", "unknown-device", "bad-primitive"],
)
def test_usage_errors_exit_2(workdir: Path, args: list[str], words: list[str]) -> None:
    (workdir / "w.yaml").write_text(HEAD + BELL + "pubs:\n  - circuit: bell\n")
    (workdir / "w.qasm").write_text("OPENQASM 2.0;\nqreg q[1];\ncreg c[1];\nmeasure q -> c;\n")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output


@pytest.mark.parametrize(
    "case",
    [c for c in LOCATED if c[0] in ("yaml-syntax", "unknown-pub-key", "duplicate-key")],
    ids=lambda case: case[0],
)
def test_real_process_rejects_malformed_workload(qprim: Qprim, case: tuple) -> None:
    _, text, line, _ = case
    make_workdir(qprim.cwd)
    (qprim.cwd / "w.yaml").write_text(text)
    done = qprim.run("run", "w.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: w.yaml:{line}: "), done.stderr
    assert "Traceback" not in done.stderr
    assert qprim.aer_jobs() == []
    assert not (qprim.cwd / "qprim-runs").exists()
