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


class Interrupted(QprimError):
    """Ctrl-C: qprim stops waiting; a submitted job keeps running at the backend."""

    exit_code = 130

    def __init__(self, job_id: str | None = None) -> None:
        super().__init__("interrupted")
        self.job_id = job_id


ISSUES_URL = "https://github.com/qprim/qprim/issues"


def describe_failure(exc: BaseException) -> tuple[int, str]:
    """Exit code and the message a user sees for any exception that ends a command."""
    if isinstance(exc, DeadlineError | Interrupted):
        hint = (
            f"The job keeps running; get its result later with: qprim fetch {exc.job_id}"
            if exc.job_id
            else "Run the same command again: it finds the job instead of submitting again."
        )
        return exc.exit_code, f"error: {exc}\n{hint}"
    if isinstance(exc, QprimError):
        return exc.exit_code, f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted.exit_code, "interrupted"
    import traceback

    details = "".join(traceback.format_exception(exc))
    return 1, (
        f"{details}\ninternal error in qprim: please report it at {ISSUES_URL} with the text above"
    )
