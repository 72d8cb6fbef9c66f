"""`qprim emulator serve`: the loopback IBM Quantum Runtime emulator, for tests and CI."""

from __future__ import annotations

from typing import Annotated

import typer

from qprim.cli.common import handles_errors

emulator_app = typer.Typer(
    help="A loopback IBM Quantum Runtime emulator (runs jobs on Aer), for tests and CI.",
    no_args_is_help=True,
)


@emulator_app.command("serve")
@handles_errors
def emulator_serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8765,
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
    usage_limit: Annotated[
        float | None,
        typer.Option(min=0, help="The instance's quota in quantum seconds (default: none)."),
    ] = None,
) -> None:
    """Serve the IBM Quantum Runtime API and IAM on one URL until stopped."""
    from qprim.testing.emulator import serve

    serve(
        host,
        port,
        seed=seed,
        noisy=noisy,
        max_pending_jobs=max_pending_jobs,
        usage_limit=usage_limit,
    )
