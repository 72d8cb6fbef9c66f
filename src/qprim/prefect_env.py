"""Prefect settings qprim needs before Prefect is first imported.

With no `PREFECT_API_URL`, Prefect starts a temporary local server for the process
(the embedded default); with one, it uses that server. Either way: no telemetry (this
tool must work offline) and quiet logs unless asked for. Users' own settings win.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
    # a first run migrates a new database: on a slow or busy machine that takes longer
    # than Prefect's default 20 s, and the run would fail before it began
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # the server's own "still processing events" chatter on shutdown is not for users
    "PREFECT_LOGGING_LOGGERS_PREFECT_EVENTS_WORKER_LEVEL": "ERROR",
}


def configure_prefect(verbose: bool = False) -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"


def uses_temporary_server() -> bool:
    """No API URL in the environment or the active Prefect profile."""
    from prefect.settings import PREFECT_API_URL

    return not PREFECT_API_URL.value()
