"""`qprim show RUN_DIR [--png FILE]`: a saved run's tables, bars and checks, again.

Why: a run folder is the record of a run; CI artifacts and colleagues' folders should be
readable without re-running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qprim.cli.common import handles_errors


def show(run_dir: Path, png: Path | None) -> None:
    """Print the run's tables, counts bars and checks on stdout; write a PNG if asked."""
    from rich.console import Console

    from qprim.cli.render import show_run
    from qprim.cli.render_bars import counts_bars
    from qprim.state.runs import load_run

    saved = load_run(run_dir)
    console = Console()
    show_run(console, saved.record, saved.result)
    if saved.record.primitive == "sampler":
        console.print(counts_bars(saved.result))
    if png is not None:
        from qprim.report.plots import write_png

        write_png(saved, png)
        console.print(f"wrote [bold]{png}[/]")


@handles_errors
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (holds run.json and result.json).")],
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also draw the results to this PNG file (needs qprim[plot])."),
    ] = None,
) -> None:
    """Show a saved run again: metrics, counts or expectation values, checks; optionally a PNG."""
    show(run_dir, png)
