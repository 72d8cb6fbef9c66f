"""Rich output on stderr: metrics, cache status, counts, expectation values, journal.

Display only: every number comes from a run record or `qprim.report.facts`, never
computed here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from qprim.cli.render_bars import counts_bars
from qprim.errors import EXIT_CODES, ExitCode
from qprim.report import facts
from qprim.report.layout import index_label
from qprim.report.record import RunRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.state.journal import Submission
    from qprim.usecases.run import WorkloadRun


def stderr_console() -> Console:
    """The console for everything qprim shows; qprim's own warnings are printed on it too."""
    console = Console(stderr=True)
    logger = logging.getLogger("qprim")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=console, show_time=False, show_path=False))
        logger.propagate = False  # Prefect's console handler is silenced (prefect_env)
    return console


WIDE = 100  # columns from which the metrics table shows every clock time


def show_run(
    console: Console,
    record: RunRecord,
    result: PrimitiveResult,
    *,
    limit: int | None = facts.MAX_POINTS,
    run_dir: str | None = None,
    bars: bool = False,
) -> None:
    """A run's tables (and counts as bars if asked); sweeps are cut to `limit` points
    per PUB (None: all), and a notice says so and where to see the rest."""
    console.print(metrics_table(record, console.width))
    console.print(pubs_table(record))
    console.print(cache_table(record))
    if record.workload.digest:
        console.print(f"digest: {record.workload.digest}", soft_wrap=True)
    if record.primitive == "sampler":
        rows = facts.top_counts(record, result, limit)
        console.print(counts_table(rows))
        if bars:
            console.print(counts_bars(rows))
        print_notice(console, rows.omitted, run_dir)
    else:
        values = facts.expectation_values(record, result, limit)
        console.print(evs_table(values))
        print_notice(console, values.omitted, run_dir)
        found = facts.extrema(record, result)
        if found:
            console.print(extrema_table(found))
    if record.expect:
        console.print(checks_table(record))


def print_notice(console: Console, omitted: list[facts.Omitted], run_dir: str | None) -> None:
    notice = facts.omitted_notice(omitted, run_dir)
    if notice:
        console.print(Text(notice, style="bold yellow"), soft_wrap=True)


def checks_table(record: RunRecord) -> Table:
    """The `expect:` checks of a run and their verdicts."""
    checks = record.expect
    failed = len(record.failed_checks)
    table = new_table("checks", caption=f"{len(checks) - failed} passed, {failed} failed")
    for header in ("#", "pub", "kind", "result", "detail"):
        table.add_column(header, justify="right" if header in ("#", "pub") else "left")
    for number, check in enumerate(checks):
        table.add_row(
            str(number),
            str(check.pub),
            check.kind,
            "[green]passed[/]" if check.passed else "[bold red]FAILED[/]",
            Text(check.detail),
        )
    return table


def metrics_table(record: RunRecord, width: int = WIDE) -> Table:
    """Per job: its part, status and timing (full timestamps are in run.json). Narrower
    than `WIDE`, the start and end clock times are left out (queue s and run s say them),
    so every job id fits whole on an 80-column terminal."""
    title = f"job metrics: {record.workload.name} on {record.backend.label}"
    if record.execution.mode != "job":
        session = record.execution.session_id or "-"
        title += f" ({record.execution.mode} {session})"
    table = new_table(title)
    clocks = ["created", "started", "finished"] if width >= WIDE else ["created"]
    columns = [*clocks, "queue_s", "run_s"]
    if any(job.metrics.quantum_s is not None for job in record.jobs):
        columns.append("quantum_s")  # usage that IBM Quantum bills
    several = len(record.jobs) > 1
    headers = ["job id", *(["part"] if several else []), "status", *columns]
    add_job_id_column(table)
    for header in headers[1:]:
        table.add_column(
            header.replace("_s", " s"),
            justify="right" if "_s" in header else "left",
            overflow="fold",
            no_wrap=header in clocks,
        )
    for job in record.jobs:
        metrics = job.metrics.model_dump()
        cells = [
            _clock(metrics.get(key))
            if key in ("created", "started", "finished")
            else _cell(metrics.get(key))
            for key in columns
        ]
        part = [f"{job.part}/{job.parts}"] if several else []
        table.add_row(job_id_cell(job.job_id), *part, job.status, *cells)
    return table


