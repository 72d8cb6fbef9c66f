"""`qprim run`, `qprim validate`, `qprim schema`: workloads in, runs out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qprim.cli.common import (
    JsonOpt,
    error_document,
    handles_errors,
    prepare_prefect,
    print_json,
    saved_document,
)
from qprim.cli.options import (
    BackendOpt,
    NoiseOpt,
    ObservableOpt,
    OutOpt,
    PrimitiveChoice,
    PrimitiveOpt,
    SeedOpt,
    ShotsOpt,
    TimeoutOpt,
    VerboseOpt,
    circuit_file_flags,
)

if TYPE_CHECKING:
    from qprim.usecases.run import WorkloadRun

FileArg = Annotated[Path, typer.Argument(help="A workload: .yaml/.yml, .qpy or .qasm file.")]


@handles_errors
def run(
    files: Annotated[
        list[Path],
        typer.Argument(help="Workloads: .yaml/.yml, .qpy or .qasm files, folders, or globs."),
    ],
    out: OutOpt = None,
    refresh: Annotated[
        bool, typer.Option(help="Submit anew even if this work ran before.")
    ] = False,
    timeout: TimeoutOpt = None,
    json_out: JsonOpt = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write a JUnit XML report here (for CI).")
    ] = None,
    shots: ShotsOpt = None,
    primitive: PrimitiveOpt = PrimitiveChoice.sampler,
    backend: BackendOpt = None,
    seed: SeedOpt = None,
    noise: NoiseOpt = False,
    observable: ObservableOpt = None,
    verbose: VerboseOpt = False,
    no_usage_check: Annotated[
        bool,
        typer.Option(
            "--no-usage-check",
            help="IBM: submit without asking for the usage estimate (no check against the "
            "quota left or execution.max_usage_seconds).",
        ),
    ] = False,
) -> None:
    """Run workloads: submit every job (each at most once), wait for all of them together,
    save a run folder per workload, show the results.

    Every input error of every workload is reported before anything is submitted; one
    workload that fails does not stop the others, and the exit code is the worst of theirs.
    """
    prepare_prefect(verbose)
    from qprim.cli.progress import Progress
    from qprim.cli.render import batch_table, show_run, stderr_console
    from qprim.errors import worst
    from qprim.usecases import run as runner

    console = stderr_console()
    flags = circuit_file_flags(primitive, shots, backend, seed, noise, observable)
    shown: set[Path] = set()

    def show_error(workload_run: runner.WorkloadRun) -> None:
        if workload_run.source not in shown:
            shown.add(workload_run.source)
            console.print(workload_run.error, markup=False, highlight=False, soft_wrap=True)

    with Progress(console) as progress:
        request = runner.RunRequest(
            files,
            flags,
            out,
            refresh,
            timeout,
            progress,
            show_error,
            check_usage=not no_usage_check,
        )
        runs = runner.run(request)
    for workload_run in runs:
        if workload_run.saved is None:
            show_error(workload_run)
            continue
        saved = workload_run.saved
        show_run(console, saved.record, saved.result, run_dir=str(saved.path))
        console.print(f"saved to [bold]{workload_run.saved.path}[/]")
    several = len(runs) > 1
    if several:
        console.print(batch_table(runs))
    if junit is not None:
        _write_junit(junit, runs)
    if json_out:
        documents = [_run_document(workload_run) for workload_run in runs]
        print_json(documents if several else documents[0])
    raise typer.Exit(worst([workload_run.exit_code for workload_run in runs]))


def _run_document(workload_run: WorkloadRun) -> dict[str, Any]:
    """run.json, the run folder and the numbers of a workload that ran (exit code 0, or 6
    for failed checks); its error document otherwise."""
    if workload_run.saved is not None:
        return {**saved_document(workload_run.saved), "exit_code": int(workload_run.exit_code)}
    assert workload_run.exception is not None
    workload = {"name": workload_run.name, "source": str(workload_run.source)}
    return {"workload": workload, **error_document(workload_run.exception)}


def _write_junit(path: Path, runs: list[WorkloadRun]) -> None:
    from qprim.report.junit import JunitRun, write_junit

    write_junit(
        path,
        [
            JunitRun(
                workload=workload_run.name,
                source=str(workload_run.source),
                record=workload_run.saved.record if workload_run.saved else None,
                exit_code=workload_run.exit_code,
                error=workload_run.error,
                seconds=workload_run.seconds,
            )
            for workload_run in runs
        ],
    )


@handles_errors
def validate(
    file: FileArg,
    json_out: JsonOpt = False,
    shots: ShotsOpt = None,
    primitive: PrimitiveOpt = PrimitiveChoice.sampler,
    backend: BackendOpt = None,
    seed: SeedOpt = None,
    noise: NoiseOpt = False,
    observable: ObservableOpt = None,
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate",
            help="IBM: also ask for each job's usage estimate (dry runs) and the quota left.",
        ),
    ] = False,
) -> None:
    """Check a workload and show what would run (PUBs, shapes, jobs, digest); submit nothing."""
    from qprim.cli.render import stderr_console, summary_table
    from qprim.usecases.validate import check
    from qprim.workload import summarize

    flags = circuit_file_flags(primitive, shots, backend, seed, noise, observable)
    cost = None
    with stderr_console().status("checking the workload…"):
        if estimate:
            from qprim.cli.estimate import estimated

            plan, cost = estimated(file, flags)
        else:
            plan = check(file, flags)
    summary = summarize(plan.workload)
    summary["jobs"] = [
        {"part": job.number, "digest": job.digest, "pubs": job.pubs} for job in plan.jobs
    ]
    summary["execution"]["resolved_mode"] = plan.mode
    if cost is not None:
        summary["estimate"] = cost.as_dict()
    if json_out:
        print_json(summary)
    else:
        stderr_console().print(summary_table(summary))
        if cost is not None:
            from qprim.cli.estimate import cost_table

            stderr_console().print(cost_table(cost))


@handles_errors
def schema() -> None:
    """Print the JSON Schema of the workload format."""
    from qprim.workload import workload_json_schema

    print_json(workload_json_schema())
