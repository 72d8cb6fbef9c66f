"""qprim's own deadline around calls that may hang.

The IBM client has no read timeout, so a hung endpoint would hang qprim forever. Each
such call runs in a daemon thread that qprim stops waiting for at the deadline (the
thread is abandoned; it cannot keep the process alive).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from qprim.errors import DeadlineError

T = TypeVar("T")


def remaining(deadline: float | None) -> float | None:
    """Seconds left until an epoch-seconds deadline (None: no deadline)."""
    return None if deadline is None else deadline - time.time()


def call_before(
    deadline: float | None, call: Callable[[], T], what: str, job_id: str | None = None
) -> T:
    """`call()`, or DeadlineError if it has not returned by `deadline`."""
    if deadline is None:
        return call()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"qprim-{what}", daemon=True)
    worker.start()
    worker.join(max(0.0, remaining(deadline) or 0.0))
    if worker.is_alive():
        raise DeadlineError(
            f"gave up waiting for {what} (--timeout reached)", (job_id,) if job_id else ()
        )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
