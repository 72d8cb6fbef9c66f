"""The Python API, as a person uses it: scripts in processes of their own (a notebook's
kernel, a pipeline step) calling `qprim.run`, `qprim.run_pubs` and the public Prefect
tasks inside their own `@flow`, against the session's Prefect server."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np

from qprim import load_run
from tests.support import EXAMPLES, REPO, PrefectAPI, Qprim

# A notebook cell: a circuit with a Parameter, built in Python, a sweep, the result read.
RY_SWEEP = """
import json
import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
import qprim

theta = Parameter("theta")
circuit = QuantumCircuit(1)
circuit.ry(theta, 0)
circuit.measure_all()
thetas = np.linspace(0, np.pi, 7)
run = qprim.run_pubs(
    [{pub}], backend={{"name": "aer_simulator", "seed": 7}}, name="ry-sweep", out="{out}"
)
bits = run.result[0].data.meas
print(json.dumps({{
    "p1": [bits.get_counts(i).get("1", 0) / bits.num_shots for i in range(len(thetas))],
    "path": str(run.path),
    "job": run.record.jobs[0].model_dump(),
    "digest": run.record.workload.digest,
}}))
"""


def ry_sweep(qprim: Qprim, pub: str, out: str) -> dict:
    done = qprim.python(RY_SWEEP.format(pub=pub, out=out))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_notebook_sweep_built_in_python_runs_and_reads_back(qprim: Qprim) -> None:
    first = ry_sweep(qprim, "(circuit, {theta: thetas}, 2000)", "sweep")
    thetas = np.linspace(0, np.pi, 7)
    assert np.allclose(first["p1"], np.sin(thetas / 2) ** 2, atol=0.05)
    saved = load_run(qprim.cwd / first["path"])  # a run folder like any other
    assert saved.record.pubs[0].parameters.names == ["theta"]
    assert np.allclose(np.ravel(saved.record.pubs[0].parameters.values), thetas)
    assert saved.record.pubs[0].shots == 2000
    shown = qprim.run("show", first["path"])
    assert shown.returncode == 0 and "theta=1.571" in shown.stdout, shown.stderr


def test_the_same_pubs_built_in_two_processes_are_one_job(qprim: Qprim) -> None:
    first = ry_sweep(qprim, "(circuit, {theta: thetas}, 2000)", "a")
    # another process, the values given another way: by name, as a list, one per row
    again = ry_sweep(qprim, '(circuit, {"theta": [[t] for t in thetas.tolist()]}, 2000)', "b")
    assert len(qprim.aer_jobs()) == 1
    assert (first["job"]["submit"], again["job"]["submit"]) == ("new", "reused")
    assert again["job"]["job_id"] == first["job"]["job_id"]
    assert again["digest"] == first["digest"] and again["p1"] == first["p1"]
    other = ry_sweep(qprim, "(circuit, {theta: thetas}, 1000)", "c")  # other shots: new work
    assert other["digest"] != first["digest"] and len(qprim.aer_jobs()) == 2


def test_an_estimator_sweep_with_observables_and_precision(qprim: Qprim) -> None:
    script = """
import json
import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
import qprim

t = Parameter("t")
circuit = QuantumCircuit(2)
circuit.ry(t, 0)
circuit.cx(0, 1)
observables = [["ZZ"], [SparsePauliOp.from_list([("ZI", 1.0), ("IZ", 1.0)])]]
run = qprim.run_pubs(
    [(circuit, observables, {t: np.linspace(0, np.pi, 5)})], primitive="estimator",
    precision=0.0, out="est",
)
print(json.dumps({"evs": run.result[0].data.evs.tolist(), "shape": run.record.pubs[0].shape}))
"""
    done = qprim.python(script)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    thetas = np.linspace(0, np.pi, 5)
    assert found["shape"] == [2, 5]
    assert np.allclose(found["evs"][0], 1.0)  # ZZ of the pair is always 1
    assert np.allclose(found["evs"][1], 2 * np.cos(thetas))  # <ZI + IZ> = 2 cos t


def test_bad_pubs_are_typed_input_errors_naming_the_pub_and_submit_nothing(qprim: Qprim) -> None:
    script = """
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
import qprim
from qprim.errors import InputError

