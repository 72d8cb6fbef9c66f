"""Turn qiskit-ibm-runtime's exceptions into qprim's, deciding from the exceptions themselves.

The client often re-raises with `from None` (a 503 becomes a `RequestsApiError` whose
`status_code` is -1; cancel/metrics errors become `IBMRuntimeError`), so the HTTP
status is found by walking the exception's chain down to the `requests` exception.

A job that ended FAILED carries IBM's reason code, which the client puts in front of
the reason (`Error code 1010; ...`, `RuntimeJobV2._set_status`); the only code the
client itself acts on is 1305 (ran longer than `max_execution_time`: not transient, it
would run as long again). The codes qprim treats as transient are those IBM's error
registry (quantum.cloud.ibm.com/docs/errors) answers with "Retry the action" or "Try
to run the job again" and that describe the service, not the job: see
`TRANSIENT_JOB_CODES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from qprim.errors import (
    AuthError,
    InputError,
    JobFailedError,
    JobNotFoundError,
    PendingLimitReached,
    QprimError,
    TransientBackendError,
    TransientJobFailure,
)

TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
AUTH_STATUS = frozenset({401, 403})
# IBM's error code for "You have reached the limit of N pending jobs" (open plans).
PENDING_LIMIT_CODE = 3458
# A job that FAILED with one of these may succeed when submitted again (the registry's
# words): 1000 API internal error, 1006 error during call to converter microservice,
# 1008 error during the validation process of a job, 1010 error returned at backend
# level, 1011 error publishing job at the backend queue, 5203 failed to run job,
# 5204 error raised when execution on Aer failed.
TRANSIENT_JOB_CODES = frozenset({1000, 1006, 1008, 1010, 1011, 5203, 5204})
_REASON_CODE = re.compile(r"Error code (\d+)")


def failure(job_id: str, reason: str | None) -> JobFailedError:
    """A job that ended FAILED (`reason` from the client) or, with no reason, CANCELLED."""
    if reason is None:
        return JobFailedError(f"IBM job {job_id} was cancelled")
    message = f"IBM job {job_id} failed: {reason}"
    found = _REASON_CODE.search(reason)
    code = int(found.group(1)) if found else None
    if code in TRANSIENT_JOB_CODES:
        return TransientJobFailure(f"{message} (IBM marks error {code} transient)", code)
    return JobFailedError(message)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an exception, wherever the client buried it."""
    for link in exception_chain(exc):
        response = getattr(link, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status
        code = getattr(link, "status_code", None)
        if isinstance(code, int) and code > 0:
            return code
    return None


def error_codes(exc: BaseException) -> set[int]:
    """IBM's error codes (`{"errors": [{"code": N, ...}]}`) in any response on the chain."""
    codes: set[int] = set()
    for link in exception_chain(exc):
        response = getattr(link, "response", None)
        try:
            body = response.json() if response is not None else None
        except ValueError:
            continue
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                if isinstance(error, dict) and str(error.get("code", "")).isdigit():
                    codes.add(int(error["code"]))
    return codes


def is_connection_problem(exc: BaseException) -> bool:
    """Unreachable, timed out, or retried to exhaustion (urllib3's RetryError, e.g. 503s)."""
    import requests

    passing = (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.RetryError,
        ConnectionError,
        TimeoutError,
    )
    return any(isinstance(link, passing) for link in exception_chain(exc))


def classify(exc: BaseException, context: str) -> QprimError:
    """The qprim error for a client exception: permanent ones first, then transient ones."""
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.exceptions import (
        IBMAccountError,
        IBMInputValueError,
        IBMNotAuthorizedError,
        RuntimeInvalidStateError,
        RuntimeJobFailureError,
        RuntimeJobNotFound,
    )

    status = http_status(exc)
    message = f"{context}: {exc}"
    if PENDING_LIMIT_CODE in error_codes(exc):
        return PendingLimitReached(f"{context}: the instance has reached its pending-job limit")
    if isinstance(exc, IBMNotAuthorizedError | IBMAccountError) or status in AUTH_STATUS:
        return AuthError(f"{context}: IBM Quantum refused the credentials ({type(exc).__name__})")
    if isinstance(exc, IBMInputValueError):  # the client's own checks refused the input
        return InputError(message)
    if isinstance(exc, QiskitBackendNotFoundError):
        return AuthError(f"{context}: not available to this account and instance ({exc})")
    if isinstance(exc, RuntimeJobNotFound) or status == 404:
        return JobNotFoundError(message)
    if isinstance(exc, RuntimeJobFailureError | RuntimeInvalidStateError):
        return JobFailedError(message)
    if (status in TRANSIENT_STATUS) or is_connection_problem(exc):
        return TransientBackendError(message)
    return QprimError(message)


@contextmanager
def client_errors(context: str) -> Iterator[None]:
    """Run client calls; anything they raise leaves as a qprim error with an exit code."""
    try:
        yield
    except QprimError:
        raise
    except Exception as exc:
        raise classify(exc, context) from exc
