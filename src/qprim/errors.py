"""The exceptions that end a qprim command, each tied to its exit code (spec section 4)."""

from __future__ import annotations


class QprimError(Exception):
    """An expected failure: printed as one message, no traceback, with `exit_code`."""

    exit_code = 1


class InputError(QprimError):
    """Invalid input or usage: a workload, a flag, an unknown block or job."""

    exit_code = 2


class JobFailedError(QprimError):
    """The job failed or was cancelled at the backend."""

    exit_code = 3


class AuthError(QprimError):
    """Authentication or configuration error: bad token, unknown instance or device."""

    exit_code = 4


class DeadlineError(QprimError):
    """Gave up waiting; the job may still run and can be fetched later."""

    exit_code = 5

    def __init__(self, message: str, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class ExpectationFailed(QprimError):
    """The run succeeded but an `expect:` check failed."""

    exit_code = 6


class TransientBackendError(QprimError):
    """A failure worth retrying: the backend was unreachable, overloaded or slow."""

    exit_code = 1


EXIT_INTERRUPTED = 130