theta = Parameter("theta")
unbound = QuantumCircuit(1)
unbound.ry(theta, 0)
unbound.measure_all()
unmeasured = QuantumCircuit(1)
unmeasured.h(0)
wide = QuantumCircuit(6)
wide.h(0)
wide.measure_all()
infinite = (unbound, {theta: [0.0, float("inf")]})
cases = [
    ([unbound], {}),
    ([(unbound, {theta: [0.1]}), unmeasured], {}),
    ([infinite], {}),
    ([wide], {"backend": "fake_manila"}),
]
for pubs, settings in cases:
    try:
        qprim.run_pubs(pubs, **settings)
    except InputError as exc:  # a WorkloadError: an InputError that says where
        print(type(exc).__name__, "|", exc)
"""
    done = qprim.python(script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 4, done.stdout
    assert lines[0].startswith("WorkloadError | pubs[0]: not a valid PUB: The number of values")
    assert lines[1].startswith("WorkloadError | pubs[1]: the circuit has no measurements")
    assert lines[2] == "WorkloadError | pubs[0]: parameter values must be finite numbers"
    assert "pubs[0]:" in lines[3] and "6 qubits" in lines[3] and "fake_manila" in lines[3]
    assert qprim.aer_jobs() == []


def test_run_returns_the_saved_run_and_failed_checks_raise_expectation_failed_with_it(
    qprim: Qprim,
) -> None:
    wrong = qprim.cwd / "wrong.yaml"
    wrong.write_text(
        (EXAMPLES / "bell.yaml")
        .read_text()
        .replace('counts: {"00": 0.5, "11": 0.5}', 'counts: {"00": 0.9, "11": 0.1}')
    )
    script = f"""
import qprim
from qprim.errors import ExpectationFailed, InputError

try:
    qprim.run({str(EXAMPLES)!r})
except InputError as exc:
    print("folder", exc)
run = qprim.run({str(EXAMPLES / "bell.yaml")!r}, out="good")
print("ok", run.path, sorted(run.result[0].data.c.get_counts()), len(run.record.expect))
try:
    qprim.run("wrong.yaml", out="bad")
except ExpectationFailed as failed:
    print("failed", failed.exit_code, failed.run.path, failed.run.record.failed_checks[0].detail)
    print("message", failed)
"""
    done = qprim.python(script)
    assert done.returncode == 0, done.stderr
    folder, ok, failed, message = done.stdout.strip().splitlines()[-4:]
    workloads = len(list(EXAMPLES.glob("*.yaml")))
    assert folder == f"folder {EXAMPLES} names {workloads} workloads: qprim.run takes one"
    assert ok == "ok good ['00', '11'] 1"
    _, code, path, detail = failed.split(" ", 3)
    assert (code, path) == ("6", "bad") and detail.startswith("TVD ")
    saved = load_run(qprim.cwd / "bad")  # saved all the same
    assert saved.record.failed_checks[0].detail == detail
    assert message == f"message bell: 1 of 1 checks failed: pub 0 counts: {detail}; saved to bad"


def test_a_run_given_up_raises_deadline_error_with_the_jobs_and_a_later_call_collects(
    qprim: Qprim, tmp_path
) -> None:
    script = f"""
import qprim
from qprim.errors import DeadlineError

try:
    qprim.run({str(EXAMPLES / "bell.yaml")!r}, timeout=2)
except DeadlineError as exc:
    print("gave up", " ".join(exc.job_ids))