def pubs_table(record: RunRecord) -> Table:
    """Per PUB: what was submitted, after transpilation."""
    table = new_table("pubs")
    for header in ("pub", "circuit", "shape", "depth", "size", "shots / precision"):
        table.add_column(header, justify="left" if header == "circuit" else "right")
    for pub in record.pubs:
        load = pub.shots if record.primitive == "sampler" else pub.precision
        table.add_row(
            str(pub.index),
            pub.circuit or "-",
            index_label(pub.shape),
            _cell(pub.depth),
            _cell(pub.size),
            _cell(load if load is not None else "default"),
        )
    return table


def cache_table(record: RunRecord) -> Table:
    table = new_table("cache")
    add_job_id_column(table)
    for header in ("pubs", "submit", "result"):
        table.add_column(header, overflow="fold")
    for job in record.jobs:
        table.add_row(
            job_id_cell(job.job_id),
            facts.pubs_label(job),
            _cache_word(job.submit, new="new"),
            _cache_word(job.result, new="fetched"),
        )
    return table


def counts_table(rows: facts.Rows[facts.CountsRow]) -> Table:
    """The top outcomes per PUB, register and sweep point (labelled by parameter values)."""
    table = new_table("counts (top outcomes)")
    point = ["point"] if rows.swept else []
    for header in ("pub", *point, "register", "shots", "top outcomes", "distinct"):
        table.add_column(header, justify="right" if header in ("pub", "shots") else "left")
    for row in rows.rows:
        top = "  ".join(f"{key}: {count} ({share:.1%})" for key, count, share in row.top)
        cells = [row.point] if rows.swept else []
        table.add_row(str(row.pub), *cells, row.register, str(row.shots), top, str(row.distinct))
    return table


def evs_table(rows: facts.Rows[facts.EvRow]) -> Table:
    """Expectation values per PUB, sweep point and observable."""
    table = new_table("expectation values")
    point = ["point"] if rows.swept else []
    for header in ("pub", *point, "observable", "value", "std"):
        table.add_column(header, justify="left" if header in ("point", "observable") else "right")
    for row in rows.rows:
        cells = [row.point] if rows.swept else []
        table.add_row(
            str(row.pub), *cells, Text(row.observable), f"{row.ev:+.6f}", f"{row.std:.6f}"
        )
    return table


def extrema_table(found: list[facts.Extremum]) -> Table:
    """Each observable's lowest and highest value over a sweep, and where."""
    table = new_table("extremes over the sweep")
    for header in ("pub", "observable", "", "value", "at"):
        table.add_column(header, justify="right" if header in ("pub", "value") else "left")
    for item in found:
        table.add_row(
            str(item.pub),
            Text(item.observable),
            "min",
            facts.plus_minus(item.low, item.low_std),
            item.low_at,
        )
        table.add_row("", "", "max", facts.plus_minus(item.high, item.high_std), item.high_at)
    return table


def batch_table(runs: list[WorkloadRun]) -> Table:
    """One line per workload of a multi-workload run."""
    table = new_table("summary")
    for header in ("workload", "status"):
        table.add_column(header, overflow="fold")
    add_job_id_column(table, "jobs")
    for header in ("cache", "checks", "time s"):
        table.add_column(header, justify="right" if header == "time s" else "left", overflow="fold")
    for run in runs:
        record = run.saved.record if run.saved else None
        jobs = record.jobs if record else []
        checks = record.expect if record else []
        passed = sum(check.passed for check in checks)
        word = EXIT_CODES[ExitCode(run.exit_code)].status
        table.add_row(
            run.name,
            f"[green]{word}[/]" if run.exit_code == ExitCode.OK else f"[red]{word}[/]",
            job_id_cell("\n".join(job.job_id for job in jobs) or "-"),
            "\n".join(f"{job.submit}/{job.result}" for job in jobs) or "-",
            f"{passed}/{len(checks)}" if checks else "-",
            f"{run.seconds:.1f}",
        )
    return table


