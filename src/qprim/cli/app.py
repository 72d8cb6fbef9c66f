"""The `qprim` command line: the Typer app and its command groups.

Heavy packages (prefect, qiskit) are imported inside the commands, never here, so
`qprim --help` stays instant.
"""

from __future__ import annotations

import gc
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qprim.cli.blocks import blocks_app
from qprim.cli.common import Commands
from qprim.cli.compare import compare
from qprim.cli.devices import backends
from qprim.cli.emulator import emulator_app
from qprim.cli.estimate import estimate
from qprim.cli.export import export
from qprim.cli.jobs import cancel, fetch, jobs
from qprim.cli.run import run, schema, validate
from qprim.cli.server import server_app
from qprim.cli.show import show_command
from qprim.cli.team import deploy, journal_app
from qprim.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

app = typer.Typer(
    cls=Commands,
    name="qprim",
    help="Run Qiskit primitive workloads reliably: never submit twice, never lose a result.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
app.command()(run)
app.command()(validate)
app.command()(fetch)
app.command()(jobs)
app.command()(backends)
app.command()(estimate)
app.command()(cancel)
app.command(name="show")(show_command)
app.command()(export)
app.command()(compare)
app.command()(schema)
app.command()(deploy)
app.add_typer(blocks_app, name="blocks")
app.add_typer(server_app, name="server")
app.add_typer(emulator_app, name="emulator")
app.add_typer(journal_app, name="journal")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qprim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Run Qiskit primitive workloads reliably."""


@cache
def command() -> Callable[..., Any]:
    """The app as the click command Typer makes of it, from every command function's
    signature: on each call of the app (0.15 s), so here once per process; qprim's
    resident process makes it before it forks a command's process."""
    return typer.main.get_command(app)


def main() -> None:
    try:
        command()(prog_name="qprim")  # `python -m qprim` too: its help and completion name
    finally:
        # The interpreter's last garbage collection walks every object Qiskit and Prefect
        # made (about 0.3 s after qprim is done); exit handlers still run, flushing logs.
        gc.freeze()
