"""JUnit XML for CI smoke jobs: one test suite per workload, its run and its `expect:` checks.

Why JUnit: GitHub (via a reporter action), GitLab (`artifacts: reports: junit:`) and
Jenkins all render it, so a failed check shows up as a failed test with its detail.

The layout follows the common (Jenkins/Surefire) schema:

    <testsuites name="qprim" tests failures errors time>
      <testsuite name=WORKLOAD tests failures errors skipped time>
        <properties> digest, source, primitive, backend, exit_code </properties>
        <testcase classname=WORKLOAD name="run" time>            (<failure>/<error> if it failed)
        <testcase classname=WORKLOAD name="expect[i] pub P KIND"> (<failure message=detail>)

The run test case fails for exit codes 2-5 (the smoke job found something wrong: invalid
workload, failed job, configuration, timeout) and is an error for anything else that is
neither 0 nor 6 (a qprim bug, an interruption). Exit 6 means the run itself succeeded:
its failed checks are the failures.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from qprim.errors import EXIT_CODES, ExitCode
from qprim.files import write_atomic
from qprim.report.record import RunRecord

MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class JunitRun:
    """One workload's outcome in a multi-workload `qprim run`."""

    workload: str
    source: str
    record: RunRecord | None  # None: it failed before there was a run
    exit_code: int
    error: str | None
    seconds: float


def write_junit(path: Path, runs: list[JunitRun]) -> None:
    """Write the report for `runs` to `path` atomically (a CI reader never sees half a file)."""
    write_atomic(path, junit_xml(runs))


def junit_xml(runs: list[JunitRun]) -> bytes:
    """The JUnit XML document for `runs`, UTF-8 with an XML declaration."""
    root = ET.Element("testsuites", name="qprim")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for run in runs:
        suite = _suite(run)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.attrib.update({key: str(value) for key, value in totals.items()})
    root.set("time", _seconds(sum(run.seconds for run in runs)))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _suite(run: JunitRun) -> ET.Element:
    suite = ET.Element("testsuite", name=run.workload)
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(run).items():
        ET.SubElement(properties, "property", name=name, value=value)
    cases = [_run_case(run), *_check_cases(run)]
    suite.extend(cases)
    suite.attrib.update(
        tests=str(len(cases)),
        failures=str(sum(case.find("failure") is not None for case in cases)),
        errors=str(sum(case.find("error") is not None for case in cases)),
        skipped="0",
        time=_seconds(run.seconds),
    )
    return suite


def _properties(run: JunitRun) -> dict[str, str]:
    props = {"source": run.source, "exit_code": str(run.exit_code)}
    if run.record is not None:
        props["digest"] = run.record.workload.digest or ""
        props["primitive"] = run.record.primitive
        props["backend"] = run.record.backend.label
        props["jobs"] = " ".join(run.record.job_ids)
    return props


def _run_case(run: JunitRun) -> ET.Element:
    case = _case(run, "run", run.seconds)
    case.set("file", run.source)
    outcome_kind = EXIT_CODES[ExitCode(run.exit_code)].junit
    if outcome_kind != "pass":
        tag = outcome_kind
        text = run.error or f"qprim exited with code {run.exit_code}"
        message = _one_line(text)
        outcome = ET.SubElement(case, tag, message=message, type=f"exit {run.exit_code}")
        outcome.text = text
    return case


def _check_cases(run: JunitRun) -> list[ET.Element]:
    checks = run.record.expect if run.record else []
    cases = []
    for number, check in enumerate(checks):
        case = _case(run, f"expect[{number}] pub {check.pub} {check.kind}", 0.0)
        detail = check.detail
        if check.passed:
            ET.SubElement(case, "system-out").text = detail
        else:
            ET.SubElement(case, "failure", message=detail, type="expect").text = detail
        cases.append(case)
    return cases


def _case(run: JunitRun, name: str, seconds: float) -> ET.Element:
    return ET.Element("testcase", classname=run.workload, name=name, time=_seconds(seconds))


def _one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Reporters show `message` as a one-line title; the full text is the element's body."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:.3f}"
