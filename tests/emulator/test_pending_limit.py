"""IBM's open-plan pending-job limit: a submit over it creates nothing and says 3458."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from qiskit_ibm_runtime.exceptions import IBMRuntimeError

from qprim.testing import QUEUE_TAG_PREFIX, RuntimeEmulator, client_env, runtime_service
from qprim.testing.emulator_process import emulator_process
from tests.emulator.emulator_helpers import POST_JOBS, http, iam_token, run_bell

LIMIT_MESSAGE = (
    "You have reached the limit of 2 pending jobs. Please wait for a job to complete "
    "or cancel one before submitting anything new."
)


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> Iterator[RuntimeEmulator]:
    with RuntimeEmulator(seed=1234, max_pending_jobs=2) as emulator:
        for name, value in client_env(emulator.url).items():
            monkeypatch.setenv(name, value)
        yield emulator


def _error_body(error: BaseException) -> dict[str, Any]:
    """The JSON answer in the exception chain (`requests.HTTPError.response`)."""
    cause: BaseException | None = error
    while cause is not None:
        response = getattr(cause, "response", None)
        if response is not None:
            return response.json()
        cause = cause.__cause__ or cause.__context__
    raise AssertionError(f"no HTTP response in the chain of {error!r}")


def test_submit_over_the_limit_is_refused_until_a_job_finishes(
    limited: RuntimeEmulator, tag: str
) -> None:
    service = runtime_service(limited.url)
    held = [run_bell(service, tags=[tag, f"{QUEUE_TAG_PREFIX}2"], shots=10) for _ in range(2)]
    with pytest.raises(IBMRuntimeError, match="Error code: 3458") as refused:
        run_bell(service, tags=[tag], shots=10)
    body = _error_body(refused.value)
    assert body["errors"][0]["code"] == 3458
    assert body["errors"][0]["message"] == LIMIT_MESSAGE
    assert body["status_code"] == 400
    assert [job["id"] for job in limited.jobs(tag=tag)] == [job.job_id() for job in held]
    for job in held:
        job.result()
    assert run_bell(service, tags=[tag], shots=10).result()[0].data.meas.get_counts()
    assert len(limited.jobs(tag=tag)) == 3


def test_serve_cli_limit_and_admin_client(tag: str) -> None:
    """`qprim emulator serve --max-pending-jobs 1`, driven through `EmulatorClient`."""
    with emulator_process("--max-pending-jobs", "1") as emulator:
        emulator.add_fault("POST", POST_JOBS, 1, status=502, after_dispatch=True)
        token = iam_token(emulator.url)
        api = f"{emulator.url}/api/v1"
        status, batch = http(
            f"{api}/sessions", "POST", {"mode": "batch", "backend": "fake_manila"}, token=token
        )
        assert status == 200
        job = {
            "program_id": "sampler",
            "backend": "fake_manila",
            "params": {},
            "tags": [tag, f"{QUEUE_TAG_PREFIX}60"],
            "session_id": batch["id"],
        }
        assert http(f"{api}/jobs", "POST", job, token=token)[0] == 502  # created, then 502
        [created] = emulator.jobs(tag)
        assert (created["session_id"], created["status"]) == (batch["id"], "Queued")
        status, refused = http(f"{api}/jobs", "POST", job, token=token)
        assert (status, refused["errors"][0]["code"]) == (400, 3458)
        assert [j["id"] for j in emulator.jobs(tag)] == [created["id"]]
        [session] = emulator.sessions()
        assert (session["mode"], session["job_ids"]) == ("batch", [created["id"]])
