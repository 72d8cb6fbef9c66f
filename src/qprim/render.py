"""Rich output on stderr: metrics, cache status, counts, expectation values, journal.

Display only: every number comes from `qprim.report` or a manifest, never computed here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from qprim import report

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.batch import WorkloadRun
    from qprim.journal import Submission


def stderr_console() -> Console:
    """The console for everything qprim shows; qprim's own warnings are printed on it too."""
    console = Console(stderr=True)
    logger = logging.getLogger("qprim")
    if not logger.handlers:
        logger.addHandler(RichHandler(console=console, show_time=False, show_path=False))
        logger.propagate = False  # Prefect's console handler is silenced (prefect_env)
    return console


def show_run(console: Console, manifest: dict[str, Any], result: PrimitiveResult) -> None:
    console.print(metrics_table(manifest))
    console.print(pubs_table(manifest))
    console.print(cache_table(manifest))
    if manifest["workload"].get("digest"):
        console.print(f"digest: {manifest['workload']['digest']}", soft_wrap=True)
    if manifest["primitive"] == "sampler":
        console.print(counts_table(result))
    else:
        console.print(evs_table(result))
    if manifest.get("expect"):
        console.print(checks_table(manifest))


def checks_table(manifest: dict[str, Any]) -> Table:
    """The `expect:` checks of a run and their verdicts."""
    checks = manifest.get("expect") or []
    failed = sum(not check["passed"] for check in checks)
    table = _table("checks", caption=f"{len(checks) - failed} passed, {failed} failed")
    for header in ("#", "pub", "kind", "result", "detail"):
        table.add_column(header, justify="right" if header in ("#", "pub") else "left")
    for number, check in enumerate(checks):
        table.add_row(
            str(number),
            str(check["pub"]),
            check.get("kind", "-"),
            "[green]passed[/]" if check["passed"] else "[bold red]FAILED[/]",
            Text(str(check.get("detail", ""))),
        )
    return table


def metrics_table(manifest: dict[str, Any]) -> Table:
    """Per job: where it ran, its status and timing (full timestamps are in run.json)."""
    backend = manifest["backend"]
    table = _table(
        f"job metrics: {manifest['workload']['name']} on {backend['kind']}:{backend['name']}"
    )
    columns = ["created", "started", "finished", "queue_s", "run_s"]
    if any(job["metrics"].get("quantum_s") is not None for job in manifest["jobs"]):
        columns.append("quantum_s")  # usage that IBM Quantum bills
    for header in ("job id", "status", *columns):
        table.add_column(header.replace("_s", " s"), justify="right" if "_s" in header else "left")
    for job in manifest["jobs"]:
        metrics = job["metrics"]
        cells = [
            _clock(metrics.get(key))
            if key in ("created", "started", "finished")
            else _cell(metrics.get(key))
            for key in columns
        ]
        table.add_row(job["job_id"], job["status"], *cells)
    return table


def pubs_table(manifest: dict[str, Any]) -> Table:
    """Per PUB: what was submitted, after transpilation."""
    table = _table("pubs")
    for header in ("pub", "circuit", "shape", "depth", "size", "shots / precision"):
        table.add_column(header, justify="left" if header == "circuit" else "right")
    for pub in manifest["pubs"]:
        load = pub["shots"] if manifest["primitive"] == "sampler" else pub["precision"]
        table.add_row(
            str(pub["index"]),
            pub["circuit"] or "-",
            point_label(pub["shape"]),
            _cell(pub["depth"]),
            _cell(pub["size"]),
            _cell(load if load is not None else "default"),
        )
    return table


def cache_table(manifest: dict[str, Any]) -> Table:
    table = _table("cache")
    for header in ("job id", "pubs", "submit", "result"):
        table.add_column(header)
    for job in manifest["jobs"]:
        table.add_row(
            job["job_id"],
            _cell(job["pubs"]),
            _cache_word(job["submit"], new="new"),
            _cache_word(job["result"], new="fetched"),
        )
    return table


def counts_table(result: PrimitiveResult) -> Table:
    table = _table("counts (top outcomes)")
    for header in ("pub", "register", "point", "shots", "top outcomes", "distinct"):
        table.add_column(header, justify="right" if header in ("pub", "shots") else "left")
    for row in report.top_counts(result):
        top = "  ".join(f"{key}: {count} ({share:.1%})" for key, count, share in row["top"])
        table.add_row(
            str(row["pub"]),
            row["register"],
            point_label(row["point"]),
            str(row["shots"]),
            top,
            str(row["distinct"]),
        )
    return table


def evs_table(result: PrimitiveResult) -> Table:
    table = _table("expectation values")
    for header in ("pub", "index", "value", "std"):
        table.add_column(header, justify="right")
    for row in report.expectation_values(result):
        table.add_row(
            str(row["pub"]), point_label(row["point"]), f"{row['ev']:+.6f}", f"{row['std']:.6f}"
        )
    return table


def batch_table(runs: list[WorkloadRun]) -> Table:
    """One line per workload of a multi-workload run."""
    table = _table("summary")
    for header in ("workload", "status", "jobs", "cache", "checks", "time s"):
        table.add_column(header, justify="right" if header == "time s" else "left")
    for run in runs:
        manifest = run.saved.manifest if run.saved else {}
        jobs = manifest.get("jobs", [])
        checks = manifest.get("expect", [])
        passed = sum(check["passed"] for check in checks)
        table.add_row(
            run.name,
            _STATUS.get(run.exit_code, f"[red]exit {run.exit_code}[/]"),
            ", ".join(job["job_id"] for job in jobs) or "-",
            ", ".join(f"{job['submit']}/{job['result']}" for job in jobs) or "-",
            f"{passed}/{len(checks)}" if checks else "-",
            f"{run.seconds:.1f}",
        )
    return table


_STATUS = {0: "[green]ok[/]", 6: "[red]checks failed[/]", 2: "[red]invalid input[/]"}


def journal_table(submissions: list[Submission]) -> Table:
    table = _table("recorded submissions")
    for header in ("when", "workload", "digest", "job id", "backend", "state", "status"):
        table.add_column(header)
    for sub in submissions:
        table.add_row(
            sub.created,
            sub.workload,
            sub.digest[:19] + "…",
            sub.job_id or "-",
            f"{sub.backend_kind}:{sub.backend_name}",
            sub.state,
            sub.status or "-",
        )
    return table


def summary_table(summary: dict[str, Any]) -> Table:
    """`qprim validate`: what would run."""
    backend = summary["backend"]
    table = _table(
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
            point_label(pub.get("shape") or []),
            _cell(load),
        )
    return table


def _table(title: str, caption: str | None = None) -> Table:
    return Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
    )


def _cache_word(value: str, *, new: str) -> str:
    return f"[yellow]{value}[/]" if value == new else f"[green]{value}[/]"


def point_label(point: list[int]) -> str:
    return "(" + ", ".join(map(str, point)) + ("," if len(point) == 1 else "") + ")"


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
