"""The `qprim` command line. Commands parse flags and call one function each.

Heavy packages (prefect, qiskit) are imported inside the commands, never here, so
`qprim --help` stays instant.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from qprim import __version__
from qprim.errors import EXIT_INTERRUPTED, DeadlineError, QprimError

ISSUES_URL = "https://github.com/qprim/qprim/issues"

app = typer.Typer(
    name="qprim",
    help="Run Qiskit primitive workloads reliably: never submit twice, never lose a result.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])

FileArg = Annotated[Path, typer.Argument(help="A workload: .yaml/.yml, .qpy or .qasm file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
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


def _fail(code: int, message: str) -> typer.Exit:
    from qprim.render import stderr_console

    stderr_console().print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handles_errors(command: F) -> F:
    """Expected failures print one message and exit with their code; bugs say where to go."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except DeadlineError as exc:
            hint = f"\nThe job keeps running: qprim fetch {exc.job_id}" if exc.job_id else ""
            raise _fail(exc.exit_code, f"error: {exc}{hint}") from None
        except QprimError as exc:
            raise _fail(exc.exit_code, f"error: {exc}") from None
        except KeyboardInterrupt:
            raise _fail(EXIT_INTERRUPTED, "interrupted") from None
        except Exception:
            details = traceback.format_exc()
            raise _fail(
                1,
                f"{details}\ninternal error in qprim {__version__}: please report it at "
                f"{ISSUES_URL} with the text above",
            ) from None

    return wrapper  # type: ignore[return-value]


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


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")


@app.command()
@handles_errors
def run(
    file: FileArg,
    out: OutOpt = None,
    refresh: Annotated[
        bool, typer.Option(help="Submit anew even if this work ran before.")
    ] = False,
    timeout: TimeoutOpt = None,
    json_out: JsonOpt = False,
    shots: ShotsOpt = None,
    primitive: PrimitiveOpt = PrimitiveChoice.sampler,
    backend: BackendOpt = None,
    seed: SeedOpt = None,
    noise: NoiseOpt = False,
    observable: ObservableOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run a workload: submit (at most once), fetch, save the run folder, show the results."""
    from qprim.prefect_env import configure_prefect, uses_temporary_server
    from qprim.render import show_run, stderr_console

    configure_prefect(verbose)
    from qprim import runner

    console = stderr_console()
    flags = _flags(primitive, shots, backend, seed, noise, observable)
    where = "a temporary local Prefect server" if uses_temporary_server() else "Prefect"
    with console.status(f"running {file} on {where}…"):
        saved = runner.run(runner.RunRequest(file, flags, out, refresh, timeout))
    show_run(console, saved.manifest, saved.result)
    console.print(f"saved to [bold]{saved.path}[/]")
    if json_out:
        _print_json(saved.manifest)


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

    workload = load_checked(file, _flags(primitive, shots, backend, seed, noise, observable))
    summary = summarize(workload)
    if json_out:
        _print_json(summary)
    else:
        stderr_console().print(summary_table(summary))


@app.command()
@handles_errors
def schema() -> None:
    """Print the JSON Schema of the workload format."""
    from qprim.workload import workload_json_schema

    _print_json(workload_json_schema())


@app.command()
@handles_errors
def fetch(
    job_id: Annotated[str, typer.Argument(help="The job id printed by `qprim run`.")],
    out: OutOpt = None,
    timeout: TimeoutOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Get a job's result, from any process on this machine, and save it as a run folder."""
    from qprim.prefect_env import configure_prefect
    from qprim.render import show_run, stderr_console

    configure_prefect(verbose)
    from qprim import runner

    console = stderr_console()
    with console.status(f"fetching {job_id}…"):
        saved = runner.fetch(job_id, out=out, timeout=timeout)
    show_run(console, saved.manifest, saved.result)
    console.print(f"saved to [bold]{saved.path}[/]")
    if json_out:
        _print_json(saved.manifest)


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
        _print_json([asdict(sub) for sub in submissions])
    else:
        stderr_console().print(journal_table(submissions))


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
