"""`qprim deploy` and `qprim journal …`: running qprim for a team.

`deploy` turns workloads into a Prefect deployment a worker on any machine can run;
`journal migrate` copies this machine's journal (and the results and Aer jobs it names)
into the shared one, so work done before the team setup is reused, not submitted again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, print_json

journal_app = typer.Typer(
    help="The journal of submissions: where it is, and moving it to a shared database.",
    no_args_is_help=True,
)


@handles_errors
def deploy(
    files: Annotated[
        list[Path], typer.Argument(help="Workloads: .yaml/.yml files, folders, or globs.")
    ],
    pool: Annotated[str, typer.Option(help="The Prefect work pool its workers poll.")],
    name: Annotated[
        str | None, typer.Option(help="Deployment name (default: the workloads' names).")
    ] = None,
    cron: Annotated[
        str | None, typer.Option(help="Run on this cron schedule, e.g. '0 3 * * *' (UTC).")
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(envvar="QPRIM_TEAM", help="Team block naming the shared journal and store."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Make the workloads a Prefect deployment: a worker on any machine with qprim runs
    them, recording jobs in the shared journal and results in the shared store."""
    from qprim.flows.env import use_prefect

    use_prefect()
    from dataclasses import asdict

    from qprim.cli.render import stderr_console
    from qprim.deployment import run_flow
    from qprim.usecases.deploy import deploy as make_deployment
    from qprim.usecases.stores import settings

    console = stderr_console()
    deployed = make_deployment(run_flow, files, pool=pool, name=name, cron=cron, team=team)
    if json_out:
        print_json(asdict(deployed))
        return
    console.print(f"deployment [bold]{deployed.name}[/] on work pool [bold]{pool}[/]")
    if cron:
        console.print(f"schedule: cron {cron!r} (UTC)", markup=False)
    if team is None and not settings().shared:
        console.print(
            "note: no team block and no shared journal here: the worker records jobs where "
            "its own QPRIM_JOURNAL_URL / QPRIM_RESULTS (or QPRIM_TEAM) say",
            markup=False,
            soft_wrap=True,
        )
    console.print(
        "start a worker (on any machine with qprim and PREFECT_API_URL set):\n"
        f"  prefect worker start --pool {pool}\n"
        "run it now:\n"
        f"  prefect deployment run '{deployed.name}'",
        markup=False,
        soft_wrap=True,
    )


@journal_app.command("migrate")
@handles_errors
def migrate(
    to: Annotated[
        str | None,
        typer.Option(
            help="The shared journal's URL (default: QPRIM_JOURNAL_URL or the team block's; "
            "a URL here is visible in shell history)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy this machine's journal ($QPRIM_HOME/journal.sqlite) into the shared one, and
    the results and Aer jobs it names into the shared store if there is one."""
    from qprim.cli.render import stderr_console
    from qprim.state.database import masked
    from qprim.usecases.migrate import copy_local_state

    report = copy_local_state(to)
    if json_out:
        print_json(report)
        return
    stderr_console().print(
        f"copied {report['submissions']} submissions and {report['groups']} groups into "
        f"{masked(report['to'])} ({report['already_there']} were there already); "
        f"{report['objects']} stored objects copied to {report['store']}",
        markup=False,
        soft_wrap=True,
    )
