"""What every `qprim` command shares: error handling and JSON output.

Its own module so that the command modules (cli, cli_blocks, cli_show) can all use it
without importing each other. A command given `--json` puts ONE document on stdout
whatever happens: its result, or (any failure, a usage error included) an error
document, `{"error", "exit_code", "location", "job_ids"}`; the message goes to stderr too.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer._click import ClickException, Context  # Typer's own copy of click
from typer.core import TyperGroup

from qprim.errors import WaitingError, describe_failure

if TYPE_CHECKING:
    from qprim.report.runs import SavedRun
    from qprim.workload.types import Location

F = TypeVar("F", bound=Callable[..., Any])


def prepare_prefect(verbose: bool = False) -> None:
    """qprim's Prefect settings for a command (`flows.env.configure_prefect`). Without
    `-v`, Prefect's own complaints about a server that stopped answering stay off stderr:
    its API log worker writes them there itself while `logging.raiseExceptions` is set,
    and qprim says what it means once, in its own words."""
    from qprim.flows.env import configure_prefect

    configure_prefect(verbose)
    logging.raiseExceptions = verbose


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
JSON_FLAG = "--json"


def _fail(code: int, message: str) -> typer.Exit:
    from qprim.cli.render import stderr_console

    stderr_console().print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(command: F) -> F:
    """Expected failures print one message and exit with their code; bugs say where to go.
    With `--json` (a `json_out` parameter) the error is also a document on stdout."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            code, message = describe_failure(exc)
            if kwargs.get("json_out"):
                print_json(error_document(exc))
            raise _fail(code, message) from None

    return wrapper  # type: ignore[return-value]


def saved_document(saved: SavedRun) -> dict[str, Any]:
    """A saved run for a script: `run.json`, the run folder's `path`, and its numbers
    (`results`: counts or evs and stds per PUB; null past a size, with where to read them)."""
    from qprim.report.numbers import MAX_NUMBERS, TooMany, results_document

    document = {**saved.record.document(), "path": str(saved.path)}
    try:
        document["results"] = results_document(saved.result)
    except TooMany:
        document["results"] = None
        document["results_omitted"] = (
            f"more than {MAX_NUMBERS} numbers: read them with `qprim export {saved.path} "
            f"--format json` or `qprim.load_run({str(saved.path)!r})`"
        )
    return document


def error_document(exc: BaseException) -> dict[str, Any]:
    """What a script reads when a command (or one workload of `run`) failed: the message,
    the exit code, where in the input (`FILE:LINE` errors), the jobs that keep running."""
    code, message = describe_failure(exc)
    job_ids = exc.job_ids if isinstance(exc, WaitingError) else ()
    return _error(message.removeprefix("error: "), code, getattr(exc, "where", None), job_ids)


def _error(
    message: str, code: int, where: Location | None = None, job_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "error": message,
        "exit_code": int(code),
        "location": {"file": where.file, "line": where.line} if where is not None else None,
        "job_ids": list(job_ids),
    }


class Commands(TyperGroup):
    """The root command group: a usage error (a missing argument, a bad option value) of a
    command given `--json` is an error document on stdout as well."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        ctx.meta[JSON_FLAG] = JSON_FLAG in args
        with _usage_errors_as_json(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        with _usage_errors_as_json(ctx):
            return super().invoke(ctx)


@contextmanager
def _usage_errors_as_json(ctx: Context) -> Iterator[None]:
    try:
        yield
    except ClickException as exc:
        if ctx.meta.get(JSON_FLAG):
            print_json(_error(exc.format_message(), exc.exit_code))
        raise


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
