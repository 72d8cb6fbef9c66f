"""`expect:` checks and multi-workload runs: exit codes, run.json, JUnit, summary."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from qprim import load_run
from qprim.report.checks import evaluate, total_variation
from qprim.workload import load_workload
from tests.support import EXAMPLES, Qprim, isa_pubs, run_json_record

WRONG_BELL = (
    (EXAMPLES / "bell.yaml")
    .read_text()
    .replace('counts: {"00": 0.5, "11": 0.5}', 'counts: {"01": 0.5, "10": 0.5}')
)


def test_total_variation_distance() -> None:
    assert total_variation({"00": 0.5, "11": 0.5}, {"00": 50, "11": 50}) == 0.0
    assert total_variation({"00": 1.0}, {"11": 10}) == 1.0
    assert total_variation({"00": 0.5, "11": 0.5}, {"00": 60, "11": 40}) == pytest.approx(0.1)


def test_checks_on_a_swept_sampler_pub_and_broadcast_evs(tmp_path: Path) -> None:
    """Real Aer primitives, no Prefect: every sweep point must pass; evs broadcast."""
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    workload_file = tmp_path / "w.yaml"
    workload_file.write_text(
        "qprim: 1\nprimitive: sampler\n"
        "circuits:\n  ry:\n    qasm3: |\n"
        '      OPENQASM 3.0;\n      include "stdgates.inc";\n      input float[64] theta;\n'
        "      qubit[1] q;\n      bit[1] c;\n      ry(theta) q[0];\n      c = measure q;\n"
        "pubs:\n  - circuit: ry\n    shots: 2000\n    parameters: {theta: [0.0, 3.14159265]}\n"
        "expect:\n  - pub: 0\n    counts: {'0': 1.0}\n    tolerance: 0.05\n    shape: [2]\n"
    )
    workload = load_workload(workload_file)
    outcome = evaluate(workload.expect, SamplerV2(seed=1).run(isa_pubs(workload)).result())
    assert [(o.kind, o.passed) for o in outcome] == [("shape", True), ("counts", False)]
    assert "TVD 1.0000 > 0.05 at point (1,)" in outcome[1].detail

    estimator = load_workload(EXAMPLES / "estimator.yaml")
    result = EstimatorV2().run(isa_pubs(estimator)).result()
    assert [o.passed for o in evaluate(estimator.expect, result)] == [True]
    assert np.allclose(result[0].data.evs, [1.0, 1.0, -1.0, 1.5, 0.0])


def test_failed_expectation_exits_6_saves_results_and_names_the_check(
    qprim: Qprim, tmp_path: Path
) -> None:
    workload = tmp_path / "wrong-bell.yaml"
    workload.write_text(WRONG_BELL)
    done = qprim.run("run", workload, "--out", "out", "--junit", "report.xml", "--json")

    assert done.returncode == 6, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["expect"] == [
        {
            "pub": 0,
            "kind": "counts",
            "passed": False,
            "detail": manifest["expect"][0]["detail"],
            "expected": {"01": 0.5, "10": 0.5},  # the target, for plots
            "tolerance": 0.05,
            "at": None,  # an unswept PUB has no worst point
        }
    ]
    assert manifest["expect"][0]["detail"].startswith("TVD 1.0000 > 0.05")
    assert "FAILED" in done.stderr and "TVD 1.0000 > 0.05" in done.stderr
    saved = load_run(qprim.cwd / "out")
    assert saved.record.document() == run_json_record(manifest)
    assert set(saved.result[0].data.c.get_counts()) == {"00", "11"}
    report = ET.parse(qprim.cwd / "report.xml").getroot()
    failures = report.findall(".//testcase/failure")
    assert len(failures) == 1
    assert "TVD 1.0000 > 0.05" in failures[0].get("message")


def test_every_example_passes_with_a_junit_report(qprim: Qprim) -> None:
    done = qprim.run("run", EXAMPLES, "--junit", "report.xml", "--out", "runs", "--json")
    assert done.returncode == 0, done.stderr
    manifests = json.loads(done.stdout)
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert len(manifests) == len(examples)
    assert all(check["passed"] for m in manifests for check in m["expect"])
    report = ET.parse(qprim.cwd / "report.xml").getroot()
    suites = report.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == sorted(m["workload"]["name"] for m in manifests)
    checks = sum(len(m["expect"]) for m in manifests)
    assert int(report.get("tests")) == len(examples) + checks  # a run case + one per check
    assert report.get("failures") == "0" and report.get("errors") == "0"
    assert "summary" in done.stderr
    assert sorted(p.name for p in (qprim.cwd / "runs").iterdir()) == [p.stem for p in examples]


def test_a_folder_with_one_malformed_workload_runs_the_others_and_exits_2(
    qprim: Qprim, tmp_path: Path
) -> None:
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in ("bell.yaml", "ghz5.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "broken.yaml").write_text("qprim: 1\nprimitive: sampler\npubz: []\n")
    (folder / "wrong.yaml").write_text(WRONG_BELL.replace("name: bell", "name: wrong"))
    (folder / "zero.yaml").symlink_to("/dev/zero")  # would read until memory runs out

    done = qprim.run("run", folder, "--junit", "report.xml", "--json")

    assert done.returncode == 2, done.stderr  # invalid input outranks a failed check
    documents = json.loads(done.stdout)
    assert [d.get("exit_code") for d in documents if "error" in d] == [2, 2]
    assert "zero.yaml is a character device, not a regular file" in done.stderr
    # the typos are shown before anything is submitted, not after the others have run
    assert done.stderr.index("broken.yaml:3:") < done.stderr.index(": submitted ")
    assert done.stderr.count("broken.yaml:3:") == 1
    # bell, ghz5 and wrong ran anyway; wrong is bell's work (checks are not in the
    # digest), so the command submitted that work once and both workloads share its job
    assert len(qprim.aer_jobs()) == 2
    ran = {d["workload"]["name"]: d["jobs"][0] for d in documents if "jobs" in d}
    assert ran["bell"]["job_id"] == ran["wrong"]["job_id"]
    assert ran["bell"]["submit"] == ran["wrong"]["submit"] == "new"
    report = ET.parse(qprim.cwd / "report.xml").getroot()
    assert report.get("failures") == "3"  # the broken and zero runs, and the wrong check
