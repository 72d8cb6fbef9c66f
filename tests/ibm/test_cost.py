"""Knowing the cost: IBM's estimates (dry runs) beside the quota, and the refusals that
submit nothing; then a hardware user's whole day against the emulator."""

from __future__ import annotations

import json

import numpy as np

from qprim import load_run
from qprim.testing.emulator_jobs import Billing
from tests.ibm.support import BELL_QASM, IBM

BELL_ESTIMATE = Billing().seconds(2000)  # the emulator's estimate for 2000 Bell shots


def test_estimate_asks_ibm_and_shows_the_quota_left(ibm: IBM) -> None:
    ibm.emulator.set_usage(600, consumed_seconds=100)
    shown = ibm.qprim.run_json("estimate", ibm.workload("bell"))
    assert [job["seconds"] for job in shown["jobs"]] == [BELL_ESTIMATE]
    assert shown["total_s"] == BELL_ESTIMATE and shown["device"] == "fake_manila"
    assert shown["quota"] == {"limit_s": 600.0, "consumed_s": 100.0, "remaining_s": 500.0}
    assert ibm.jobs() == []  # nothing ran ...
    (dry_run,) = ibm.emulator.jobs(dry_runs=True)  # ... IBM was asked once
    assert dry_run["backend"] == "mock_manila" and "qprim-estimate" in dry_run["tags"]
    validated = ibm.qprim.run_json("validate", ibm.workload("bell"), "--estimate")
    assert validated["estimate"]["total_s"] == BELL_ESTIMATE
    assert validated["digest"].startswith("sha256:")


def test_more_than_max_usage_seconds_is_refused_at_its_line(ibm: IBM) -> None:
    path = ibm.workload("capped")
    path.write_text(path.read_text() + "execution:\n  max_usage_seconds: 1\n")
    line = path.read_text().splitlines().index("  max_usage_seconds: 1") + 1
    done = ibm.qprim.run("run", path.name)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: capped.yaml:{line}: "), done.stderr
    assert f"{BELL_ESTIMATE:g} s of quantum time" in done.stderr
    assert "max_usage_seconds 1 s" in done.stderr
    assert "Traceback" not in done.stderr
    assert ibm.jobs() == [] and ibm.qprim.submissions() == 0


def test_more_than_the_quota_left_is_refused_unless_overridden(ibm: IBM) -> None:
    ibm.emulator.set_usage(600, consumed_seconds=599)
    path = ibm.workload("broke")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "block:" in text)
    done = ibm.qprim.run("run", path.name)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: broke.yaml:{line}: "), done.stderr
    assert f"1 job needs {BELL_ESTIMATE:g} s" in done.stderr and "the 1 s left" in done.stderr
    assert ibm.jobs() == [] and ibm.qprim.submissions() == 0
    overridden = ibm.qprim.run_json("run", path, "--no-usage-check")
    assert [job["id"] for job in ibm.jobs()] == [overridden["jobs"][0]["job_id"]]


def test_a_rerun_that_submits_nothing_asks_for_no_estimate(ibm: IBM) -> None:
    ibm.emulator.set_usage(600)
    workload = ibm.workload("once")
    ibm.qprim.run_json("run", workload, "--out", "first")
    assert len(ibm.emulator.jobs(dry_runs=True)) == 1
    ibm.emulator.set_usage(600, consumed_seconds=600)  # no quota left: nothing new to pay
    again = ibm.qprim.run_json("run", workload, "--out", "again")
    assert again["jobs"][0]["submit"] == "reused"
    assert len(ibm.emulator.jobs(dry_runs=True)) == 1


def test_a_hardware_users_day_least_busy_estimate_quota_session_estimator(ibm: IBM) -> None:
    """The issue's done-when: least_busy, an estimate, a quota check, a session with
    max_time and the client-side Estimator, end to end with correct physics."""
    ibm.emulator.set_usage(600, consumed_seconds=50)
    for name, ahead in (("fake_manila", 6), ("fake_lima", 1), ("fake_fractional", 4)):
        ibm.emulator.set_device(name, other_jobs=ahead)
    for name in ("fake_brisbane", "fake_kyiv", "fake_sherbrooke"):
        ibm.emulator.set_device(name, other_jobs=40)
    body = (
        "primitive: estimator\ncircuits:\n  bell:\n    qasm3: |\n"
        + BELL_QASM.replace("      c = measure q;\n", "")
        + '  tilt:\n    qasm3: |\n      OPENQASM 3.0;\n      include "stdgates.inc";\n'
        "      input float theta;\n      qubit[1] q;\n      ry(theta) q[0];\n"
        "pubs:\n  - circuit: bell\n    observables: [ZZ, XX, YY]\n"
        "  - circuit: tilt\n    observables: Z\n"
        "    parameters: {theta: {linspace: [0, 3.14159265, 5]}}\n"
        "execution:\n  mode: session\n  max_time: 900\n  max_usage_seconds: 120\n"
        "  max_execution_time: 300\n"
    )
    path = ibm.write("day", body, device="least_busy, min_qubits: 5")
    estimate = ibm.qprim.run_json("estimate", path)
    assert estimate["device"] == "fake_lima"
    assert estimate["quota"]["remaining_s"] == 550

    manifest = ibm.qprim.run_json("run", path, "--out", "out")
    result = load_run(ibm.qprim.cwd / "out").result
    np.testing.assert_allclose(result[0].data.evs, [1.0, 1.0, -1.0], atol=0.06)
    np.testing.assert_allclose(result[1].data.evs, np.cos(np.linspace(0, np.pi, 5)), atol=0.06)
    assert manifest["backend"]["name"] == "fake_lima"
    assert manifest["backend"]["least_busy"] == {"min_qubits": 5}
    assert manifest["backend"]["primitives"] == "executor"
    (job,) = ibm.jobs()
    assert (job["program_id"], job["backend"]) == ("executor", "fake_lima")
    (session,) = ibm.emulator.sessions()
    assert (session["mode"], session["max_ttl"]) == ("dedicated", 900)
    assert job["session_id"] == session["id"] == manifest["execution"]["session_id"]
    # what the run cost is what IBM estimated before it ran
    assert job["quantum_seconds"] == estimate["total_s"]
    assert ibm.emulator.usage()["usage_consumed_seconds"] == 50 + estimate["total_s"]
    recorded = json.loads(ibm.qprim.run("jobs", "--json").stdout)
    assert recorded[0]["backend_name"] == "fake_lima"