def journal_table(submissions: list[Submission]) -> Table:
    """`qprim jobs` on a terminal: newest first, every job id whole."""
    table = new_table("recorded submissions (UTC)")
    table.add_column("when", no_wrap=True)
    for header in ("workload", "part"):
        table.add_column(header, overflow="fold")
    add_job_id_column(table)
    for header in ("backend", "mode", "status"):
        table.add_column(header, overflow="fold")
    for sub in submissions:
        when, workload, part, job_id, *rest = _journal_cells(sub, full=False)
        table.add_row(when, workload, part, job_id_cell(job_id), *rest)
    return table


JOURNAL_COLUMNS = ("when", "workload", "part", "job_id", "backend", "mode", "status")


def journal_tsv(submissions: list[Submission]) -> str:
    """`qprim jobs` in a pipe: a header line, then one tab-separated line per submission
    (full timestamps), so `grep`, `cut -f4` and `awk -F'\\t'` work on it."""
    lines = ["\t".join(JOURNAL_COLUMNS)]
    lines += ["\t".join(_journal_cells(sub, full=True)) for sub in submissions]
    return "\n".join(lines) + "\n"


def _journal_cells(sub: Submission, *, full: bool) -> tuple[str, ...]:
    """A submission's cells: the job's status, or the journal's state before it has one
    (`prepared`: claimed, the backend not yet known to have the job)."""
    mode = sub.mode if sub.session_id is None else f"{sub.mode} {sub.session_id}"
    return (
        sub.created if full else sub.created[5:16].replace("T", " "),
        sub.workload,
        f"{sub.part}/{sub.parts}",
        sub.job_id or "-",
        f"{sub.backend_kind}:{sub.backend_name}",
        mode,
        sub.status or sub.state,
    )


def summary_table(summary: dict[str, Any]) -> Table:
    """`qprim validate`: what would run."""
    backend = summary["backend"]
    table = new_table(
        f"{summary['name']}: {summary['primitive']} on {backend['kind']}:{backend['name']}",
        caption=summary["digest"],
    )
    for header in (
        "pub",
        "circuit",
        "qubits",
        "depth",
        "parameters",
        "shape",
        "shots / observables",
    ):
        table.add_column(header)
    for pub in summary["pubs"]:
        load = pub.get("shots") if summary["primitive"] == "sampler" else pub.get("observables")
        table.add_row(
            str(pub["index"]),
            pub["circuit"],
            str(pub["qubits"]),
            str(pub["depth"]),
            ", ".join(pub.get("parameters") or []) or "-",
            index_label(pub.get("shape") or []),
            _cell(load),
        )
    return table


def add_job_id_column(table: Table, header: str = "job id") -> None:
    """Job ids are copied whole into `qprim fetch` and `qprim cancel`: their column is the
    last to give way on a narrow terminal; fill it with `job_id_cell`."""
    table.add_column(header, no_wrap=True)


def job_id_cell(job_ids: str) -> Text:
    """A job id column's cell: folded onto the next line only on a terminal narrower than
    the id itself, never cut (a `no_wrap` column would cut it there)."""
    return Text(job_ids, no_wrap=False, overflow="fold")


def new_table(title: str, caption: str | None = None) -> Table:
    return Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
    )


def _cache_word(value: str, *, new: str) -> str:
    return f"[yellow]{value}[/]" if value == new else f"[green]{value}[/]"


def _clock(timestamp: str | None) -> str:
    """HH:MM:SS of an ISO timestamp: enough on screen, the date is in run.json."""
    return timestamp[11:19] if timestamp else "-"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
