"""`qprim fetch JOB_ID`, `qprim jobs` and `qprim cancel JOB_ID`: jobs by id, from any process.

`qprim jobs` is data, so it goes to stdout: a table on a terminal, and in a pipe one
tab-separated line per submission under a header line (`qprim jobs | grep bell`,
`cut -f4` for the job ids); `--json` for everything the journal records.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, prepare_prefect, print_json, saved_document
from qprim.cli.options import OutOpt, TimeoutOpt, VerboseOpt

BlockOpt = Annotated[
    str | None, typer.Option(help="IBM credentials block, for a job this machine never ran.")
]


@handles_errors
def fetch(
    job_id: Annotated[str, typer.Argument(help="The job id printed by `qprim run`.")],
    out: OutOpt = None,
    timeout: TimeoutOpt = None,
    block: BlockOpt = None,
    json_out: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Get a job's result, from any process, and save it as a run folder."""
    prepare_prefect(verbose)
    from qprim.cli.progress import Progress
    from qprim.cli.render import show_run, stderr_console
    from qprim.usecases.fetch import fetch

    console = stderr_console()
    with Progress(console) as progress:
        saved = fetch(job_id, out=out, timeout=timeout, block=block, events=progress)
    show_run(console, saved.record, saved.result, run_dir=str(saved.path))
    console.print(f"saved to [bold]{saved.path}[/]")
    if json_out:
        print_json(saved_document(saved))


@handles_errors
def jobs(
    limit: Annotated[int, typer.Option(min=1, help="How many of the newest to list.")] = 50,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Ask each backend for the status of jobs that have not ended."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """List recorded submissions: when, workload, part, job id, backend, mode, state, status;
    with --refresh, a queued IBM job's place in the queue and its device's pending jobs."""
    from dataclasses import asdict

    from rich.console import Console

    from qprim.cli.render import journal_table, journal_tsv, stderr_console
    from qprim.usecases.stores import journal as open_journal

    journal = open_journal()
    queues: dict[str, dict[str, int | None]] = {}
    if refresh:
        prepare_prefect()  # an IBM job's block is read through Prefect
        from qprim.usecases.control import refresh as refresh_statuses

        for change in refresh_statuses(limit):
            line = f"{change.job_id} ({change.workload}): "
            line += f"{change.before or '-'} -> {change.after}" if change.changed else change.after
            if change.queue is not None:
                queues[change.job_id] = asdict(change.queue)
                line += f", {change.queue.describe(change.backend)}"
            stderr_console().print(line, markup=False, highlight=False)
    submissions = journal.recent(limit)
    console = Console()
    if json_out:
        rows = [asdict(sub) for sub in submissions]
        for row in rows:
            if row["job_id"] in queues:
                row["queue"] = queues[row["job_id"]]
        print_json(rows)
    elif console.is_terminal:
        console.print(journal_table(submissions))
    else:
        sys.stdout.write(journal_tsv(submissions))


@handles_errors
def cancel(
    job_id: Annotated[str, typer.Argument(help="The job id printed by `qprim run`.")],
    block: BlockOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Cancel a job that has not ended (Aer: only queued jobs), and record it in the journal."""
    from dataclasses import asdict

    prepare_prefect()
    from qprim.cli.render import stderr_console
    from qprim.usecases.control import cancel as cancel_job

    done = cancel_job(job_id, block=block)
    if not done.requested:
        message = f"{job_id} had already ended ({done.after}): nothing to cancel"
    elif done.after == "CANCELLED":
        message = (
            f"cancelled {job_id} on {done.backend} (it was {done.before}); "
            "`qprim run --refresh` submits its work anew"
        )
    else:
        message = (
            f"asked {done.backend} to cancel {job_id}; it is {done.after} for now: "
            "`qprim jobs --refresh` records how it ends"
        )
    stderr_console().print(message, markup=False, highlight=False)
    if json_out:
        print_json(asdict(done))
