"""Client exceptions become qprim errors by their type and HTTP status, never their text."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import (
    IBMNotAuthorizedError,
    IBMRuntimeError,
    RuntimeJobFailureError,
    RuntimeJobNotFound,
)

from qprim.backends.ibm.errors import classify
from qprim.deadline import call_before
from qprim.errors import (
    AuthError,
    DeadlineError,
    JobFailedError,
    JobNotFoundError,
    QprimError,
    TransientBackendError,
)


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} error", response=response)


def raised_like_the_client(status: int) -> BaseException:
    """The client's pattern: `raise RequestsApiError(...)` inside `except HTTPError`, then
    `raise IBMRuntimeError(...) from None` one level up (the status survives as context)."""
    try:
        try:
            try:
                raise http_error(status)
            except requests.HTTPError:
                raise RequestsApiError("Unexpected response received from server") from None
        except RequestsApiError:
            raise IBMRuntimeError("Failed to retrieve job") from None
    except IBMRuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (IBMNotAuthorizedError("401"), AuthError),
        (RequestsApiError("forbidden", 403), AuthError),
        (RuntimeJobNotFound("no such job"), JobNotFoundError),
        (RuntimeJobFailureError("it failed"), JobFailedError),
        (raised_like_the_client(503), TransientBackendError),
        (raised_like_the_client(429), TransientBackendError),
        (raised_like_the_client(400), QprimError),
        (RequestsApiError("bad gateway", 502), TransientBackendError),
        (requests.exceptions.RetryError("too many 503 error responses"), TransientBackendError),
        (requests.ConnectionError("refused"), TransientBackendError),
        (IBMRuntimeError("server said 503 Service Unavailable"), QprimError),  # text only
    ],
    ids=[
        "401",
        "403",
        "not-found",
        "job-failed",
        "503-hidden",
        "429-hidden",
        "400",
        "502",
        "retries-exhausted",
        "connection",
        "503-in-text-only",
    ],
)
def test_classify(exc: BaseException, expected: type[QprimError]) -> None:
    assert type(classify(exc, "doing it")) is expected


def test_call_before_gives_up_at_the_deadline_on_a_hung_call() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(DeadlineError) as info:
        call_before(time.time() + 0.5, lambda: release.wait(30), "a hung call", "job-1")
    assert time.monotonic() - started < 5
    assert info.value.job_ids == ("job-1",)
    release.set()
    assert call_before(time.time() + 5, lambda: 42, "a quick call") == 42
