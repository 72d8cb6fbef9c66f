"""Is the Prefect server qprim is about to use answering? Asked once, before anything is
submitted, so an unreachable server is one clear message instead of minutes of retries."""

from __future__ import annotations

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
