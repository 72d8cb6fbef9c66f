"""Reports of runs: JUnit XML, `qprim show` (tables, bars, PNG), Markdown, the CI recipes."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from qprim.errors import InputError
from qprim.report.junit import JunitRun, write_junit
from qprim.report.markdown import markdown_summary
from qprim.report.record import RunRecord
from qprim.report.runs import load_run
from tests.support import EXAMPLES, REPO, Qprim, qprim_under

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GITHUB_RECIPE = REPO / "examples" / "ci" / "github-actions.yml"

BELL_CHECKS = [
    {"pub": 0, "kind": "counts", "passed": True, "detail": "TVD 0.006 <= 0.05"},
    {"pub": 0, "kind": "shape", "passed": False, "detail": "shape () != expected (2,)"},
]


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(prefect_api_url: str, tmp_path_factory: pytest.TempPathFactory) -> Qprim:
    """Like the `qprim` fixture, but shared by this module so each example runs once."""
    return qprim_under(tmp_path_factory.mktemp("reports"), prefect_api_url)


@pytest.fixture(scope="module")
def bell_dir(cli: Qprim) -> Path:
    cli.run_json("run", EXAMPLES / "bell.yaml", "--out", "bell")
    return cli.cwd / "bell"


@pytest.fixture(scope="module")
def estimator_dir(cli: Qprim) -> Path:
    cli.run_json("run", EXAMPLES / "estimator.yaml", "--out", "estimator")
    return cli.cwd / "estimator"


def with_checks(run_dir: Path, target: Path, checks: list[dict[str, Any]]) -> Path:
    """A copy of a run folder whose record carries `checks`."""
    shutil.copytree(run_dir, target)
    manifest = json.loads((target / "run.json").read_text())
    manifest["expect"] = checks
    (target / "run.json").write_text(json.dumps(manifest))
    return target


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- JUnit -----------------------------------------------------------------------------


def _record(name: str, checks: list[dict[str, Any]]) -> RunRecord:
    return RunRecord.model_validate(
        {
            "workload": {"name": name, "digest": "sha256:" + "0" * 64, "source": f"{name}.yaml"},
            "primitive": "sampler",
            "backend": {"kind": "aer", "name": "aer_simulator"},
            "jobs": [
                {
                    "job_id": f"aer-{name}",
                    "pubs": [0],
                    "status": "DONE",
                    "submit": "new",
                    "result": "fetched",
                }
            ],
            "pubs": [],
            "expect": checks,
        }
    )


def test_junit_report_counts_runs_and_checks(tmp_path: Path) -> None:
    passing = [
        {"pub": 0, "kind": "counts", "passed": True, "detail": "TVD 0.01 <= 0.05"},
        {"pub": 1, "kind": "shape", "passed": True, "detail": "shape (5,)"},
    ]
    failing = [{"pub": 0, "kind": "evs", "passed": False, "detail": "|ev - 1.0| = 0.3 > 0.02"}]
    runs = [
        JunitRun("bell", "bell.yaml", _record("bell", passing), 0, None, 1.5),
        JunitRun("est", "est.yaml", _record("est", failing), 6, "check failed", 2.25),
        JunitRun("bad", "bad.yaml", None, 2, "bad.yaml:3: unknown key 'pubz'", 0.1),
    ]
    report = tmp_path / "out" / "report.xml"
    write_junit(report, runs)

    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "0")
    assert root.get("time") == "3.850"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites) == ["bell", "est", "bad"]
    expected = {"bell": ("3", "0"), "est": ("2", "1"), "bad": ("1", "1")}
    for name, (tests, failures) in expected.items():
        suite = suites[name]
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
            tests,
            failures,
            "0",
        )
        assert len(suite.findall("testcase")) == int(tests)
        assert all(case.get("classname") == name for case in suite.iter("testcase"))

    bell_cases = [case.get("name") for case in suites["bell"].iter("testcase")]
    assert bell_cases == ["run", "expect[0] pub 0 counts", "expect[1] pub 1 shape"]
    failed_check = suites["est"].find("testcase[@name='expect[0] pub 0 evs']/failure")
    assert failed_check is not None
    assert failed_check.get("message") == "|ev - 1.0| = 0.3 > 0.02"
    assert suites["est"].find("testcase[@name='run']/failure") is None  # exit 6: the run is ok
    invalid = suites["bad"].find("testcase[@name='run']/failure")
    assert invalid is not None
    assert "unknown key 'pubz'" in invalid.get("message", "")
    assert invalid.get("type") == "exit 2"
    properties = {p.get("name"): p.get("value") for p in suites["bell"].iter("property")}
    assert properties["digest"] == "sha256:" + "0" * 64
    assert properties["jobs"] == "aer-bell"


def test_junit_internal_error_is_an_error_not_a_failure(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    write_junit(report, [JunitRun("w", "w.yaml", None, 1, "Traceback ...\nKeyError: 'x'", 0.5)])
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    error = root.find("testsuite/testcase/error")
    assert error is not None
    assert "KeyError" in (error.text or "")


# --- qprim show ------------------------------------------------------------------------


@pytest.mark.slow
def test_show_sampler_prints_counts_and_draws_png(cli: Qprim, bell_dir: Path) -> None:
    counts = load_run(bell_dir).result[0].data.c.get_counts()
    assert set(counts) == {"00", "11"}
    done = cli.run("show", bell_dir, "--png", "bell.png")
    assert done.returncode == 0, done.stderr
    for outcome, count in counts.items():
        assert f"{outcome}: {count} ({count / 4000:.1%})" in done.stdout  # the counts table
        assert f"{count / 4000:.1%}" in done.stdout  # the bars
    assert "█" in done.stdout
    width, height = png_size(cli.cwd / "bell.png")
    assert width > 200 and height > 200


@pytest.mark.slow
def test_show_estimator_prints_evs_and_draws_the_sweep(cli: Qprim, estimator_dir: Path) -> None:
    done = cli.run("show", estimator_dir, "--png", "plots/estimator.png")
    assert done.returncode == 0, done.stderr
    for value in ("+1.000000", "-1.000000", "+1.500000", "+0.707107", "-0.923880"):
        assert value in done.stdout
    width, height = png_size(cli.cwd / "plots" / "estimator.png")
    assert width > 200 and height > 200


@pytest.mark.slow
def test_show_prints_checks(cli: Qprim, bell_dir: Path, tmp_path: Path) -> None:
    run_dir = with_checks(bell_dir, tmp_path / "checked", BELL_CHECKS)
    done = cli.run("show", run_dir)
    assert done.returncode == 0, done.stderr
    assert "TVD 0.006 <= 0.05" in done.stdout
    assert "FAILED" in done.stdout and "shape () != expected (2,)" in done.stdout
    assert "1 passed, 1 failed" in done.stdout


def test_show_of_a_missing_folder_is_an_input_error(cli: Qprim) -> None:
    done = cli.run("show", "no-such-run")
    assert done.returncode == 2
    assert "not a qprim run folder" in done.stderr


def test_png_without_matplotlib_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from qprim.report.plots import run_figure

    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(InputError, match=r"pip install 'qprim\[plot\]'"):
        run_figure(None)  # type: ignore[arg-type]  # fails before looking at the run


# --- Markdown --------------------------------------------------------------------------


@pytest.mark.slow
def test_markdown_summary_has_counts_jobs_and_checks(bell_dir: Path, tmp_path: Path) -> None:
    saved = load_run(with_checks(bell_dir, tmp_path / "checked", BELL_CHECKS))
    counts = saved.result[0].data.c.get_counts()
    text = markdown_summary(saved.record, saved.result)
    assert text.startswith("## qprim run: bell\n")
    assert saved.record.workload.digest in text
    assert f"| `{saved.record.jobs[0].job_id}` | 1/1 | 0 | DONE | new | fetched |" in text
    for outcome, count in counts.items():
        assert f"`{outcome}`: {count}" in text
    assert "✅ passed | TVD 0.006 <= 0.05 |" in text
    assert "❌ **failed** | shape () != expected (2,) |" in text
    assert "❌ 1 of 2 failed" in text


@pytest.mark.slow
def test_markdown_summary_has_expectation_values(estimator_dir: Path) -> None:
    saved = load_run(estimator_dir)
    text = markdown_summary(saved.record, saved.result)
    assert "### Expectation values" in text
    assert "| 0 |  | `YY` | -1.000000 | 0.000000 |" in text  # pub 1 is swept: a point column
    assert "| 1 | theta=0.3927 | `Z` | +0.923880 | 0.000000 |" in text
    assert "### Checks" in text


# --- CI recipes ------------------------------------------------------------------------


def _run_supports_junit() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "qprim", "run", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        check=False,
    )
    return "--junit" in done.stdout


def recipe_steps(recipe: Path) -> list[str]:
    """The shell `run:` steps of the recipe's job, minus installation (done in this venv)."""
    (job,) = yaml.safe_load(recipe.read_text())["jobs"].values()
    return [
        step["run"]
        for step in job["steps"]
        if "run" in step and "pip install" not in step["run"] and "uses" not in step
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not _run_supports_junit(), reason="needs multi-workload `qprim run ... --junit FILE`"
)
def test_github_actions_recipe_runs(qprim: Qprim) -> None:
    shutil.copytree(EXAMPLES, qprim.cwd / "examples" / "workloads")
    env = {**qprim.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{qprim.env['PATH']}"}
    steps = recipe_steps(GITHUB_RECIPE)
    assert any("--junit report.xml" in step for step in steps)
    for step in steps:
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step],
            cwd=qprim.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"
    root = ET.parse(qprim.cwd / "report.xml").getroot()
    workloads = sorted(EXAMPLES.glob("*.yaml"))
    assert len(root.findall("testsuite")) == len(workloads)
    assert root.get("failures") == "0" and root.get("errors") == "0"
    plots = list((qprim.cwd / "plots").glob("*.png"))
    assert len(plots) == len(workloads)
