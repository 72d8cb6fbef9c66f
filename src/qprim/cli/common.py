"""What every `qprim` command shares: error handling and JSON output.

Its own module so that the command modules (cli, cli_blocks, cli_show) can all use it
without importing each other.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from qprim.errors import describe_failure

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _fail(code: int, message: str) -> typer.Exit:
    from qprim.cli.render import stderr_console

    stderr_console().print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(command: F) -> F:
    """Expected failures print one message and exit with their code; bugs say where to go."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as exc:
            code, message = describe_failure(exc)
            raise _fail(code, message) from None

    return wrapper  # type: ignore[return-value]


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")
