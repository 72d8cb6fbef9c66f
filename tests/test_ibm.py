"""The IBM path for real: qprim's CLI, the real qiskit-ibm-runtime client, a real Prefect
block holding the credentials, and the loopback emulator (`qprim emulator serve`, in its
own process) executing jobs on Aer."""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qprim import load_run
from qprim.testing import DEFAULT_CRN
from qprim.testing.emulator_process import EmulatorClient, emulator_process
from tests.support import Qprim

TOKEN = "qprim-secret-TOKEN-7c1d9e4b2a"
BELL_QASM = """\
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q;
      bit[2] c;
      h q[0];
      cx q[0], q[1];
      c = measure q;
"""


@dataclass
class IBM:
    qprim: Qprim
    emulator: EmulatorClient
    block: str

    def workload(
        self,
        name: str,
        *,
        device: str = "fake_manila",
        tags: list[str] = (),
        shots: int = 2000,
        estimator: bool = False,
    ) -> Path:
        path = self.qprim.cwd / f"{name}.yaml"
        qasm = BELL_QASM.replace("      c = measure q;\n", "") if estimator else BELL_QASM
        load = "    observables: [ZZ, XX]\n" if estimator else f"    shots: {shots}\n"
        path.write_text(
            "qprim: 1\n"
            f"primitive: {'estimator' if estimator else 'sampler'}\n"
            f"backend: {{kind: ibm, block: {self.block}, name: {device}, seed: 11}}\n"
            f"tags: {json.dumps(list(tags))}\n"
            "circuits:\n  bell:\n    qasm3: |\n" + qasm + "pubs:\n  - circuit: bell\n" + load
        )
        return path

    def jobs(self) -> list[dict]:
        return self.emulator.jobs()


