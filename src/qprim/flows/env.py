"""Which Prefect server a command uses, and the environment qprim needs, both settled
before Prefect (and the IBM client) is imported: `configure_prefect` first thing in a
command, `use_prefect` once Prefect is needed (after the input was checked, so bad input
never waits for a server nor starts one); `start_prefect` before it starts the server in
the background, for a command that has other work to do meanwhile.

The server, in this order:

1. `PREFECT_API_URL` wherever Prefect reads its settings (`prefect_settings`): that one;
2. `QPRIM_SERVER=temporary`: Prefect's temporary server for this process
   (`qprim.flows.temporary`; a few seconds per command, nothing left running);
3. otherwise the local server qprim keeps between commands (`qprim.flows.server`),
   started if none is running.

The environment: no telemetry (this tool must work offline), and Prefect's console
output off unless `-v`: its engine logs every expected failure with a traceback. The
logs still reach the Prefect server, so the UI shows them. Users' own settings win.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from dataclasses import dataclass
from enum import StrEnum

from qprim.errors import InputError
from qprim.flows.settings import prefect_settings

SERVER_ENV = "QPRIM_SERVER"
VERSION_CHECK_ENV = "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED"
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
# What Prefect imports only when a flow runs (0.3 s): imported while a server starts, and
# by qprim's resident process
FLOW_RUN_IMPORTS = (
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.artifacts",
    "prefect.utilities.visualization",
    "fastapi.encoders",  # Prefect's encoder of flow parameters
)
# Besides PREFECT_LOGGING_*, what Prefect's logging set-up reads
LOGGING_SETTINGS = frozenset(
    {"PREFECT_HOME", "PREFECT_SERVER_LOGGING_LEVEL", "PREFECT_INTERNAL_LOGGING_LEVEL"}
)
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


class _Choosing(threading.Thread):
    """`_choose` in the background: the server starts while the command goes on."""

    def __init__(self) -> None:
        super().__init__(name="qprim-prefect-server", daemon=True)
        self.chosen: tuple[PrefectServer, str | None] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.chosen = _choose()
        except BaseException as exc:  # raised again where the server is needed
            self.error = exc

    def result(self) -> tuple[PrefectServer, str | None]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.chosen is not None
        return self.chosen


_chosen: PrefectServer | None = None
_choosing: _Choosing | None = None
_refreshed_for: dict[str, str] | None = None  # the settings Prefect last read
_logging_for: dict[str, str] | None = None  # the ones its logging set-up last read


def start_prefect() -> None:
    """Start choosing this process's Prefect server, and starting it if it is qprim's to
    start, in the background: a command that will need it (its input checked) calls this,
    imports Prefect and warms up while the server starts, then `use_prefect`."""
    global _choosing
    if _chosen is None and _choosing is None:
        _choosing = _Choosing()
        _choosing.start()


def prefect_starting() -> bool:
    """`start_prefect` is still choosing or starting the server."""
    return _choosing is not None and _choosing.is_alive()


def use_prefect(verbose: bool = False) -> PrefectServer:
    """Choose this process's Prefect server (once, starting one if need be, or waiting for
    the one `start_prefect` started) and set the environment Prefect reads: the one way
    in, before anything talks to Prefect."""
    global _chosen, _choosing
    if _chosen is None:
        if prefect_starting():
            for name in FLOW_RUN_IMPORTS:  # meanwhile: what a flow run imports on its way
                importlib.import_module(name)
        server, news = _choosing.result() if _choosing is not None else _choose()
        _choosing = None
        if server.kind is not ServerKind.CONFIGURED:
            os.environ["PREFECT_API_URL"] = str(server.url)
            # a server of qprim's runs the Prefect this process imports: two requests less
            os.environ.setdefault(VERSION_CHECK_ENV, "false")
        if news:
            print(news, file=sys.stderr, flush=True)
        _chosen = server
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
    again now, each only if what it depends on changed since Prefect last read it (a
    served command whose Prefect settings are the resident process's but for the API URL
    pays 0.05 s, not 0.25 s)."""
    global _refreshed_for, _logging_for
    if "prefect.context" not in sys.modules:
        return
    settings = prefect_settings()
    if settings == _refreshed_for:
        return
    from prefect.context import refresh_global_settings_context

    _refreshed_for = settings
    refresh_global_settings_context()
    logging = {name: value for name, value in settings.items() if _shapes_logging(name)}
    if logging != _logging_for:
        from prefect.logging.configuration import setup_logging

        _logging_for = logging
        setup_logging(incremental=False)


def _shapes_logging(name: str) -> bool:
    """A setting Prefect's logging set-up reads (its logging.yml is in PREFECT_HOME)."""
    return name.startswith("PREFECT_LOGGING_") or name in LOGGING_SETTINGS


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
    """PREFECT_API_URL wherever Prefect 3 reads its settings (`prefect_settings`)."""
    found = prefect_settings().get("PREFECT_API_URL", "").strip()
    return found or None


def _choose() -> tuple[PrefectServer, str | None]:
    """The server, started if it is qprim's to start; and what to tell the user of it."""
    kind = server_kind()
    url = configured_api_url()
    if url is not None:
        return PrefectServer(ServerKind.CONFIGURED, url), None
    if kind is ServerKind.TEMPORARY:
        from qprim.flows import temporary

        return PrefectServer(kind, temporary.start()), None
    from qprim.flows import server

    record, started = server.ensure_running()
    news = server.started_message(record) if started else None
    return PrefectServer(kind, record.url), news
