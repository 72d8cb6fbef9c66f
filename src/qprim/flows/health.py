"""Is the Prefect server qprim is about to use answering? Asked once, before anything is
submitted, so an unreachable server is one clear message instead of minutes of retries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from qprim.errors import ServiceUnavailable

TIMEOUT_S = 5.0


@cache
def check_prefect_api() -> None:
    """ServiceUnavailable unless the configured server answers `GET /health`. With no
    API URL there is nothing to ask: Prefect starts a temporary server itself. Asked with
    the standard library: an httpx client costs 0.06 s to make (its TLS context)."""
    import http.client
    import urllib.request

    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=TIMEOUT_S):
            return
    except (OSError, http.client.HTTPException) as exc:
        raise ServiceUnavailable(
            f"the Prefect server at {url} does not answer ({type(exc).__name__}: {exc}); "
            "nothing was submitted. Start it, or unset PREFECT_API_URL to let qprim use a "
            "local server of its own"
        ) from None


def give_up_on_prefect_api() -> None:
    """The server went away mid-run: the command's remaining calls to it (its artifacts,
    the flow run's final state) fail at once instead of each retrying for 20 s or more.
    Changes the settings of the command's own context (`api_retries_of_this_command`)."""
    from prefect.settings import get_current_settings

    get_current_settings().client.max_retries = 0


@contextmanager
def api_retries_of_this_command() -> Iterator[None]:
    """A settings context of the command's own, so that giving up on the server changes
    nothing for later commands of the same process (the Python API's)."""
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings(
        updates={PREFECT_CLIENT_MAX_RETRIES: PREFECT_CLIENT_MAX_RETRIES.value()}
    ):
        yield


def is_prefect_unreachable(exc: BaseException) -> bool:
    """The Prefect server went away while qprim used it (a transport error or a 5xx)."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, httpx.TransportError):
            return True
        if isinstance(current, PrefectHTTPStatusError) and current.response.status_code >= 500:
            return True
        current = current.__cause__ or current.__context__
    return False
