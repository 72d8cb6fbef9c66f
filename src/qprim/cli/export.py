"""`qprim export RUN_DIR --format csv|json|parquet [--out FILE]`: a run's numbers as a table.

Why: a physicist's analysis happens in pandas, a spreadsheet or a plotting script, not
in qprim; one tidy row per PUB, sweep point and outcome or observable, with parameter
values by name, is what those tools read.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qprim.cli.common import handles_errors
from qprim.cli.show import RunDirArg


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"
    parquet = "parquet"


@handles_errors
def export(
    run_dir: RunDirArg,
    kind: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="csv, json, or parquet (needs the data extra)."),
    ] = ExportFormat.csv,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write here (written whole or not at all); default stdout."
        ),
    ] = None,
) -> None:
    """Export every number of a run: one row per PUB x sweep point x outcome (sampler) or
    observable (estimator), with the parameter values as columns."""
    from qprim.errors import InputError
    from qprim.files import write_atomic
    from qprim.report import export as encode
    from qprim.report.runs import load_run

    if kind is ExportFormat.parquet and out is None:
        raise InputError("Parquet is binary: give --out FILE")
    table = load_run(run_dir).tidy()
    if kind is ExportFormat.parquet:
        data: str | bytes = encode.to_parquet(table)
    else:
        data = encode.to_csv(table) if kind is ExportFormat.csv else encode.to_json(table)
    if out is None:
        sys.stdout.write(str(data))
    else:
        write_atomic(out, data)
        from qprim.cli.render import stderr_console

        stderr_console().print(f"wrote {len(table.rows)} rows to [bold]{out}[/]")
