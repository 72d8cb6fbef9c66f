"""Which Prefect server a command uses, and the environment qprim needs, both settled
before Prefect (and the IBM client) is imported: `configure_prefect` first thing in a
command, `use_prefect` once Prefect is needed (after the input was checked, so bad input
never waits for a server nor starts one).

The server, in this order:

1. `PREFECT_API_URL` in the environment or the active Prefect profile: that server;
2. `QPRIM_SERVER=temporary`: Prefect's temporary server for this process (its ephemeral
   mode; about 7 s per command, nothing left running);
3. otherwise the local server qprim keeps between commands (`qprim.flows.server`),
   started if none is running.

The environment: no telemetry (this tool must work offline), and Prefect's console
output off unless `-v`: its engine logs every expected failure with a traceback. The
logs still reach the Prefect server, so the UI shows them. Users' own settings win.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from qprim.errors import InputError

SERVER_ENV = "QPRIM_SERVER"
DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # no "Prefect collects anonymous usage data" notice, no telemetry from the client
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
    # a first run migrates a new database: on a slow or busy machine that takes longer
    # than Prefect's default 20 s, and the run would fail before it began
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    # Prefect's internal services (its events worker) log their failures, a server that
    # stopped answering among them, on a handler of their own: qprim says it once instead
    "PREFECT_LOGGING_INTERNAL_LEVEL": "CRITICAL",
    # Prefect retries each API call 5 times with doubling pauses: a server that went away
    # would take minutes to be noticed; 3 still rides out a busy server
    "PREFECT_CLIENT_MAX_RETRIES": "3",
    # "Loading account with the given token..." on every run is not news to the user
    "QISKIT_IBM_RUNTIME_LOG_LEVEL": "ERROR",
}
# A level NAME: Prefect applies PREFECT_LOGGING_* overrides as text, and logging knows no
# level "0", so Prefect's whole logging setup failed quietly (no console lines, and no
# logs sent to the server either)
VERBOSE = {
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
    "PREFECT_LOGGING_INTERNAL_LEVEL": "ERROR",
}


class ServerKind(StrEnum):
    CONFIGURED = "configured"  # PREFECT_API_URL
    TEMPORARY = "temporary"
    MANAGED = "managed"


@dataclass(frozen=True)
class PrefectServer:
    """The server this process talks to."""

    kind: ServerKind
    url: str | None  # None: Prefect's temporary server, started by Prefect itself

    def describe(self) -> str:
        if self.kind is ServerKind.TEMPORARY:
            return "a temporary local Prefect server"
        if self.kind is ServerKind.MANAGED:
            return f"qprim's local Prefect server ({self.url})"
        return f"the Prefect server at {self.url}"


_chosen: PrefectServer | None = None
_refreshed_for: tuple[str, list[tuple[str, str]]] | None = None  # what Prefect last read


def use_prefect(verbose: bool = False) -> PrefectServer:
    """Choose this process's Prefect server (once, starting qprim's own if need be) and set
    the environment Prefect reads: the one way in, before anything imports Prefect."""
    global _chosen
    if _chosen is None:
        _chosen = _choose()
    configure_prefect(verbose)
    return _chosen


def configure_prefect(verbose: bool = False) -> None:
    """qprim's defaults for Prefect's (and the IBM client's) settings, under the user's own;
    `verbose` shows Prefect's console logs."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    if verbose:
        os.environ.update(VERBOSE)
    refresh_imported_prefect()


def refresh_imported_prefect() -> None:
    """Prefect reads its settings and sets up its logging when imported: when it already
    is (qprim's resident process, or a Python program that imported it first), read them
    again from this process's environment now."""
    global _refreshed_for
    seen = (os.getcwd(), sorted(os.environ.items()))
    if "prefect.context" not in sys.modules or seen == _refreshed_for:
        return
    _refreshed_for = seen
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    refresh_global_settings_context()
    setup_logging(incremental=False)


def server_kind() -> ServerKind:
    """QPRIM_SERVER: `managed` (the default) or `temporary`."""
    raw = os.environ.get(SERVER_ENV, "").strip()
    if not raw:
        return ServerKind.MANAGED
    if raw.lower() not in (ServerKind.MANAGED, ServerKind.TEMPORARY):
        raise InputError(
            f"{SERVER_ENV}={raw}: expected `managed` (the default: a local Prefect server "
            "qprim keeps running) or `temporary` (a temporary server per command)"
        )
    return ServerKind(raw.lower())


def configured_api_url() -> str | None:
    """PREFECT_API_URL wherever Prefect 3 reads its settings, in Prefect's order, without
    importing Prefect: the environment, `.env`, `prefect.toml` and `pyproject.toml`
    (`[tool.prefect]`) in the working folder, then the active profile (the profiles file
    and `PREFECT_PROFILE`)."""
    for found in (
        os.environ.get("PREFECT_API_URL"),
        _dotenv_api_url(),
        _toml_table(Path("prefect.toml")).get("api", {}).get("url"),
        _toml_table(Path("pyproject.toml"))
        .get("tool", {})
        .get("prefect", {})
        .get("api", {})
        .get("url"),
        _profile_api_url(),
    ):
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def _dotenv_api_url() -> str | None:
    if not Path(".env").is_file():
        return None
    from dotenv import dotenv_values  # Prefect's own reader of .env (via pydantic-settings)

    values = {name.upper(): value for name, value in dotenv_values(".env").items()}
    return values.get("PREFECT_API_URL")


def _toml_table(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _profile_api_url() -> object:
    profiles = _toml_table(_profiles_path())
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    return profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")


def _profiles_path() -> Path:
    if path := os.environ.get("PREFECT_PROFILES_PATH"):
        return Path(path).expanduser()
    home = os.environ.get("PREFECT_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".prefect") / "profiles.toml"


def _choose() -> PrefectServer:
    kind = server_kind()
    url = configured_api_url()
    if url is not None:
        return PrefectServer(ServerKind.CONFIGURED, url)
    if kind is ServerKind.TEMPORARY:
        return PrefectServer(kind, None)
    from qprim.flows import server

    record, started = server.ensure_running()
    os.environ["PREFECT_API_URL"] = record.url
    if started:
        print(server.started_message(record), file=sys.stderr, flush=True)
    return PrefectServer(kind, record.url)