def create_block(
    qprim: Qprim,
    emulator: EmulatorClient,
    prefix: str,
    token_env: str,
    env: dict[str, str] | None = None,
) -> str:
    """`qprim blocks create ibm` pointing at the emulator, through the real CLI."""
    block = f"{prefix}-{uuid.uuid4().hex[:8]}"
    done = qprim.run(
        "blocks",
        "create",
        "ibm",
        block,
        "--instance",
        DEFAULT_CRN,
        "--token-env",
        token_env,
        "--url",
        emulator.url,
        "--iam-url",
        emulator.url,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return block


@pytest.fixture
def emulator() -> Iterator[EmulatorClient]:
    with emulator_process("--seed", "1234") as client:
        yield client


@pytest.fixture
def ibm(qprim: Qprim, emulator: EmulatorClient) -> IBM:
    """A block pointing at the emulator, created through the real CLI."""
    qprim.env["QPRIM_TEST_IBM_TOKEN"] = TOKEN
    block = create_block(qprim, emulator, "emu", "QPRIM_TEST_IBM_TOKEN")
    return IBM(qprim, emulator, block)


def sampler_counts(run_dir: Path) -> dict[str, int]:
    return load_run(run_dir).result[0].data.c.get_counts()


def test_sampler_on_fake_manila_then_rerun_and_fetch(ibm: IBM) -> None:
    workload = ibm.workload("bell")
    first = ibm.qprim.run_json("run", workload, "--out", "first")
    counts = sampler_counts(ibm.qprim.cwd / "first")
    assert set(counts) == {"00", "11"} and abs(counts["00"] / 2000 - 0.5) < 0.05
    job_id = first["jobs"][0]["job_id"]
    assert [job["id"] for job in ibm.jobs()] == [job_id]
    assert first["jobs"][0]["metrics"]["quantum_s"] is not None
    assert first["backend"]["kind"] == "ibm" and first["backend"]["name"] == "fake_manila"

    rerun = ibm.qprim.run_json("run", workload, "--out", "rerun")
    assert (rerun["jobs"][0]["submit"], rerun["jobs"][0]["result"]) == ("reused", "cached")
    assert len(ibm.jobs()) == 1

    fetched = ibm.qprim.run_json(
        "fetch",
        job_id,
        "--out",
        "fetched",
        env={"PREFECT_LOCAL_STORAGE_PATH": str(ibm.qprim.cwd / "empty-cache")},
    )
    assert fetched["jobs"][0]["result"] == "fetched"
    assert sampler_counts(ibm.qprim.cwd / "fetched") == counts
    assert len(ibm.jobs()) == 1


def test_estimator_on_127_qubit_device_maps_observables_through_the_layout(ibm: IBM) -> None:
    workload = ibm.workload("bell-est", device="fake_brisbane", estimator=True)
    manifest = ibm.qprim.run_json("run", workload, "--out", "out")
    evs = load_run(ibm.qprim.cwd / "out").result[0].data.evs
    np.testing.assert_allclose(evs, [1.0, 1.0], atol=0.1)  # default precision 1/64
    assert manifest["pubs"][0]["depth"] > 2
    assert ibm.jobs()[0]["backend"] == "fake_brisbane"


def test_three_503s_on_submit_make_one_job(ibm: IBM) -> None:
    ibm.emulator.add_fault("POST", r"^/api/v1/jobs$", 3, status=503)
    manifest = ibm.qprim.run_json("run", ibm.workload("bell"), "--out", "out")
    assert manifest["jobs"][0]["submit"] == "new"
    assert len(ibm.jobs()) == 1


def test_status_503s_past_the_clients_retries_are_retried_by_fetch(ibm: IBM) -> None:
    # the client retries five times by itself; the sixth 503 reaches qprim's fetch task
    ibm.emulator.add_fault("GET", r"^/api/v1/jobs/[^/]+$", 7, status=503)
    started = time.monotonic()
    manifest = ibm.qprim.run_json("run", ibm.workload("bell"), "--out", "out")
    assert manifest["jobs"][0]["status"] == "DONE"
    assert len(ibm.jobs()) == 1
    assert time.monotonic() - started > 10  # the client really did exhaust its retries


def test_lost_response_on_submit_attaches_to_the_created_job(ibm: IBM) -> None:
    ibm.emulator.add_fault("POST", r"^/api/v1/jobs$", 1, lose_response=True)
    workload = ibm.workload("bell")
    first = ibm.qprim.run_json("run", workload, "--out", "first")
    rerun = ibm.qprim.run_json("run", workload, "--out", "rerun")
    jobs = ibm.jobs()
    assert len(jobs) == 1, jobs
    assert first["jobs"][0]["job_id"] == rerun["jobs"][0]["job_id"] == jobs[0]["id"]
    assert rerun["jobs"][0]["submit"] == "reused"


def test_a_failed_job_exits_3_with_the_reason(ibm: IBM) -> None:
    done = ibm.qprim.run("run", ibm.workload("bell", tags=["qprim-fault:fail"]))
    assert done.returncode == 3, done.stderr
    assert "Injected failure" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_token_exits_4(ibm: IBM) -> None:
    ibm.block = create_block(ibm.qprim, ibm.emulator, "bad", "BAD", env={"BAD": "bad-token"})
    done = ibm.qprim.run("run", ibm.workload("bell"))
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert ibm.jobs() == []


def test_a_hung_endpoint_exits_5_within_the_deadline(ibm: IBM) -> None:
    ibm.emulator.add_fault("GET", r"^/api/v1/jobs/[^/]+$", 1, delay=3600)
    started = time.monotonic()
    done = ibm.qprim.run("run", ibm.workload("bell"), "--timeout", "20")
    elapsed = time.monotonic() - started
    assert done.returncode == 5, done.stderr
    job_id = ibm.jobs()[0]["id"]
    assert f"qprim fetch {job_id}" in done.stderr
    assert elapsed < 60


def test_a_queue_longer_than_the_timeout_exits_5_then_fetch_gets_it(ibm: IBM) -> None:
    done = ibm.qprim.run(
        "run", ibm.workload("bell", tags=["qprim-fault:queue=25"]), "--timeout", "12"
    )
    assert done.returncode == 5, done.stderr
    job_id = re.search(r"qprim fetch (\S+)", done.stderr).group(1)
    assert job_id == ibm.jobs()[0]["id"]
    fetched = ibm.qprim.run_json("fetch", job_id, "--out", "later", "--timeout", "120")
    assert fetched["jobs"][0]["status"] == "DONE"
    assert set(sampler_counts(ibm.qprim.cwd / "later")) == {"00", "11"}
    assert len(ibm.jobs()) == 1


def test_fetch_with_block_works_for_a_job_this_machine_never_ran(ibm: IBM, tmp_path: Path) -> None:
    manifest = ibm.qprim.run_json("run", ibm.workload("bell"), "--out", "run")
    job_id = manifest["jobs"][0]["job_id"]
    elsewhere = {
        "QPRIM_HOME": str(tmp_path / "other-machine"),
        "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "other-cache"),
    }
    unknown = ibm.qprim.run("fetch", job_id, env=elsewhere)
    assert unknown.returncode == 2 and "--block" in unknown.stderr
    fetched = ibm.qprim.run_json("fetch", job_id, "--block", ibm.block, "--out", "b", env=elsewhere)
    assert fetched["jobs"][0]["result"] == "fetched"
    assert sampler_counts(ibm.qprim.cwd / "b") == sampler_counts(ibm.qprim.cwd / "run")


def test_the_token_appears_nowhere(ibm: IBM, prefect_api_url: str, tmp_path: Path) -> None:
    """Run, rerun, fetch, fail, list and show; then search every output, every file qprim
    or Prefect wrote, and everything the Prefect API holds for those runs."""
    import httpx

    secret_parts = (TOKEN, TOKEN[-16:], TOKEN[-10:])
    outputs = [
        ibm.qprim.run("run", ibm.workload("bell"), "--out", "a", "--json"),
        ibm.qprim.run("run", ibm.workload("bell"), "--out", "b", "-v"),
        ibm.qprim.run("run", ibm.workload("f", shots=999, tags=["qprim-fault:fail"]), "-v"),
        ibm.qprim.run("blocks", "ls"),
        ibm.qprim.run("blocks", "show", ibm.block, "--json"),
    ]
    job_id = json.loads(outputs[0].stdout)["jobs"][0]["job_id"]
    outputs.append(ibm.qprim.run("fetch", job_id, "--out", "c", "-v"))
    assert [o.returncode for o in outputs] == [0, 0, 3, 0, 0, 0], [o.stderr for o in outputs]

    texts = [o.stdout + o.stderr for o in outputs]
    for folder in (
        ibm.qprim.cwd,
        ibm.qprim.home,
        Path(ibm.qprim.env["PREFECT_LOCAL_STORAGE_PATH"]),
        Path(ibm.qprim.env["PREFECT_HOME"]),
    ):
        texts += [p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file()]
    with httpx.Client(base_url=prefect_api_url, timeout=30) as api:
        flow_runs = api.post("/flow_runs/filter", json={"limit": 200}).json()
        run_ids = [run["id"] for run in flow_runs]
        texts.append(json.dumps(flow_runs))
        for path in ("/task_runs/filter", "/logs/filter", "/artifacts/filter"):
            texts.append(api.post(path, json={"limit": 200}).text)
    assert run_ids, "no flow runs recorded"
    assert any("fetch" in text for text in texts[-3:])  # the API searches returned records
    for part in secret_parts:
        leaks = [text[max(0, i - 60) : i + 60] for text in texts if (i := text.find(part)) >= 0]
        assert not leaks, f"{part!r} leaked: {leaks[:3]}"


def test_ctrl_c_leaves_the_job_running_and_says_how_to_fetch_it(ibm: IBM) -> None:
    victim = ibm.qprim.popen("run", ibm.workload("bell", tags=["qprim-fault:queue=60"]))
    deadline = time.monotonic() + 120
    while not ibm.jobs():
        assert victim.poll() is None, victim.communicate()
        assert time.monotonic() < deadline, "no job was submitted"
        time.sleep(0.3)
    time.sleep(1)
    victim.send_signal(signal.SIGINT)
    _, stderr = victim.communicate(timeout=60)
    job = ibm.jobs()[0]
    assert victim.returncode == 130, stderr
    assert f"qprim fetch {job['id']}" in stderr
    assert job["status"] == "Queued"  # not cancelled: the work goes on
    assert "Traceback" not in stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the client's own SamplerV2
def test_two_live_jobs_with_one_tag_stop_the_run_and_the_later_queued_one_is_cancelled(
    ibm: IBM, tmp_path: Path
) -> None:
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2

    from qprim.testing.emulator import runtime_service

    workload = ibm.workload("bell")
    first = ibm.qprim.run_json("run", workload, "--out", "first")
    tag = json.loads(ibm.qprim.run("jobs", "--json").stdout)[0]["tag"]
    # someone else's submission of the same work, with the same tag, still queued
    backend = runtime_service(ibm.emulator.url).backend("fake_manila")
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    isa = generate_preset_pass_manager(0, backend=backend).run(circuit)
    sampler = SamplerV2(mode=backend)
    sampler.options.environment.job_tags = [tag, "qprim-fault:queue=120"]
    duplicate = sampler.run([isa]).job_id()

    new_machine = {"QPRIM_HOME": str(tmp_path / "new-machine")}
    stopped = ibm.qprim.run("run", workload, env=new_machine)
    assert stopped.returncode == 3, stopped.stderr
    assert "2 jobs carry tag" in stopped.stderr and duplicate in stopped.stderr
    statuses = {job["id"]: job["status"] for job in ibm.jobs()}
    assert statuses == {first["jobs"][0]["job_id"]: "Completed", duplicate: "Cancelled"}

    again = ibm.qprim.run_json("run", workload, "--out", "again", env=new_machine)
    assert again["jobs"][0]["job_id"] == first["jobs"][0]["job_id"]
    assert again["jobs"][0]["submit"] == "reused"


def test_without_a_block_qiskit_finds_the_account_itself(ibm: IBM) -> None:
    from qprim.testing.emulator import client_settings

    settings = client_settings(ibm.emulator.url, token=TOKEN)
    account = {
        "QISKIT_IBM_TOKEN": TOKEN,
        "QISKIT_IBM_URL": settings["url"],
        "QISKIT_IBM_INSTANCE": settings["instance"],
        "QISKIT_IBM_CHANNEL": settings["channel"],
        **settings["env"],
    }
    workload = ibm.workload("bell")
    workload.write_text(workload.read_text().replace(f"block: {ibm.block}, ", ""))
    manifest = ibm.qprim.run_json("run", workload, "--out", "out", env=account)
    assert manifest["backend"]["block"] is None
    assert [job["id"] for job in ibm.jobs()] == [manifest["jobs"][0]["job_id"]]
