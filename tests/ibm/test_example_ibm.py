"""The IBM example workload (examples/workloads/ibm/) runs as written, against the emulator
through a block of this test's own name: its checks are the physics."""

from __future__ import annotations

import numpy as np

from qprim import load_run
from tests.ibm.support import IBM
from tests.support import EXAMPLES

EXAMPLE = EXAMPLES / "ibm" / "hardware-day.yaml"


def test_the_hardware_day_example_runs_with_its_checks_passing(ibm: IBM) -> None:
    ibm.emulator.set_usage(600)
    for name in ("fake_brisbane", "fake_kyiv", "fake_sherbrooke", "fake_lima"):
        ibm.emulator.set_device(name, other_jobs=10)
    copy = ibm.qprim.cwd / EXAMPLE.name
    copy.write_text(EXAMPLE.read_text().replace("block: my-ibm", f"block: {ibm.block}"))
    estimate = ibm.qprim.run_json("estimate", copy)
    assert estimate["device"] in ("fake_manila", "fake_fractional")  # nothing queued there
    manifest = ibm.qprim.run_json("run", copy, "--out", "out")
    assert manifest["exit_code"] == 0 and all(check["passed"] for check in manifest["expect"])
    assert manifest["backend"]["name"] == estimate["device"]
    assert manifest["execution"]["mode"] == "session"
    evs = load_run(ibm.qprim.cwd / "out").result[1].data.evs
    np.testing.assert_allclose(evs, np.cos(np.linspace(0, np.pi, 5)), atol=0.06)
