"""`qprim server start|stop|status`: the local Prefect server qprim keeps between commands.

Commands start it by themselves when they need it; these are for looking at it (its UI
shows every run's flow, tasks and artifacts) and for stopping it before its idle stop.
None of them imports Prefect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from qprim.cli.common import JsonOpt, handles_errors, print_json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from qprim.flows.server import ServerStatus

server_app = typer.Typer(
    help="The local Prefect server qprim starts for its commands and stops when idle.",
    no_args_is_help=True,
)


@server_app.command("start")
@handles_errors
def start_command(json_out: JsonOpt = False) -> None:
    """Start the server now (any command that needs Prefect starts it anyway)."""
    from qprim.flows import server

    console = _console()
    with console.status("starting the server if it is not running (a new database: 10 s or more)…"):
        record, started = server.ensure_running()
    if started:
        console.print(server.started_message(record), markup=False, soft_wrap=True)
    else:
        console.print("qprim's local Prefect server is already running", markup=False)
    _show(console, server.status(), json_out, started=started)


@server_app.command("stop")
@handles_errors
def stop_command(json_out: JsonOpt = False) -> None:
    """Stop the server (commands start a new one when they need it)."""
    from qprim.flows import server

    stopped = server.stop()
    if json_out:
        print_json(
            {
                "stopped": stopped is not None,
                "pid": stopped.pid if stopped else None,
                "url": stopped.url if stopped else None,
            }
        )
    elif stopped is None:
        _console().print("no local Prefect server of qprim's is running", markup=False)
    else:
        _console().print(
            f"stopped qprim's local Prefect server at {stopped.ui_url} (pid {stopped.pid})",
            markup=False,
        )


@server_app.command("status")
@handles_errors
def status_command(json_out: JsonOpt = False) -> None:
    """Is the server running: its UI, pid, log, since when, when it stops if unused."""
    from qprim.flows import server

    _show(_console(), server.status(), json_out)


def _show(console: Console, status: ServerStatus, json_out: bool, **extra: bool) -> None:
    note = _other_server_note()
    if note:
        console.print(note, markup=False, soft_wrap=True)
    if json_out:
        print_json({**status.document(), **extra})
    else:
        console.print(_status_table(status))


def _other_server_note() -> str | None:
    """When commands would not use this server, say which one they use instead."""
    from qprim.flows.env import SERVER_ENV, ServerKind, configured_api_url, server_kind

    url = configured_api_url()
    if url is not None:
        return f"note: PREFECT_API_URL is {url}: qprim commands use that server, not this one"
    if server_kind() is ServerKind.TEMPORARY:
        return (
            f"note: {SERVER_ENV}=temporary: each qprim command starts a temporary Prefect "
            "server instead of using this one"
        )
    return None


def _status_table(status: ServerStatus) -> Table:
    from rich.text import Text

    from qprim.cli.render import new_table

    doc = status.document()
    table = new_table(f"qprim's local Prefect server: {doc['state']}")
    table.show_header = False
    table.add_column("")
    table.add_column("")
    rows = {
        "Prefect UI": doc["ui_url"],
        "API URL": doc["url"],
        "pid": doc["pid"] and f"{doc['pid']} (supervisor; Prefect {doc['server_pid']})",
        "since": doc["started"],
        "last used": doc["last_used"],
        "idle stop": doc["idle_minutes"]
        and f"after {doc['idle_minutes']:g} minutes unused ({doc['stops_if_unused_at']})",
        "database": doc["prefect_home"] and f"Prefect's own, in {doc['prefect_home']}",
        "memory": doc["server_rss_bytes"] and f"Prefect {_mib(doc['server_rss_bytes'])}",
        "resident": _resident_row(doc["resident"]),
        "log": doc["log"],
        "state": doc["state_dir"],
    }
    for key, value in rows.items():
        if value:
            table.add_row(key, Text(str(value)))
    return table


def _mib(size: int | None) -> str:
    return "?" if size is None else f"{size / 2**20:.0f} MiB"


def _resident_row(resident: dict[str, Any] | None) -> str:
    """The resident process (commands skip their imports while it runs), or why not."""
    if resident is None:
        return "not running: commands import everything themselves"
    return (
        f"pid {resident['pid']}, {resident['served']} commands served, "
        f"{_mib(resident['rss_bytes'])}"
    )


def _console() -> Console:
    from qprim.cli.render import stderr_console

    return stderr_console()
