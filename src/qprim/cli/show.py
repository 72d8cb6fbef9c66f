"""`qprim show RUN_DIR [--all] [--png FILE]`: a saved run's tables, bars and checks, again.

Why: a run folder is the record of a run; CI artifacts and colleagues' folders should be
readable without re-running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qprim.cli.common import handles_errors

RunDirArg = Annotated[Path, typer.Argument(help="A run folder (holds run.json and result.json).")]


def show(run_dir: Path, png: Path | None, every_point: bool) -> None:
    """Print the run's tables, counts bars and checks on stdout; write a PNG if asked."""
    from rich.console import Console

    from qprim.cli.render import show_run
    from qprim.report.facts import MAX_POINTS
    from qprim.report.runs import load_run

    saved = load_run(run_dir)
    console = Console()
    show_run(
        console,
        saved.record,
        saved.result,
        limit=None if every_point else MAX_POINTS,
        run_dir=str(run_dir),
        bars=True,
    )
    if png is not None:
        from qprim.report.plots import write_png

        write_png(saved, png)
        console.print(f"wrote [bold]{png}[/]")


@handles_errors
def show_command(
    run_dir: RunDirArg,
    every_point: Annotated[
        bool,
        typer.Option("--all", help="Show every sweep point (tables show the first few per PUB)."),
    ] = False,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", help="Also draw the results to this PNG file (needs the plot extra)."
        ),
    ] = None,
) -> None:
    """Show a saved run again: metrics, counts or expectation values, checks; optionally a PNG."""
    show(run_dir, png, every_point)
