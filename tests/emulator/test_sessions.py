"""Batches and sessions with the real client: shared session ids, re-attach, close."""

from __future__ import annotations

from typing import Any

import pytest
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import Batch, EstimatorV2, SamplerV2, Session
from qiskit_ibm_runtime.exceptions import IBMInputValueError, IBMRuntimeError

from qprim.testing import QUEUE_TAG_PREFIX, RuntimeEmulator, runtime_service
from tests.emulator.emulator_helpers import bell, http, iam_token, isa


def _sampler(mode: Any, tags: list[str]) -> SamplerV2:
    sampler = SamplerV2(mode=mode)
    sampler.options.environment.job_tags = tags
    return sampler


def test_batch_jobs_share_one_session_id(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    backend = ibm_service.backend("fake_manila")
    circuit = isa(bell(), backend)
    with Batch(backend=backend) as batch:
        assert batch.status() == "Pending"  # no job started yet
        jobs = [_sampler(batch, [tag]).run([circuit], shots=10) for _ in range(2)]
        for job in jobs:
            assert job.result()[0].data.meas.get_counts()
        details = batch.details()
    assert details is not None
    assert (details["mode"], details["backend_name"], details["state"]) == (
        "batch",
        "fake_manila",
        "active",
    )
    created = ibm_emulator.jobs(tag=tag)
    assert [job["id"] for job in created] == [job.job_id() for job in jobs]
    assert {job["session_id"] for job in created} == {batch.session_id}
    assert batch.status() == "Closed"  # leaving `with` closed it and no job is pending
    [listed] = ibm_emulator.sessions()
    del listed["created"]
    assert listed == {
        "id": batch.session_id,
        "mode": "batch",
        "state": "closed",
        "accepting_jobs": False,
        "backend": "fake_manila",
        "max_ttl": 28800,  # the client sent none: IBM's default of 8 h
        "job_ids": [job.job_id() for job in jobs],
    }


def test_batch_from_id_reattaches_from_another_service(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    backend = ibm_service.backend("fake_manila")
    circuit = isa(bell(), backend)
    batch = Batch(backend=backend)
    first = _sampler(batch, [tag]).run([circuit], shots=10)
    fresh = runtime_service(ibm_emulator.url)  # as a new process would
    again = Batch.from_id(batch.session_id, fresh)
    assert again.session_id == batch.session_id
    second = _sampler(again, [tag]).run([circuit], shots=10)
    assert second.result()[0].data.meas.get_counts()
    created = ibm_emulator.jobs(tag=tag)
    assert [job["id"] for job in created] == [first.job_id(), second.job_id()]
    assert {job["session_id"] for job in created} == {batch.session_id}
    assert fresh.job(second.job_id()).session_id == batch.session_id  # GET /jobs/{id}
    again.close()
    first.result()
    assert batch.status() == "Closed"


def test_closed_batch_refuses_jobs_and_cancel_ends_it(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    backend = ibm_service.backend("fake_manila")
    circuit = isa(bell(), backend)
    batch = Batch(backend=backend)
    held = _sampler(batch, [tag, f"{QUEUE_TAG_PREFIX}60"]).run([circuit], shots=10)
    elsewhere = Batch.from_id(batch.session_id, runtime_service(ibm_emulator.url))
    batch.close()
    details = batch.details()
    assert details is not None and details["accepting_jobs"] is False
    assert details["state"] == "open"  # its job is still queued, so it is not closed yet
    with pytest.raises(IBMRuntimeError, match="Error code: 4001"):  # refused by the server
        _sampler(elsewhere, [tag]).run([circuit], shots=10)
    assert [job["id"] for job in ibm_emulator.jobs(tag=tag)] == [held.job_id()]
    batch.cancel()  # DELETE /sessions/{id}/close: cancels what is pending
    assert held.status() == "CANCELLED"
    assert batch.status() == "Closed"


def test_dedicated_session_with_estimator(
    ibm_emulator: RuntimeEmulator, ibm_service: Any, tag: str
) -> None:
    backend = ibm_service.backend("fake_manila")
    circuit = isa(bell(measure=False), backend)
    observable = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    with Session(backend=backend) as session:
        estimator = EstimatorV2(mode=session)
        estimator.options.environment.job_tags = [tag]
        result = estimator.run([(circuit, observable)]).result()
        assert float(result[0].data.evs) == pytest.approx(1.0, abs=0.1)
        assert session.status() == "In progress, accepting new jobs"
        with pytest.raises(IBMInputValueError, match="execution mode dedicated"):
            Batch.from_id(session.session_id, ibm_service)
    assert session.status() == "Closed"
    assert ibm_emulator.jobs(tag=tag)[0]["session_id"] == session.session_id
    assert [s["mode"] for s in ibm_emulator.sessions()] == ["dedicated"]
    with pytest.raises(IBMInputValueError, match="Session not found"):
        Session.from_id("emu-session-unknown", ibm_service)


def test_bad_session_requests_create_nothing(ibm_emulator_session: RuntimeEmulator, tag: str):
    url = f"{ibm_emulator_session.url}/api/v1"
    token = iam_token(ibm_emulator_session.url)
    bad_mode = {"mode": "exclusive", "backend": "fake_manila"}
    assert http(f"{url}/sessions", "POST", bad_mode, token=token)[0] == 400
    job = {"program_id": "sampler", "backend": "fake_manila", "params": {}, "tags": [tag]}
    unknown = {**job, "session_id": "emu-session-unknown"}
    assert http(f"{url}/jobs", "POST", unknown, token=token)[0] == 400
    opened = {"mode": "batch", "backend": "fake_manila"}
    status, session = http(f"{url}/sessions", "POST", opened, token=token)
    assert status == 200 and session["state"] == "open"
    other_backend = {**job, "backend": "fake_brisbane", "session_id": session["id"]}
    assert http(f"{url}/jobs", "POST", other_backend, token=token)[0] == 400
    assert ibm_emulator_session.jobs(tag=tag) == []
