"""`qprim fetch JOB_ID` and `qprim jobs`: jobs by id, from any process."""

from __future__ import annotations

from typing import Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, print_json
from qprim.cli.options import OutOpt, TimeoutOpt, VerboseOpt


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
    from qprim.flows.env import configure_prefect

    configure_prefect(verbose)
    from qprim import runner
    from qprim.cli.progress import Progress
    from qprim.cli.render import show_run, stderr_console

    console = stderr_console()
    with Progress(console) as progress:
        saved = runner.fetch(job_id, out=out, timeout=timeout, block=block, events=progress)
    show_run(console, saved.record, saved.result, run_dir=str(saved.path))
    console.print(f"saved to [bold]{saved.path}[/]")
    if json_out:
        print_json(saved.record.document())


@handles_errors
def jobs(
    limit: Annotated[int, typer.Option(help="How many of the newest to list.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """List recorded submissions: workload, part, job id, backend, mode, state, when."""
    from dataclasses import asdict

    from qprim.cli.render import journal_table, stderr_console
    from qprim.stores import journal as open_journal

    submissions = open_journal().recent(limit)
    if json_out:
        print_json([asdict(sub) for sub in submissions])
    else:
        stderr_console().print(journal_table(submissions))
