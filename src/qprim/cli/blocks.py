"""`qprim blocks …`: create, list, show and remove the Prefect blocks workloads name.

Like `qprim.cli`, nothing heavy is imported here: Prefect (through `qprim.flows.blocks`) is
imported inside the commands, after `use_prefect()`. The token is resolved (env
var, flag or hidden prompt) before Prefect is touched and is never printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qprim.cli.common import JsonOpt, handles_errors, print_json
from qprim.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

blocks_app = typer.Typer(
    help="Saved backend configurations (Prefect blocks) that workloads name with `block:`.",
    no_args_is_help=True,
)
create_app = typer.Typer(help="Save a new block.", no_args_is_help=True)
blocks_app.add_typer(create_app, name="create")

NameArg = Annotated[str, typer.Argument(help="Block name: lowercase letters, digits, dashes.")]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing block of this name.")
]


class Channel(StrEnum):
    ibm_quantum_platform = "ibm_quantum_platform"
    ibm_cloud = "ibm_cloud"


def resolve_token(token: str | None, token_env: str | None, interactive: bool) -> str:
    """The token from --token-env VAR, --token, or a hidden prompt; errors never echo it."""
    if token is not None and token_env is not None:
        raise InputError("give the token with --token or --token-env, not both")
    if token_env is not None:
        value = os.environ.get(token_env, "")
        if not value.strip():
            raise InputError(f"environment variable {token_env} is not set or is empty")
        return value
    if token is not None:
        return token
    if not interactive:
        raise InputError(
            "no token given and stdin is not a terminal to ask for one: "
            "put it in an environment variable and pass --token-env VAR"
        )
    return typer.prompt("IBM Quantum API token", hide_input=True)


@contextmanager
def _blocks_api(console: Console, doing: str) -> Iterator[ModuleType]:
    """`qprim.flows.blocks`, imported after Prefect is configured, under a status line."""
    from qprim.flows.env import use_prefect

    with console.status("connecting to Prefect…"):
        server = use_prefect()
    with console.status(f"{doing} on {server.describe()}…"):
        from qprim.flows import blocks

        yield blocks


def _console() -> Console:
    from qprim.cli.render import stderr_console

    return stderr_console()


def _saved(console: Console, block: dict[str, Any]) -> None:
    console.print(f"saved {block['kind']} block [bold]{block['name']}[/]")
    console.print(_settings_table(block))


@create_app.command("ibm")
@handles_errors
def create_ibm(
    name: NameArg,
    instance: Annotated[str, typer.Option(help="Instance CRN (or name).")],
    token_env: Annotated[
        str | None, typer.Option(help="Environment variable that holds the API token.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="The API token itself (visible in shell history: prefer --token-env)."),
    ] = None,
    channel: Annotated[Channel, typer.Option(help="IBM Quantum channel.")] = (
        Channel.ibm_quantum_platform
    ),
    backend: Annotated[str | None, typer.Option(help="Default device, e.g. ibm_brisbane.")] = None,
    url: Annotated[str | None, typer.Option(help="Runtime endpoint (private or emulated).")] = None,
    iam_url: Annotated[str | None, typer.Option(help="IAM endpoint (private or emulated).")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Save an IBM Quantum account; the token is stored as a secret and never shown."""
    console = _console()
    secret = resolve_token(token, token_env, interactive=sys.stdin.isatty())
    if token is not None:
        console.print(
            "warning: a token on the command line is visible in shell history and `ps`; "
            "prefer --token-env VAR",
            markup=False,
            soft_wrap=True,
        )
    with _blocks_api(console, f"saving {name}") as blocks:
        saved = blocks.save_ibm_config(
            name,
            token=secret,
            instance=instance,
            channel=channel.value,
            backend=backend,
            url=url,
            iam_url=iam_url,
            overwrite=overwrite,
        )
    _saved(console, saved)


@create_app.command("aer")
@handles_errors
def create_aer(
    name: NameArg,
    device: Annotated[
        str, typer.Option(help="aer_simulator or a fake device, e.g. fake_manila.")
    ] = "aer_simulator",
    noise: Annotated[bool, typer.Option("--noise", help="Use the fake device's noise model.")] = (
        False
    ),
    seed: Annotated[int | None, typer.Option(help="Simulator seed.")] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Save a Qiskit Aer simulator configuration."""
    console = _console()
    with _blocks_api(console, f"saving {name}") as blocks:
        saved = blocks.save_aer_config(
            name, device=device, noise=noise, seed=seed, overwrite=overwrite
        )
    _saved(console, saved)


@create_app.command("team")
@handles_errors
def create_team(
    name: NameArg,
    journal_url_env: Annotated[
        str,
        typer.Option(help="Environment variable that holds the journal's postgresql:// URL."),
    ],
    results: Annotated[
        str | None,
        typer.Option(help="Storage block for results and Aer jobs, TYPE/NAME."),
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Save where a team's shared state is (QPRIM_TEAM=NAME uses it); the journal URL, which
    holds a password, is stored as a secret and never shown."""
    console = _console()
    url = os.environ.get(journal_url_env, "")
    if not url.strip():
        raise InputError(f"environment variable {journal_url_env} is not set or is empty")
    with _blocks_api(console, f"saving {name}") as blocks:
        saved = blocks.save_team_config(
            name, journal_url=url.strip(), results=results, overwrite=overwrite
        )
    _saved(console, saved)


@blocks_app.command("ls")
@handles_errors
def list_command(json_out: JsonOpt = False) -> None:
    """List qprim's blocks: name, kind, device, details (no secrets)."""
    console = _console()
    with _blocks_api(console, "listing blocks") as blocks:
        found = blocks.list_blocks()
    if json_out:
        print_json(found)
    else:
        console.print(_list_table(found))
        if not found:
            console.print("none yet: qprim blocks create ibm|aer|team NAME ...", markup=False)


@blocks_app.command("show")
@handles_errors
def show_command(name: NameArg, json_out: JsonOpt = False) -> None:
    """Show one block's settings; the token is masked."""
    console = _console()
    with _blocks_api(console, f"reading {name}") as blocks:
        block = blocks.show_block(name)
    if json_out:
        print_json(block)
    else:
        console.print(_settings_table(block))


@blocks_app.command("rm")
@handles_errors
def remove_command(name: NameArg) -> None:
    """Remove a block."""
    console = _console()
    with _blocks_api(console, f"removing {name}") as blocks:
        kind = blocks.remove_block(name)
    console.print(f"removed {kind} block [bold]{name}[/]")


def _list_table(found: list[dict[str, Any]]) -> Table:
    from rich.text import Text

    from qprim.cli.render import new_table

    table = new_table("qprim blocks")
    for header in ("name", "kind", "device", "details", "updated"):
        table.add_column(header)
    for block in found:
        settings = dict(block["settings"])
        device = settings.pop("device", None) or settings.pop("backend", None)
        details = ", ".join(
            f"{key}={value}"
            for key, value in settings.items()
            if value not in (None, False, "") and key != "token"
        )
        table.add_row(
            block["name"],
            block["kind"],
            Text(device or "-"),
            Text(details or "-"),
            (block["updated"] or "-")[:19].replace("T", " "),
        )
    return table


def _settings_table(block: dict[str, Any]) -> Table:
    """Settings as stored; values are plain text (a URL or CRN is not rich markup)."""
    from rich.text import Text

    from qprim.cli.render import new_table

    table = new_table(f"{block['kind']} block {block['name']} ({block['block_type']})")
    table.add_column("setting")
    table.add_column("value")
    for key, value in block["settings"].items():
        table.add_row(key, Text("-" if value is None else str(value)))
    return table
