"""The client-side primitives by default, the legacy ones by choice: the same run folder,
and no deprecation warning from the client on the default path."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from qprim import load_run
from qprim.backends.base import JobRequest, JobStatus
from qprim.backends.ibm import IBMAccount, IBMBackend
from qprim.testing import DEFAULT_CRN, DEFAULT_TOKEN, RuntimeEmulator
from tests.ibm.support import BELL_QASM, IBM, sampler_counts

ESTIMATOR = (
    "primitive: estimator\ncircuits:\n  bell:\n    qasm3: |\n"
    + BELL_QASM.replace("      c = measure q;\n", "")
    + "pubs:\n  - circuit: bell\n    observables: [ZZ, XX, YY]\n"
)


def test_the_default_runs_the_executor_program_and_legacy_the_server_side_one(
    ibm: IBM,
) -> None:
    default = ibm.qprim.run_json("run", ibm.workload("bell"), "--out", "default")
    legacy_path = ibm.workload("legacy")
    legacy_path.write_text(legacy_path.read_text() + "execution: {primitives: legacy}\n")
    legacy_run = ibm.qprim.run("run", legacy_path, "--out", "legacy", "--json")
    assert legacy_run.returncode == 0, legacy_run.stderr
    assert "Warning" not in legacy_run.stderr  # the client's deprecation stays Python's
    legacy = json.loads(legacy_run.stdout)
    programs = {job["id"]: job["program_id"] for job in ibm.jobs()}
    assert programs == {
        default["jobs"][0]["job_id"]: "executor",
        legacy["jobs"][0]["job_id"]: "sampler",
    }
    assert default["workload"]["digest"] != legacy["workload"]["digest"]
    for folder in ("default", "legacy"):  # the same run folder, the same physics
        counts = sampler_counts(ibm.qprim.cwd / folder)
        assert set(counts) == {"00", "11"} and abs(counts["00"] / 2000 - 0.5) < 0.05
    assert default["backend"]["primitives"] == "executor"
    assert legacy["backend"]["primitives"] == "legacy"
    exported = ibm.qprim.run("export", "default", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)


def test_an_option_of_the_other_primitives_is_refused_at_its_line_submitting_nothing(
    ibm: IBM,
) -> None:
    body = ESTIMATOR + "options:\n  seed_estimator: 3\n"
    path = ibm.write("legacy-option", body)
    line = path.read_text().splitlines().index("  seed_estimator: 3") + 1
    done = ibm.qprim.run("run", path.name)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: legacy-option.yaml:{line}: options.seed_estimator"), (
        done.stderr
    )
    assert "set execution.primitives: legacy" in done.stderr
    assert ibm.jobs() == [] and ibm.emulator.jobs(dry_runs=True) == []
    assert ibm.qprim.submissions() == 0
    legacy = path.read_text() + "execution: {primitives: legacy}\n"
    path.write_text(legacy)
    manifest = ibm.qprim.run_json("run", path, "--out", "legacy")
    assert [job["program_id"] for job in ibm.jobs()] == ["estimator"]
    evs = load_run(ibm.qprim.cwd / "legacy").result[0].data.evs
    np.testing.assert_allclose(evs, [1.0, 1.0, -1.0], atol=0.06)
    assert manifest["backend"]["primitives"] == "legacy"


def test_the_client_side_estimator_gives_the_bell_state(ibm: IBM) -> None:
    manifest = ibm.qprim.run_json("run", ibm.write("est", ESTIMATOR), "--out", "out")
    evs = load_run(ibm.qprim.cwd / "out").result[0].data.evs
    np.testing.assert_allclose(evs, [1.0, 1.0, -1.0], atol=0.06)
    assert manifest["jobs"][0]["metrics"]["quantum_s"] > 0


def test_the_default_path_emits_no_deprecation_or_future_warning(
    ibm_emulator: RuntimeEmulator, tmp_path: Path, monkeypatch
) -> None:
    """Submit, wait, fetch, metrics, tag search and a batch, with the client's warnings
    of the kinds it deprecates with as errors: none is filtered anywhere in qprim."""
    from qiskit import QuantumCircuit
    from qiskit.primitives.containers.sampler_pub import SamplerPub
    from qiskit.transpiler import generate_preset_pass_manager

    account = IBMAccount(
        name="no-warnings",
        token=SecretStr(DEFAULT_TOKEN),
        instance=DEFAULT_CRN,
        url=ibm_emulator.url,
        iam_url=ibm_emulator.url,
    )
    for name, value in account.client_environment().items():
        monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("error", category)
        backend = IBMBackend(account, "fake_manila", seed=3)
        circuit = QuantumCircuit(2)
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.measure_all()
        isa = generate_preset_pass_manager(1, target=backend.target).run(circuit)
        request = JobRequest("sampler", [SamplerPub.coerce((isa, None, 100))], tags=("t-1",))
        batch = backend.open_group("batch", max_time=600)
        job_id = backend.submit(request, batch)
        data = backend.result(job_id, None, lambda status, queue=None: None)
        backend.close_group(batch)
        assert backend.metrics(job_id).quantum_s
        assert [found.job_id for found in backend.find_by_tag("t-1")] == [job_id]
        assert backend.status(job_id) is JobStatus.DONE
    assert b"BitArray" in data
    assert ibm_emulator.sessions()[0]["id"] == batch.id
