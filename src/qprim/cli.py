"""The `qprim` command line. Commands parse flags and call one function each.

Heavy packages (prefect, qiskit) are imported inside the commands, never here, so
`qprim --help` stays instant.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from qprim import __version__
from qprim.cli_blocks import blocks_app
from qprim.cli_common import JsonOpt, handles_errors, print_json
from qprim.cli_show import show_command

app = typer.Typer(
    name="qprim",
    help="Run Qiskit primitive workloads reliably: never submit twice, never lose a result.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(blocks_app, name="blocks")
emulator_app = typer.Typer(
    help="A loopback IBM Quantum Runtime emulator (runs jobs on Aer), for tests and CI.",
    no_args_is_help=True,
)
app.add_typer(emulator_app, name="emulator")

FileArg = Annotated[Path, typer.Argument(help="A workload: .yaml/.yml, .qpy or .qasm file.")]
ShotsOpt = Annotated[int | None, typer.Option(help="Shots per PUB (.qpy/.qasm inputs).")]


class PrimitiveChoice(StrEnum):
    sampler = "sampler"
    estimator = "estimator"


PrimitiveOpt = Annotated[PrimitiveChoice, typer.Option(help="The primitive (.qpy/.qasm inputs).")]
BackendOpt = Annotated[
    str | None, typer.Option(help="aer_simulator or a fake device, e.g. fake_manila (.qpy/.qasm).")
]
SeedOpt = Annotated[int | None, typer.Option(help="Simulator seed (.qpy/.qasm inputs).")]
NoiseOpt = Annotated[bool, typer.Option("--noise", help="Use the fake device's noise model.")]
ObservableOpt = Annotated[
    list[str] | None,
    typer.Option("--observable", help="Pauli label for estimator runs of .qpy/.qasm; repeatable."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Run folder (default: ./qprim-runs/…).")]
TimeoutOpt = Annotated[
    float | None, typer.Option(help="Give up waiting after this many seconds (exit 5).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")]


def _flags(
    primitive: PrimitiveChoice,
    shots: int | None,
    backend: str | None,
    seed: int | None,
    noise: bool,
    observable: list[str] | None,
) -> Any:
    from qprim.workload import CircuitFileFlags

    return CircuitFileFlags(
        primitive=primitive.value,  # type: ignore[arg-type]
        shots=shots,
        backend=backend,
        noise=noise,
        seed=seed,
        observables=tuple(observable or ()),
    )


@app.command()
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
) -> None:
    """Run workloads: submit (at most once), fetch, save run folders, show the results.

    Several workloads run one after another; one that fails does not stop the others,
    and the exit code is the worst of theirs.
    """
    from qprim.prefect_env import configure_prefect

    configure_prefect(verbose)
    from qprim import batch, runner
    from qprim.render import batch_table, show_run, stderr_console

    console = stderr_console()
    flags = _flags(primitive, shots, backend, seed, noise, observable)
    paths = batch.expand(files)
    several = len(paths) > 1

    def run_one(path: Path) -> Any:
        folder = out / path.stem if several and out else out
        with console.status(f"running {path}…"):
            return runner.run(runner.RunRequest(path, flags, folder, refresh, timeout))

    runs = []
    for outcome in batch.run_all(paths, run_one):
        runs.append(outcome)
        if outcome.saved is None:
            console.print(outcome.error, markup=False, highlight=False, soft_wrap=True)
            continue
        show_run(console, outcome.saved.manifest, outcome.saved.result)
        console.print(f"saved to [bold]{outcome.saved.path}[/]")
    if several:
        console.print(batch_table(runs))
    if junit is not None:
        _write_junit(junit, runs)
    if json_out:
        documents = [_run_document(run) for run in runs]
        print_json(documents if several else documents[0])
    raise typer.Exit(batch.worst_exit_code(runs))


def _run_document(run: Any) -> dict[str, Any]:
    """run.json of a workload that ran; its error otherwise."""
    if run.saved is not None:
        return run.saved.manifest
    return {"workload": {"source": str(run.path)}, "exit_code": run.exit_code, "error": run.error}


def _write_junit(path: Path, runs: list[Any]) -> None:
    from qprim.junit import JunitRun, write_junit

    write_junit(
        path,
        [
            JunitRun(
                workload=run.name,
                source=str(run.path),
                manifest=run.saved.manifest if run.saved else None,
                exit_code=run.exit_code,
                error=run.error,
                seconds=run.seconds,
            )
            for run in runs
        ],
    )


@app.command()
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
) -> None:
    """Check a workload and show what would run (PUBs, shapes, depth, digest); submit nothing."""
    from qprim.render import stderr_console, summary_table
    from qprim.runner import load_checked
    from qprim.workload import summarize

    workload, _ = load_checked(file, _flags(primitive, shots, backend, seed, noise, observable))
    summary = summarize(workload)
    if json_out:
        print_json(summary)
    else:
        stderr_console().print(summary_table(summary))


@app.command()
@handles_errors
def schema() -> None:
    """Print the JSON Schema of the workload format."""
    from qprim.workload import workload_json_schema

    print_json(workload_json_schema())


@app.command()
@handles_errors
def fetch(
    job_id: Annotated[str, typer.Argument(help="The job id printed by `qprim run`.")],
    out: OutOpt = None,
    timeout: TimeoutOpt = None,
    block: Annotated[
        str | None, typer.Option(help="IBM credentials block, for a job this machine never ran.")
    ] = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Get a job's result, from any process, and save it as a run folder."""
    from qprim.prefect_env import configure_prefect
    from qprim.render import show_run, stderr_console

    configure_prefect(verbose)
    from qprim import runner

    console = stderr_console()
    with console.status(f"fetching {job_id}…"):
        saved = runner.fetch(job_id, out=out, timeout=timeout, block=block)
    show_run(console, saved.manifest, saved.result)
    console.print(f"saved to [bold]{saved.path}[/]")
    if json_out:
        print_json(saved.manifest)


@app.command()
@handles_errors
def jobs(
    limit: Annotated[int, typer.Option(help="How many of the newest to list.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """List recorded submissions: digest, job id, backend, state, when."""
    from dataclasses import asdict

    from qprim.journal import Journal
    from qprim.render import journal_table, stderr_console

    submissions = Journal().recent(limit)
    if json_out:
        print_json([asdict(sub) for sub in submissions])
    else:
        stderr_console().print(journal_table(submissions))


app.command(name="show")(show_command)


@emulator_app.command("serve")
@handles_errors
def emulator_serve(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Simulator seed for every job.")] = None,
    noisy: Annotated[bool, typer.Option("--noisy", help="Simulate the devices' noise.")] = False,
    max_pending_jobs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Refuse a submit while N jobs are queued or running (IBM error 3458).",
        ),
    ] = None,
) -> None:
    """Serve the IBM Quantum Runtime API and IAM on one URL until stopped."""
    from qprim.testing.emulator import serve

    serve(host, port, seed=seed, noisy=noisy, max_pending_jobs=max_pending_jobs)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qprim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Run Qiskit primitive workloads reliably."""


def main() -> None:
    app()
