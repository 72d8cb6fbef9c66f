"""Fault injection: HTTP faults through the admin API, job faults through tags."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeEncoder
from qiskit_ibm_runtime.exceptions import (
    IBMNotAuthorizedError,
    IBMRuntimeError,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobTimeoutError,
)

from qprim.testing import (
    CANCEL_TAG,
    FAIL_TAG,
    INVALID_TOKEN,
    QUEUE_TAG_PREFIX,
    RuntimeEmulator,
    client_settings,
    runtime_service,
)
from tests.emulator.emulator_helpers import POST_JOBS, http, iam_token, run_bell, wait_for


def test_503_on_submit_is_retried_by_the_client(ibm_emulator: Any, ibm_service: Any, tag: str):
    ibm_emulator.add_fault("POST", POST_JOBS, count=3, status=503)
    job = run_bell(ibm_service, tags=[tag])
    assert job.result()[0].data.meas.get_counts()
    assert len(ibm_emulator.jobs(tag=tag)) == 1


def test_lost_response_on_submit_leaves_a_findable_job(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    ibm_emulator.add_fault("POST", POST_JOBS, count=1, lose_response=True)
    with pytest.raises(IBMRuntimeError):
        run_bell(ibm_service, tags=[tag])
    status, admin = http(f"{ibm_emulator.url}/__admin__/jobs?tag={tag}")
    assert status == 200 and len(admin) == 1
    assert [j.job_id() for j in ibm_service.jobs(job_tags=[tag])] == [admin[0]["id"]]


def test_502_after_dispatch_leaves_two_jobs_for_one_submission(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    """The service creates the job, then answers 502; the client retries the POST, which
    creates a second job, and keeps the id from the retry: one run, two jobs at IBM."""
    ibm_emulator.add_fault("POST", POST_JOBS, count=1, status=502, after_dispatch=True)
    job = run_bell(ibm_service, tags=[tag], shots=10)
    created = ibm_emulator.jobs(tag=tag)
    assert len(created) == 2
    assert job.job_id() == created[1]["id"]
    assert job.result()[0].data.meas.get_counts()


def test_delay_after_dispatch_holds_the_answer_of_a_created_job(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    ibm_emulator.add_fault("POST", POST_JOBS, count=1, delay=2.0, after_dispatch=True)
    submitted, thread = _submit_in_thread(ibm_service, tag)
    wait_for(lambda: ibm_emulator.jobs(tag=tag) != [])
    thread.join(timeout=1.0)
    assert thread.is_alive() and not submitted  # the job exists, the client has no id yet
    thread.join(timeout=10)
    assert [job["id"] for job in ibm_emulator.jobs(tag=tag)] == [submitted[0].job_id()]


def test_plain_delay_holds_the_request_before_any_job_exists(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    ibm_emulator.add_fault("POST", POST_JOBS, count=1, delay=2.0)
    submitted, thread = _submit_in_thread(ibm_service, tag)
    wait_for(lambda: not ibm_emulator.faults.list())  # the request took the fault and waits
    assert ibm_emulator.jobs(tag=tag) == []
    thread.join(timeout=10)
    assert [job["id"] for job in ibm_emulator.jobs(tag=tag)] == [submitted[0].job_id()]


def _submit_in_thread(service: Any, tag: str) -> tuple[list[Any], threading.Thread]:
    submitted: list[Any] = []
    thread = threading.Thread(
        target=lambda: submitted.append(run_bell(service, tags=[tag], shots=10))
    )
    thread.start()
    return submitted, thread


def test_fail_tag_raises_job_failure_with_reason(ibm_service: Any, tag: str) -> None:
    job = run_bell(ibm_service, tags=[tag, FAIL_TAG])
    with pytest.raises(RuntimeJobFailureError, match="Injected failure"):
        job.result()
    assert job.status() == "ERROR"


def test_cancel_tag_cancels(ibm_service: Any, tag: str) -> None:
    job = run_bell(ibm_service, tags=[tag, CANCEL_TAG])
    with pytest.raises(RuntimeInvalidStateError, match="cancelled"):
        job.result()
    assert job.status() == "CANCELLED"


def test_queue_tag_holds_the_job(ibm_service: Any, tag: str) -> None:
    job = run_bell(ibm_service, tags=[tag, f"{QUEUE_TAG_PREFIX}2"])
    with pytest.raises(RuntimeJobTimeoutError):
        job.result(timeout=1)
    assert job.status() == "QUEUED"
    assert job.result(timeout=10)[0].data.meas.get_counts()


def test_client_cancel_of_a_queued_job(ibm_service: Any, tag: str) -> None:
    job = run_bell(ibm_service, tags=[tag, f"{QUEUE_TAG_PREFIX}30"])
    job.cancel()
    assert job.status() == "CANCELLED"


def test_bad_token_is_not_authorized(ibm_emulator: RuntimeEmulator, ibm_service: Any) -> None:
    service = runtime_service(ibm_emulator.url, token=INVALID_TOKEN)  # construction swallows 401
    with pytest.raises(QiskitBackendNotFoundError):
        service.backend("fake_manila")
    with pytest.raises(IBMNotAuthorizedError):
        service.jobs()


def test_settings_work_with_url_resolver(ibm_emulator: RuntimeEmulator, ibm_service: Any) -> None:
    """The documented alternative: plain base URL plus a url_resolver."""
    settings = client_settings(ibm_emulator.url)
    service = QiskitRuntimeService(
        channel=settings["channel"],
        token=settings["token"],
        url=ibm_emulator.url,
        instance=settings["instance"],
        url_resolver=lambda *_a, **_k: settings["api_url"],
    )
    assert service.backend("fake_manila").num_qubits == 5


def test_delay_fault_slows_a_request(ibm_emulator: RuntimeEmulator, ibm_service: Any) -> None:
    backend = ibm_service.backend("fake_manila")
    ibm_emulator.add_fault("GET", r"/backends/fake_manila/status$", count=1, delay=1.0)
    started = time.monotonic()
    assert backend.status().operational
    assert time.monotonic() - started >= 1.0


def test_429_with_retry_after_is_retried(ibm_emulator: RuntimeEmulator, ibm_service: Any):
    backend = ibm_service.backend("fake_manila")
    ibm_emulator.add_fault("GET", r"/backends/fake_manila/status$", count=1, status=429)
    assert backend.status().operational


def test_stop_returns_promptly_with_a_hung_request() -> None:
    emulator = RuntimeEmulator()
    url = emulator.start()
    emulator.add_fault("GET", r"^/api/v1/backends$", count=1, delay=3600)
    outcome: list[Any] = []
    hung = threading.Thread(target=lambda: outcome.append(_try_http(f"{url}/api/v1/backends")))
    hung.start()
    wait_for(lambda: not emulator.faults.list())  # the hung request consumed the fault
    assert http(f"{url}/__admin__/health") == (200, {"ok": True})  # others still served
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 2.0
    hung.join(timeout=5)
    assert not hung.is_alive() and isinstance(outcome[0], Exception)


def _try_http(url: str) -> Any:
    try:
        return http(url)
    except Exception as exc:
        return exc


def test_admin_api_and_server_side_width_check(ibm_emulator_session: RuntimeEmulator, tag: str):
    url = ibm_emulator_session.url
    fault = {"method": "GET", "path": "^/api/v1/backends$", "count": 2, "status": 502}
    assert http(f"{url}/__admin__/faults", "POST", fault)[0] == 201
    assert http(f"{url}/__admin__/faults")[1][0]["count"] == 2
    assert http(f"{url}/api/v1/backends")[0] == 502
    assert http(f"{url}/__admin__/faults", "DELETE")[0] == 204
    assert http(f"{url}/__admin__/faults")[1] == []
    half = {"method": "POST", "path": POST_JOBS, "count": 1, "after_dispatch": True}
    assert http(f"{url}/__admin__/faults", "POST", half)[0] == 400  # needs status or delay
    assert http(f"{url}/api/v1/backends")[0] == 401  # no token
    token = iam_token(url)
    wide = QuantumCircuit(6)
    wide.h(range(6))
    wide.measure_all()
    params = {"pubs": [(wide,)], "options": {}, "version": 2}
    params = json.loads(json.dumps(params, cls=RuntimeEncoder))
    body = {"program_id": "sampler", "backend": "fake_manila", "params": params, "tags": [tag]}
    status, created = http(f"{url}/api/v1/jobs", "POST", body, token=token)
    assert status == 200
    wait_for(lambda: ibm_emulator_session.jobs(tag=tag)[0]["status"] == "Failed")
    assert "6 qubits" in ibm_emulator_session.jobs(tag=tag)[0]["reason"]
    status, listed = http(f"{url}/api/v1/jobs?tags={tag}&limit=1", token=token)
    assert listed["count"] == 1 and listed["jobs"][0]["id"] == created["id"]
    assert http(f"{url}/api/v1/jobs/nope", token=token)[0] == 404


def test_forward_proxy_mode(ibm_emulator: RuntimeEmulator, monkeypatch: pytest.MonkeyPatch):
    """Client URLs left as on IBM Cloud, routed to the emulator as an HTTP proxy."""
    monkeypatch.setenv("IAM_URL", "http://iam.cloud.fake")
    monkeypatch.setenv("QISKIT_FUNCTIONS_EXPERIMENTAL", "1")
    service = QiskitRuntimeService(
        channel="ibm_quantum_platform",
        token="any-key",
        url="http://cloud.fake",
        instance=client_settings(ibm_emulator.url)["instance"],
        proxies={"urls": {"http": ibm_emulator.url}},
    )
    assert service.backend("fake_manila").num_qubits == 5
