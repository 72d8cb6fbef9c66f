"""Choosing a device: `qprim backends`, `name: least_busy`, fractional gates, against the
emulator's devices (their status and other users' queues set through its admin API)."""

from __future__ import annotations

import json

import pytest

from tests.ibm.support import IBM, sampler_counts
from tests.support import journal_job_ids


@pytest.fixture
def busy(ibm: IBM) -> IBM:
    """Every device busy but fake_fractional (2 jobs ahead), fake_lima paused."""
    for name, ahead in (
        ("fake_manila", 9),
        ("fake_brisbane", 50),
        ("fake_kyiv", 50),
        ("fake_sherbrooke", 50),
        ("fake_fractional", 2),
    ):
        ibm.emulator.set_device(name, other_jobs=ahead)
    ibm.emulator.set_device("fake_lima", status="paused")
    return ibm


def test_backends_lists_the_instances_devices_with_their_queues(busy: IBM) -> None:
    listed = busy.qprim.run_json("backends", "--block", busy.block)
    assert listed["source"] == f"ibm:{busy.block}"
    devices = {device["name"]: device for device in listed["devices"]}
    assert set(devices) == {
        "fake_brisbane",
        "fake_fractional",
        "fake_kyiv",
        "fake_lima",
        "fake_manila",
        "fake_sherbrooke",
    }
    assert devices["fake_manila"] == {
        "name": "fake_manila",
        "qubits": 5,
        "status": "active",
        "operational": True,
        "pending_jobs": 9,
        "processor": "Falcon r5.11L",
        "fractional_gates": False,
    }
    assert devices["fake_lima"]["operational"] is False
    assert devices["fake_lima"]["status"] == "paused"
    assert devices["fake_fractional"]["fractional_gates"] is True
    assert devices["fake_brisbane"]["processor"].startswith("Eagle")
    table = busy.qprim.run("backends", "--block", busy.block)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split("\t")[:4] == [
        "device",
        "qubits",
        "status",
        "pending_jobs",
    ]


def test_backends_without_a_block_lists_aer_and_the_fake_devices(busy: IBM) -> None:
    listed = busy.qprim.run_json("backends")
    names = [device["name"] for device in listed["devices"]]
    assert names[0] == "aer_simulator" and "fake_manila" in names
    assert all(device["pending_jobs"] is None for device in listed["devices"])


def test_least_busy_is_chosen_once_recorded_and_reused_until_refresh(busy: IBM) -> None:
    workload = busy.workload("lb", device="least_busy, min_qubits: 5")
    first = busy.qprim.run_json("run", workload, "--out", "first")
    assert first["backend"]["name"] == "fake_fractional"
    assert first["backend"]["least_busy"] == {"min_qubits": 5}
    (job,) = busy.jobs()
    assert job["backend"] == "fake_fractional" and job["id"] == first["jobs"][0]["job_id"]
    recorded = json.loads(busy.qprim.run("jobs", "--json").stdout)
    assert recorded[0]["backend_name"] == "fake_fractional"
    counts = sampler_counts(busy.qprim.cwd / "first")
    assert set(counts) == {"00", "11"}

    # fake_fractional is now the busiest: the rerun asks nobody, it reuses its job
    busy.emulator.set_device("fake_fractional", other_jobs=80)
    again = busy.qprim.run_json("run", workload, "--out", "again")
    assert (again["jobs"][0]["submit"], again["jobs"][0]["result"]) == ("reused", "cached")
    assert again["backend"]["name"] == "fake_fractional"
    assert again["workload"]["digest"] == first["workload"]["digest"]
    assert len(busy.jobs()) == 1

    refreshed = busy.qprim.run_json("run", workload, "--out", "refreshed", "--refresh")
    assert refreshed["backend"]["name"] == "fake_manila"
    assert [job["backend"] for job in busy.jobs()] == ["fake_fractional", "fake_manila"]
    assert len(journal_job_ids(busy.qprim.home)) == 2


def test_least_busy_with_fractional_gates_only_considers_devices_that_have_them(
    busy: IBM,
) -> None:
    busy.emulator.set_device("fake_fractional", other_jobs=40)  # busier than fake_manila
    body = (
        "primitive: sampler\ncircuits:\n  zz:\n    qasm3: |\n"
        '      OPENQASM 3.0;\n      include "stdgates.inc";\n      qubit[2] q;\n'
        "      bit[2] c;\n      h q[0];\n      h q[1];\n      cx q[0], q[1];\n"
        "      rz(0.8) q[1];\n      cx q[0], q[1];\n"
        "      h q[0];\n      h q[1];\n      c = measure q;\n"
        "pubs:\n  - circuit: zz\n    shots: 4000\n"
    )
    path = busy.write("frac", body, device="least_busy, fractional_gates: true")
    manifest = busy.qprim.run_json("run", path, "--out", "out")
    assert manifest["backend"]["name"] == "fake_fractional"
    assert manifest["backend"]["fractional_gates"] is True
    # cx rz(0.8) cx is exp(-i 0.4 ZZ); between Hadamards: |00> keeps cos(0.4)^2 of the probability
    counts = sampler_counts(busy.qprim.cwd / "out")
    assert abs(counts.get("00", 0) / 4000 - 0.848353) < 0.03, counts
    assert abs(counts.get("11", 0) / 4000 - 0.151647) < 0.03, counts


def test_fractional_gates_on_a_device_without_them_is_an_input_error(busy: IBM) -> None:
    path = busy.workload("nofrac", device="fake_manila, fractional_gates: true")
    done = busy.qprim.run("run", path)
    assert done.returncode == 2, done.stderr
    assert "does not support fractional gates" in done.stderr
    assert busy.jobs() == [] and busy.qprim.submissions() == 0
