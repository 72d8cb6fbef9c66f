"""The exceptions that end a qprim command, and THE table of exit codes (spec section 4).

Every exit code, its meaning, how severe it is among several workloads, the word a
summary shows and how a JUnit report counts it live in `EXIT_CODES`; exceptions name
their code, so nothing else in qprim maps failures to numbers.
"""

from __future__ import annotations

import difflib
import errno
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from qiskit.primitives import PrimitiveResult


class ExitCode(IntEnum):
    OK = 0
    BUG = 1
    INPUT = 2
    JOB_FAILED = 3
    AUTH = 4
    DEADLINE = 5
    CHECKS_FAILED = 6
    UNAVAILABLE = 7
    INTERRUPTED = 130


@dataclass(frozen=True)
class ExitInfo:
    meaning: str
    status: str  # one word or two for a summary table
    junit: Literal["pass", "failure", "error"]  # how the run's JUnit test case ends


EXIT_CODES: dict[ExitCode, ExitInfo] = {
    ExitCode.OK: ExitInfo("success", "ok", "pass"),
    ExitCode.BUG: ExitInfo("internal error (a bug in qprim)", "internal error", "error"),
    ExitCode.INPUT: ExitInfo("invalid input or usage", "invalid input", "failure"),
    ExitCode.JOB_FAILED: ExitInfo("the job failed or was cancelled", "job failed", "failure"),
    ExitCode.AUTH: ExitInfo("authentication or configuration error", "configuration", "failure"),
    ExitCode.DEADLINE: ExitInfo("gave up waiting (--timeout)", "timed out", "failure"),
    # the run itself succeeded: its failed checks are the JUnit failures
    ExitCode.CHECKS_FAILED: ExitInfo("an expect: check failed", "checks failed", "pass"),
    ExitCode.UNAVAILABLE: ExitInfo(
        "a service qprim needs (the backend, IAM, the Prefect server) was unreachable or "
        "kept failing; the message says whether a job exists",
        "unavailable",
        "failure",
    ),
    ExitCode.INTERRUPTED: ExitInfo("interrupted", "interrupted", "error"),
}

# Among several workloads the worst decides the command's exit code: a bug or an
# interruption first, then what needs the user's action (configuration, input), then
# what happened at the backend, then failed checks.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.OK,
    ExitCode.CHECKS_FAILED,
    ExitCode.DEADLINE,
    ExitCode.UNAVAILABLE,
    ExitCode.JOB_FAILED,
    ExitCode.INPUT,
    ExitCode.AUTH,
    ExitCode.BUG,
    ExitCode.INTERRUPTED,
)


def worst(codes: list[int]) -> ExitCode:
    """The exit code of a command whose parts ended with `codes`."""
    return max((ExitCode(code) for code in codes), key=SEVERITY.index, default=ExitCode.OK)


class QprimError(Exception):
    """An expected failure: printed as one message, no traceback, with `exit_code`."""

    exit_code: ExitCode = ExitCode.BUG


class InputError(QprimError):
    """Invalid input or usage: a workload, a flag, an unknown block or job."""

    exit_code = ExitCode.INPUT


class JobFailedError(QprimError):
    """The job failed or was cancelled at the backend."""

    exit_code = ExitCode.JOB_FAILED


class TransientJobFailure(JobFailedError):
    """The job ended FAILED for a reason its service marks transient (retrying may work):
    `retry: {failed: N}` resubmits it; otherwise it ends the command like any failure."""

    def __init__(self, message: str, reason_code: int) -> None:
        super().__init__(message)
        self.reason_code = reason_code


class JobNotFoundError(InputError):
    """The backend knows no job by this id: a mistyped `qprim fetch JOB_ID` is the
    user's input; a job the journal recorded is gone (`engine.collect` says so)."""


class AuthError(QprimError):
    """Authentication or configuration error: bad token, unknown instance or device."""

    exit_code = ExitCode.AUTH


class StateError(AuthError):
    """qprim's own state cannot be used: a damaged journal, a read-only or full disk."""


class ServerError(QprimError):
    """The local Prefect server qprim keeps could not be started or stopped (its log says
    why); the user can point PREFECT_API_URL elsewhere or set QPRIM_SERVER=temporary."""

    exit_code = ExitCode.AUTH


