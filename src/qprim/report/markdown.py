"""A run as Markdown, for a Prefect markdown artifact (and anything else that renders it).

Why Markdown: the Prefect UI shows it on the flow run, so the numbers a person looks for
(counts or expectation values, checks, jobs and cache status) are there without opening
run.json. Every number comes from the run record or `qprim.report.facts`, as in the
terminal tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qprim.report import facts
from qprim.report.record import CheckRecord, RunRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult


def markdown_summary(record: RunRecord, result: PrimitiveResult, run_dir: str | None = None) -> str:
    """The whole report: overview, jobs, PUB results (sweeps cut as in the terminal,
    with the same notice), checks."""
    sections = [
        _overview(record),
        _jobs(record),
        *(
            _counts(record, result, run_dir)
            if record.primitive == "sampler"
            else _evs(record, result, run_dir)
        ),
        _checks(record),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def unfinished_summary(
    workload: str, why: str, jobs: Sequence[tuple[str, str | None, str]], hint: str
) -> str:
    """A workload that did not finish (given up, interrupted, failed): why, and each of its
    jobs as (label, job id or None, last known status), so the UI shows what to fetch."""
    rows = [
        (label, _code(job_id) if job_id else "not submitted", status)
        for label, job_id, status in jobs
    ]
    sections = [
        f"## qprim run: {workload} did not finish",
        _cell(why),
        "### Jobs\n\n" + _table(("job", "job id", "last known status"), rows) if rows else "",
        _cell(hint),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _overview(record: RunRecord) -> str:
    workload, backend = record.workload, record.backend
    details = [f"seed {backend.seed}" if backend.seed is not None else None]
    details.append("noise model" if backend.noise else None)
    extra = ", ".join(detail for detail in details if detail)
    mode = record.execution.mode
    if record.execution.session_id:
        mode += f" `{record.execution.session_id}`"
    rows = [
        ("workload", f"`{workload.name}` ({_code(workload.source or '-')})"),
        ("digest", _code(workload.digest or "-")),
        ("primitive", record.primitive),
        ("backend", f"`{backend.label}`" + (f" ({extra})" if extra else "")),
        ("jobs", f"{len(record.jobs)} ({mode})"),
        ("checks", _verdict(record.expect)),
    ]
    return f"## qprim run: {workload.name}\n\n" + _table(("", ""), rows)


def _jobs(record: RunRecord) -> str:
    rows = [
        (
            _code(job.job_id),
            f"{job.part}/{job.parts}",
            facts.pubs_label(job),
            job.status,
            job.submit,
            job.result,
            _number(job.metrics.queue_s),
            _number(job.metrics.run_s),
        )
        for job in record.jobs
    ]
    headers = ("job id", "part", "pubs", "status", "submit", "result", "queue s", "run s")
    return "### Jobs\n\n" + _table(headers, rows)


def _counts(record: RunRecord, result: PrimitiveResult, run_dir: str | None) -> list[str]:
    rows = facts.top_counts(record, result)
    point = ("point",) if rows.swept else ()
    table = _table(
        ("pub", *point, "register", "shots", "top outcomes", "distinct"),
        (
            (
                row.pub,
                *((row.point,) if rows.swept else ()),
                row.register,
                row.shots,
                ", ".join(f"`{key}`: {count} ({share:.1%})" for key, count, share in row.top),
                row.distinct,
            )
            for row in rows.rows
        ),
    )
    return ["### Counts (top outcomes)\n\n" + table, _notice(rows.omitted, run_dir)]


def _evs(record: RunRecord, result: PrimitiveResult, run_dir: str | None) -> list[str]:
    rows = facts.expectation_values(record, result)
    point = ("point",) if rows.swept else ()
    table = _table(
        ("pub", *point, "observable", "value", "std"),
        (
            (
                row.pub,
                *((row.point,) if rows.swept else ()),
                _code(row.observable),
                f"{row.ev:+.6f}",
                f"{row.std:.6f}",
            )
            for row in rows.rows
        ),
    )
    sections = ["### Expectation values\n\n" + table, _notice(rows.omitted, run_dir)]
    found = facts.extrema(record, result)
    if found:
        extremes = _table(
            ("pub", "observable", "", "value", "at"),
            (
                row
                for item in found
                for row in (
                    (
                        item.pub,
                        _code(item.observable),
                        "min",
                        facts.plus_minus(item.low, item.low_std),
                        item.low_at,
                    ),
                    ("", "", "max", facts.plus_minus(item.high, item.high_std), item.high_at),
                )
            ),
        )
        sections.append("### Extremes over the sweep\n\n" + extremes)
    return sections


def _notice(omitted: list[facts.Omitted], run_dir: str | None) -> str:
    notice = facts.omitted_notice(omitted, run_dir)
    return f"_{notice}_" if notice else ""


def _checks(record: RunRecord) -> str:
    if not record.expect:
        return "### Checks\n\nNo `expect:` checks in this workload."
    rows = [
        (
            number,
            check.pub,
            check.kind,
            "✅ passed" if check.passed else "❌ **failed**",
            check.detail,
        )
        for number, check in enumerate(record.expect)
    ]
    return "### Checks\n\n" + _table(("#", "pub", "kind", "result", "detail"), rows)


def _verdict(checks: list[CheckRecord]) -> str:
    if not checks:
        return "none"
    failed = sum(not check.passed for check in checks)
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
