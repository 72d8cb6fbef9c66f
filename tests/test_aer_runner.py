"""Where an Aer job simulates: in the command's process, or in a worker process of its own.

A worker imports Qiskit and Aer before it simulates anything, so only a job that runs
longer than that gets one; small jobs run in-process, one at a time. The choice is made
from what the job runs (qubits, gates, points, shots, noise), never from a clock.
"""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from qprim.backends.aer import AerBackend, AerSettings
from qprim.backends.aer.effort import worth_a_worker
from qprim.backends.aer.execute import InProcess, WorkerPool
from qprim.backends.aer.store import AerJobStore
from qprim.plan.jobs import plan_workload
from qprim.plan.prepare import Preparer
from qprim.state import codec
from qprim.state.locks import file_lock
from qprim.state.storage import LocalStorage
from qprim.usecases.backends import AER_PROCESSES_ENV, aer_runner
from qprim.workload import load_workload
from tests.support import EXAMPLES, Qprim

# 1,000 points of 1,000 shots: longer to sample than a worker takes to start
BIG_SWEEP = """\
qprim: 1
name: big-sweep
primitive: sampler
backend: {kind: aer, seed: 99}
circuits:
  ry:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] theta;
      qubit[2] q;
      bit[2] c;
      ry(theta) q[0];
      cx q[0], q[1];
      c = measure q;
pubs:
  - circuit: ry
    shots: 1000
    parameters:
      theta: {linspace: [0, 3.14159265, 1000]}
"""
GHZ12 = (
    """\
qprim: 1
primitive: sampler
backend: {{kind: aer, name: fake_guadalupe, noise: {noise}}}
circuits:
  ghz:
    qasm2: |
      OPENQASM 2.0;
      include "qelib1.inc";
      qreg q[12];
      creg c[12];
      h q[0];
"""
    + "".join(f"      cx q[{i}], q[{i + 1}];\n" for i in range(11))
    + """\
      measure q -> c;
pubs:
  - circuit: ghz
    shots: 20000
"""
)


def stored_jobs(store: AerJobStore, workload_file: Path) -> list[str]:
    """The workload's jobs submitted to Aer as a run submits them: transpiled, stored."""
    workload = load_workload(workload_file)
    device = workload.backend.name or "aer_simulator"
    backend = AerBackend(AerSettings(device, workload.backend.noise, 1), store)
    preparer = Preparer()
    return [
        backend.submit(preparer.request(job, backend)[0]) for job in plan_workload(workload).jobs
    ]


def worth(store: AerJobStore, job_id: str) -> bool:
    job = store.get(job_id)
    assert job is not None
    return worth_a_worker(job.header, [tuple(pub) for pub in codec.decode(store.pubs_json(job))])


@pytest.fixture
def store(tmp_path: Path) -> AerJobStore:
    return AerJobStore(LocalStorage(tmp_path), partial(file_lock, tmp_path / "locks"))


def test_no_example_workload_is_worth_a_worker_but_a_long_one_is(
    store: AerJobStore, tmp_path: Path
) -> None:
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert len(examples) >= 8
    for example in examples:
        assert not any(worth(store, job) for job in stored_jobs(store, example)), example
    big = tmp_path / "big.yaml"
    big.write_text(BIG_SWEEP)
    assert [worth(store, job) for job in stored_jobs(store, big)] == [True]
    # noise makes every shot a simulation of its own: 12 qubits, 20,000 trajectories
    noisy = tmp_path / "noisy.yaml"
    noisy.write_text(GHZ12.format(noise="true"))
    assert [worth(store, job) for job in stored_jobs(store, noisy)] == [True]
    noisy.write_text(GHZ12.format(noise="false"))
    assert [worth(store, job) for job in stored_jobs(store, noisy)] == [False]


def test_one_job_runs_in_process_several_get_a_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AER_PROCESSES_ENV, raising=False)
    assert isinstance(aer_runner(1), InProcess)
    assert isinstance(aer_runner(3), WorkerPool)
    monkeypatch.setenv(AER_PROCESSES_ENV, "0")
    assert isinstance(aer_runner(3), InProcess)
    monkeypatch.setenv(AER_PROCESSES_ENV, "1")
    pool = aer_runner(3)
    assert isinstance(pool, WorkerPool) and pool.size == 1


def simulated(store: AerJobStore, job_id: str) -> dict[str, Any]:
    job = store.get(job_id)
    assert job is not None
    return store.state(job)


def test_a_pool_starts_a_worker_only_for_the_long_job(store: AerJobStore, tmp_path: Path) -> None:
    """Real Aer, a real worker process: the small jobs simulate in this process, the long
    one in a worker, and every one of them ends with its result."""
    big = tmp_path / "big.yaml"
    big.write_text(BIG_SWEEP)
    small = [
        *stored_jobs(store, EXAMPLES / "bell.yaml"),
        *stored_jobs(store, EXAMPLES / "ghz5.yaml"),
    ]
    (long_job,) = stored_jobs(store, big)
    pool = WorkerPool(2)
    try:
        for job_id in [*small, long_job]:
            pool.run(store, job_id, None, lambda: None)
    finally:
        pool.close()
    states = {job_id: simulated(store, job_id) for job_id in [*small, long_job]}
    assert {state["status"] for state in states.values()} == {"DONE"}
    assert [job_id for job_id, state in states.items() if "worker" in state] == [long_job]
    assert states[long_job]["worker"] != int(states[long_job]["runner"].split(":")[1])


def test_a_folder_of_small_workloads_starts_no_worker(qprim: Qprim, tmp_path: Path) -> None:
    """Through the command: a folder's small jobs all simulate in the command's process;
    a long one beside them goes to a worker process."""
    folder = tmp_path / "folder"
    folder.mkdir()
    for name in ("bell.yaml", "ghz5.yaml", "estimator.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    assert qprim.run("run", folder).returncode == 0
    states = job_states(qprim)
    assert len(states) == 3
    assert all(state["status"] == "DONE" and "worker" not in state for state in states.values())
    assert len({state["runner"] for state in states.values()}) == 1  # one process ran them

    (folder / "big.yaml").write_text(BIG_SWEEP)
    assert qprim.run("run", folder, "--refresh").returncode == 0
    ran = {job: state for job, state in job_states(qprim).items() if job not in states}
    assert len(ran) == 4 and all(state["status"] == "DONE" for state in ran.values())
    in_a_worker = [job for job, state in ran.items() if "worker" in state]
    assert [seed_of(qprim, job) for job in in_a_worker] == [99]  # the big sweep's


def job_states(qprim: Qprim) -> dict[str, dict[str, Any]]:
    """Each Aer job's state in the test's store, by job id."""
    return {
        job["job_id"]: json.loads(
            (qprim.home / "aer-jobs" / job["job_id"] / "state.json").read_text()
        )
        for job in qprim.aer_jobs()
    }


def seed_of(qprim: Qprim, job_id: str) -> int:
    return json.loads((qprim.home / "aer-jobs" / job_id / "job.json").read_text())["seed"]