"""
    stalled = {"QPRIM_FAULT_PAUSE": f"fetched:{tmp_path / 'marker'}"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=qprim.cwd,
        env={**qprim.env, **stalled},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (job,) = qprim.aer_jobs()
    assert done.stdout.strip().splitlines()[-1] == f"gave up {job['job_id']}"
    later = qprim.python(
        f"import qprim; print(qprim.run({str(EXAMPLES / 'bell.yaml')!r}).record.job_ids)"
    )
    assert later.returncode == 0, later.stderr
    assert later.stdout.strip().splitlines()[-1] == repr([job["job_id"]])


USER_FLOW = """
import json
import numpy as np
from prefect import flow
from prefect.runtime import flow_run
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qprim.tasks import fetch_result, submit_pubs

@flow
def my_experiment(points: int):
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    circuit.measure_all()
    handle = submit_pubs(
        [(circuit, {"theta": np.linspace(0, np.pi, points)})], shots=500,
        backend={"name": "aer_simulator", "seed": 3}, name="my-ry",
    )
    result = fetch_result(handle)
    return flow_run.id, handle, result

run_id, handle, result = my_experiment(4)
bits = result[0].data.meas
print(json.dumps({
    "flow_run": run_id, "job_ids": handle.job_ids, "reused": handle.reused,
    "p1": [bits.get_counts(i).get("1", 0) / 500 for i in range(4)],
}))
"""


def test_the_public_tasks_inside_a_users_flow_submit_once_across_flow_runs(
    qprim: Qprim, prefect_api_url: str
) -> None:
    outputs = []
    for _ in range(2):  # two flow runs, two processes
        done = qprim.python(USER_FLOW)
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = outputs
    assert len(qprim.aer_jobs()) == 1
    assert first["job_ids"] == second["job_ids"] and len(first["job_ids"]) == 1
    assert (first["reused"], second["reused"]) == (False, True)
    assert np.allclose(first["p1"], np.sin(np.linspace(0, np.pi, 4) / 2) ** 2, atol=0.1)
    assert second["p1"] == first["p1"]  # restored from the result store, not run again

    api = PrefectAPI(prefect_api_url)
    (job_id,) = first["job_ids"]
    assert ("submit my-ry", f"my-ry: submitted {job_id}") in api.task_log_lines(first["flow_run"])
    lines = api.task_log_lines(second["flow_run"])
    assert ("submit my-ry", f"my-ry: reused {job_id}: recorded in the journal") in lines
    assert ("fetch my-ry", f"my-ry: cached {job_id}: restored from the result store") in lines


def test_importing_qprim_stays_light_and_help_shows_the_api() -> None:
    probe = (
        "import pydoc, sys, qprim\n"
        "print(','.join(m for m in ('prefect', 'qiskit', 'numpy') if m in sys.modules))\n"
        "print(pydoc.render_doc(qprim, renderer=pydoc.plaintext))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    heavy, helped = done.stdout.split("\n", 1)
    assert heavy == ""
    for function in ("load_run(path", "run(workload", "run_pubs(pubs"):  # help(qprim)
        assert re.search(rf"^    {re.escape(function)}", helped, re.M), helped
    assert "Run PUBs built in Python" in helped and "Python API" in helped


def test_the_docs_python_example_runs_and_a_second_run_reuses_the_job(qprim: Qprim) -> None:
    page = (REPO / "docs" / "python-api.md").read_text()
    section = page.split("# Python API\n", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    runs = []
    for _ in range(2):
        done = qprim.python(example)
        assert done.returncode == 0, done.stderr
        p1, where = done.stdout.strip().splitlines()[-2:]
        runs.append((json.loads(p1), where.split()))
    (p1, (_, job_id, submit)), (again, (_, same_id, resubmit)) = runs
    assert np.allclose(p1, np.sin(np.linspace(0, np.pi, 5) / 2) ** 2, atol=0.05)
    assert (same_id, submit, resubmit, again) == (job_id, "new", "reused", p1)
