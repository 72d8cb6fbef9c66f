"""Environment defaults qprim needs before Prefect (and the IBM client) are imported.

With no `PREFECT_API_URL`, Prefect starts a temporary local server for the process
(the embedded default); with one, it uses that server. Either way: no telemetry (this
tool must work offline), and Prefect's console output off unless `-v`: its engine logs
every expected failure with a traceback. The logs still reach the Prefect server, so
the UI shows them. Users' own settings win.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # no "Prefect collects anonymous usage data" notice, no telemetry from the client
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
    # a first run migrates a new database: on a slow or busy machine that takes longer
    # than Prefect's default 20 s, and the run would fail before it began
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    # Prefect retries each API call 5 times with doubling pauses: a server that went away
    # would take minutes to be noticed; 3 still rides out a busy server
    "PREFECT_CLIENT_MAX_RETRIES": "3",
    # "Loading account with the given token..." on every run is not news to the user
    "QISKIT_IBM_RUNTIME_LOG_LEVEL": "ERROR",
}
# A level NAME: Prefect applies PREFECT_LOGGING_* overrides as text, and logging knows no
# level "0", so Prefect's whole logging setup failed quietly (no console lines, and no
# logs sent to the server either)
VERBOSE = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO"}


def configure_prefect(verbose: bool = False) -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    if verbose:
        os.environ.update(VERBOSE)


def uses_temporary_server() -> bool:
    """No API URL in the environment or the active Prefect profile."""
    from prefect.settings import PREFECT_API_URL

    return not PREFECT_API_URL.value()
