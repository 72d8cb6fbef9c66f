"""`qprim compare RUN_A RUN_B [--tolerance T | --sigma S] [--json] [--png FILE] [--all]`.

Why: "did the numbers move?" is the question after a dependency upgrade, a noise model
or a night on hardware; a CI job compares today's run against a stored reference run
and fails (exit 6) when they differ beyond a tolerance, or cannot be compared (exit 2).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, print_json
from qprim.cli.options import finite_non_negative

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from qprim.report.compare import Comparison, Difference
    from qprim.report.runs import SavedRun

MAX_ROWS = 20  # the worst differences shown (all with --all)


@handles_errors
def compare(
    run_a: Annotated[Path, typer.Argument(help="The reference run folder (A).")],
    run_b: Annotated[Path, typer.Argument(help="The run folder compared with it (B).")],
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="Exit 6 if a TVD (sampler) or |B − A| (estimator) is larger.",
            callback=finite_non_negative,
        ),
    ] = None,
    sigma: Annotated[
        float | None,
        typer.Option(
            help="Estimator: exit 6 if |B − A| exceeds this many standard errors.",
            callback=finite_non_negative,
        ),
    ] = None,
    json_out: JsonOpt = False,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", help="Also draw the comparison to this PNG file (needs the plot extra)."
        ),
    ] = None,
    every_row: Annotated[
        bool, typer.Option("--all", help=f"Show every difference, not the {MAX_ROWS} worst.")
    ] = False,
) -> None:
    """Compare two runs of the same work, point by point: total-variation distance of the
    counts (sampler), or B − A with its standard error (estimator)."""
    from rich.console import Console

    from qprim.errors import ExitCode, InputError
    from qprim.report.compare import compare as compare_runs
    from qprim.report.runs import load_run

    if tolerance is not None and sigma is not None:
        raise InputError("give --tolerance or --sigma, not both")
    a, b = load_run(run_a), load_run(run_b)
    if sigma is not None and a.record.primitive != "estimator":
        raise InputError("--sigma applies to estimator runs; use --tolerance for a TVD")
    comparison = compare_runs(a, b)
    beyond = comparison.beyond(tolerance, sigma)
    if png is not None:
        from qprim.report.compare_plots import write_comparison_png

        write_comparison_png(a, b, comparison, tolerance, png)
    if json_out:
        print_json(_document(a, b, comparison, tolerance, sigma, beyond))
    else:
        console = Console()
        _show(console, a, b, comparison, sigma, None if every_row else MAX_ROWS)
        console.print(_verdict(comparison, tolerance, sigma, beyond))
        if png is not None:
            console.print(f"wrote [bold]{png}[/]")
    if beyond and json_out:  # the table's verdict says it otherwise
        from qprim.cli.render import stderr_console

        limit = f"tolerance {tolerance}" if tolerance is not None else f"{sigma} sigma"
        stderr_console().print(
            f"{len(beyond)} of {len(comparison.differences)} differences beyond {limit}; "
            f"worst: {_describe(comparison.ranked(sigma)[0])}",
            markup=False,
            soft_wrap=True,
        )
    if beyond:
        raise typer.Exit(ExitCode.CHECKS_FAILED)


def _show(
    console: Console,
    a: SavedRun,
    b: SavedRun,
    comparison: Comparison,
    sigma: float | None,
    limit: int | None,
) -> None:
    from rich.text import Text

    from qprim.report.compare import run_label

    for name, run in (("A", a), ("B", b)):
        console.print(f"{name}: {run.path}  ({run_label(run)})", soft_wrap=True, highlight=False)
    for note in comparison.notes:
        console.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    ranked = comparison.ranked(sigma)
    shown = ranked if limit is None else ranked[:limit]
    console.print(_table(comparison, shown))
    if len(shown) < len(ranked):
        console.print(
            Text(
                f"{len(ranked) - len(shown)} more differences not shown: see --all or --json",
                style="bold yellow",
            ),
            soft_wrap=True,
        )


def _table(comparison: Comparison, rows: list[Difference]) -> Table:
    from rich.text import Text

    from qprim.cli.render import new_table
    from qprim.report.layout import short_label

    sampler = comparison.primitive == "sampler"
    title = "differences, worst first" + ("" if sampler else ": B − A")
    table = new_table(title)
    point = any(row.label for row in comparison.differences)
    if sampler:
        headers = ["TVD", "largest change", "shots A / B"]
    else:
        headers = ["observable", "A", "B", "B − A", "± se", "sigmas"]
    for header in ["pub", *(["point"] if point else []), *headers]:
        text_column = header in ("point", "observable", "largest change")
        table.add_column(header, justify="left" if text_column else "right")
    for row in rows:
        cells = [str(row.pub), *([row.label] if point else [])]
        if sampler:
            cells += [
                f"{row.tvd:.4f}",
                f"{row.outcome}: {row.p_a:.1%} → {row.p_b:.1%}",
                f"{row.shots_a} / {row.shots_b}",
            ]
        else:
            cells += [
                Text(short_label(row.observable or "-")),
                f"{row.ev_a:+.6f}",
                f"{row.ev_b:+.6f}",
                f"{row.diff:+.6f}",
                f"{row.se:.6f}",
                _sigmas(row.sigmas),
            ]
        table.add_row(*cells)
    return table


def _verdict(
    comparison: Comparison, tolerance: float | None, sigma: float | None, beyond: list[Difference]
) -> str:
    worst = comparison.ranked(sigma)[0]
    lines = [f"worst: {_describe(worst)}"]
    if tolerance is None and sigma is None:
        return lines[0]
    limit = f"tolerance {tolerance}" if tolerance is not None else f"{sigma} sigma"
    count = len(comparison.differences)
    if beyond:
        lines.append(f"[bold red]{len(beyond)} of {count} beyond {limit}[/]")
    else:
        lines.append(f"[green]all {count} within {limit}[/]")
    return "\n".join(lines)


def _describe(row: Difference) -> str:
    where = f"pub {row.pub}" + (f" at {row.label}" if row.label else "")
    if row.tvd is not None:
        return f"{where}: TVD {row.tvd:.4f} ({row.outcome}: {row.p_a:.1%} → {row.p_b:.1%})"
    return (
        f"{where}, {row.observable}: B − A = {row.diff:+.6f} ± {row.se:.6f} "
        f"({_sigmas(row.sigmas)} sigma)"
    )


def _document(
    a: SavedRun,
    b: SavedRun,
    comparison: Comparison,
    tolerance: float | None,
    sigma: float | None,
    beyond: list[Difference],
) -> dict[str, object]:
    return {
        "a": _run_document(a),
        "b": _run_document(b),
        "primitive": comparison.primitive,
        "tolerance": tolerance,
        "sigma": sigma,
        "beyond": len(beyond),
        "notes": comparison.notes,
        "worst": comparison.ranked(sigma)[0].document(),
        "differences": [row.document() for row in comparison.differences],
    }


def _run_document(run: SavedRun) -> dict[str, object]:
    record = run.record
    return {
        "path": str(run.path),
        "workload": record.workload.name,
        "digest": record.workload.digest,
        "backend": record.backend.model_dump(mode="json"),
    }


def _sigmas(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.2f}"