class WaitingError(QprimError):
    """qprim stopped waiting; every job already submitted keeps running at the backend."""

    def __init__(self, message: str, job_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.job_ids = job_ids


class DeadlineError(WaitingError):
    """Gave up waiting (`--timeout`); the jobs may still run and can be fetched later."""

    exit_code = ExitCode.DEADLINE


class Interrupted(WaitingError):
    """Ctrl-C: qprim stops waiting; submitted jobs keep running at the backend."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, job_ids: tuple[str, ...] = ()) -> None:
        super().__init__("interrupted", job_ids)


class SavedRunLike(Protocol):
    """A saved run as an exception carries it (`qprim.load_run` returns one): typed by its
    shape, so that this module, which every other one imports, imports none of them."""

    @property
    def path(self) -> Path: ...

    @property
    def result(self) -> PrimitiveResult: ...

    @property
    def record(self) -> Any: ...


class ExpectationFailed(QprimError):
    """The run succeeded but an `expect:` check failed. `run` is the saved run (results,
    record with every check's detail), for callers of the Python API."""

    exit_code = ExitCode.CHECKS_FAILED

    def __init__(self, message: str, run: SavedRunLike | None = None) -> None:
        super().__init__(message)
        self.run = run


class TransientBackendError(QprimError):
    """A failure worth retrying: the backend was unreachable, overloaded or slow. When
    retries are spent it ends the command: the service, not qprim, is at fault."""

    exit_code = ExitCode.UNAVAILABLE


class ServiceUnavailable(QprimError):
    """A service qprim itself relies on (the Prefect server) does not answer."""

    exit_code = ExitCode.UNAVAILABLE


class AbandonedCall(TransientBackendError):
    """A service call that did not answer in time was given up on; it may still act."""


class PendingLimitReached(TransientBackendError):
    """The service refused a submission: the instance has too many pending jobs."""


ISSUES_URL = "https://github.com/qprim/qprim/issues"


# What a failing write or read of qprim's own files means to the user (never a qprim bug).
_DISK_TROUBLE = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def suggest(word: str, choices: list[str]) -> str:
    """`; did you mean 'x'?` for close names, else empty."""
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def exit_code_of(exc: BaseException) -> ExitCode:
    if isinstance(exc, QprimError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, OSError) and exc.errno in _DISK_TROUBLE:
        return ExitCode.AUTH
    return ExitCode.BUG


def describe_failure(exc: BaseException) -> tuple[ExitCode, str]:
    """Exit code and the message a user sees for any exception that ends a command."""
    code = exit_code_of(exc)
    if isinstance(exc, WaitingError):
        return code, f"error: {exc}\n{resume_hint(exc.job_ids)}"
    if isinstance(exc, QprimError):
        return code, f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return code, f"interrupted\n{resume_hint(())}"
    if isinstance(exc, OSError) and exc.errno in _DISK_TROUBLE:
        where = f" {exc.filename}" if exc.filename else ""
        return code, f"error: cannot write{where}: {_DISK_TROUBLE[exc.errno]}"
    import traceback

    details = "".join(traceback.format_exception(exc))
    return code, (
        f"{details}\ninternal error in qprim: please report it at {ISSUES_URL} with the text above"
    )


def resume_hint(job_ids: tuple[str, ...]) -> str:
    """What to do after qprim stopped waiting: the jobs go on; nothing is submitted twice."""
    again = (
        "Run the same command again to collect them all: every job already submitted is "
        "reused, nothing is submitted twice."
    )
    if not job_ids:
        return again
    fetches = "\n".join(f"  qprim fetch {job_id}" for job_id in job_ids)
    return f"The jobs keep running. {again} Or get one result with:\n{fetches}"


def still_running(job_ids: tuple[str, ...]) -> str:
    """`resume_hint` in one line, for a Prefect state message or a summary."""
    if not job_ids:
        return "no job was submitted yet; run the same command again"
    return (
        f"the jobs keep running at the backend: {', '.join(job_ids)}; run the same command "
        "again to collect them (nothing is submitted twice), or `qprim fetch JOB_ID`"
    )
