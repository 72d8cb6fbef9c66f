"""The Python API on IBM: PUBs built in Python run through a block with the real
qiskit-ibm-runtime client against the emulator, once, and the token stays out of
everything the program and Prefect show."""

from __future__ import annotations

import json

from tests.ibm.support import IBM, TOKEN
from tests.support import PrefectAPI

FLOW = """
import json
from prefect import flow
from prefect.runtime import flow_run
from qiskit import QuantumCircuit
import qprim
from qprim.tasks import fetch_result, submit_pubs

bell = QuantumCircuit(2)
bell.h(0)
bell.cx(0, 1)
bell.measure_all()
backend = {{"kind": "ibm", "block": "{block}", "name": "fake_manila", "seed": 5}}

@flow
def on_ibm():
    handle = submit_pubs([bell], backend=backend, shots=1000, name="py-bell")
    return flow_run.id, handle, fetch_result(handle)

run_id, handle, result = on_ibm()
saved = qprim.run_pubs([bell], backend=backend, shots=1000, name="py-bell", out="saved")
print(json.dumps({{
    "flow_run": run_id, "handle": repr(handle), "job_ids": handle.job_ids,
    "counts": result[0].data.meas.get_counts(),
    "saved": [saved.record.jobs[0].job_id, saved.record.jobs[0].submit],
    "saved_counts": saved.result[0].data.meas.get_counts(),
}}))
"""


def test_pubs_from_python_run_once_on_ibm_and_the_token_stays_hidden(
    ibm: IBM, prefect_api_url: str
) -> None:
    done = ibm.qprim.python(FLOW.format(block=ibm.block))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    (job,) = ibm.jobs()  # the task and run_pubs: the same work, one job at IBM
    assert found["job_ids"] == [job["id"]] and found["saved"] == [job["id"], "reused"]
    assert (
        set(found["counts"]) <= {"00", "11", "01", "10"} and sum(found["counts"].values()) == 1000
    )
    assert found["saved_counts"] == found["counts"]  # restored, not run again

    api = PrefectAPI(prefect_api_url)
    flow_run = found["flow_run"]
    lines = api.task_log_lines(flow_run)
    assert ("submit py-bell", f"py-bell: submitted {job['id']}") in lines
    shown = [api.flow_run(flow_run), api.task_runs(flow_run), api.logs(flow_run)]
    for text in (done.stdout, done.stderr, found["handle"], *map(json.dumps, shown)):
        assert TOKEN not in text and TOKEN[-10:] not in text
