"""A run as Markdown, for a Prefect markdown artifact (and anything else that renders it).

Why Markdown: the Prefect UI shows it on the flow run, so the numbers a person looks for
(counts or expectation values, checks, cache status) are there without opening run.json.
Every number comes from the manifest or `qprim.report`, as in the terminal tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from qprim import report
from qprim.render import point_label

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult


def markdown_summary(manifest: dict[str, Any], result: PrimitiveResult) -> str:
    """The whole report: overview, jobs, PUB results, checks."""
    sections = [
        _overview(manifest),
        _jobs(manifest),
        _counts(result) if manifest["primitive"] == "sampler" else _evs(result),
        _checks(manifest),
    ]
    return "\n\n".join(sections) + "\n"


def _overview(manifest: dict[str, Any]) -> str:
    workload = manifest["workload"]
    backend = manifest["backend"]
    where = f"`{backend['kind']}:{backend['name']}`"
    details = [f"seed {backend['seed']}" if backend.get("seed") is not None else None]
    details.append("noise model" if backend.get("noise") else None)
    extra = ", ".join(detail for detail in details if detail)
    rows = [
        ("workload", f"`{workload['name']}` ({_code(workload.get('source', '-'))})"),
        ("digest", _code(workload.get("digest", "-"))),
        ("primitive", manifest["primitive"]),
        ("backend", where + (f" ({extra})" if extra else "")),
        ("checks", _verdict(manifest.get("expect") or [])),
    ]
    return f"## qprim run: {workload['name']}\n\n" + _table(("", ""), rows)


def _jobs(manifest: dict[str, Any]) -> str:
    rows = []
    for job in manifest["jobs"]:
        metrics = job.get("metrics") or {}
        rows.append(
            (
                _code(job["job_id"]),
                ", ".join(map(str, job["pubs"])),
                job["status"],
                job["submit"],
                job["result"],
                _number(metrics.get("queue_s")),
                _number(metrics.get("run_s")),
            )
        )
    headers = ("job id", "pubs", "status", "submit", "result", "queue s", "run s")
    return "### Jobs\n\n" + _table(headers, rows)


def _counts(result: PrimitiveResult) -> str:
    rows = [
        (
            row["pub"],
            row["register"],
            point_label(row["point"]),
            row["shots"],
            ", ".join(f"`{key}`: {count} ({share:.1%})" for key, count, share in row["top"]),
            row["distinct"],
        )
        for row in report.top_counts(result)
    ]
    headers = ("pub", "register", "point", "shots", "top outcomes", "distinct")
    return "### Counts (top outcomes)\n\n" + _table(headers, rows)


def _evs(result: PrimitiveResult) -> str:
    rows = [
        (row["pub"], point_label(row["point"]), f"{row['ev']:+.6f}", f"{row['std']:.6f}")
        for row in report.expectation_values(result)
    ]
    return "### Expectation values\n\n" + _table(("pub", "index", "value", "std"), rows)


def _checks(manifest: dict[str, Any]) -> str:
    checks = manifest.get("expect") or []
    if not checks:
        return "### Checks\n\nNo `expect:` checks in this workload."
    rows = [
        (
            number,
            check["pub"],
            check.get("kind", "-"),
            "✅ passed" if check["passed"] else "❌ **failed**",
            check.get("detail", ""),
        )
        for number, check in enumerate(checks)
    ]
    return "### Checks\n\n" + _table(("#", "pub", "kind", "result", "detail"), rows)


def _verdict(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return "none"
    failed = sum(not check["passed"] for check in checks)
    if failed:
        return f"❌ {failed} of {len(checks)} failed"
    return f"✅ all {len(checks)} passed"


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    headers = list(headers)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    """Table cells stay on one line and never split the table at a `|`."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _code(value: str) -> str:
    return f"`{value}`"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
