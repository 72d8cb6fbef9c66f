"""Work in daemon threads, returned as futures.

Why not ThreadPoolExecutor: its threads are joined when the interpreter exits, so a
thread stuck in a client call with no read timeout would keep qprim from exiting after
Ctrl-C or `--timeout`. Each thread runs in a copy of the caller's context, so Prefect's
flow-run context (and anything else kept in context variables) reaches the work.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def spawn(work: Callable[[], T], name: str) -> Future[T]:
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def target() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(context.run(work))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name=name, daemon=True).start()
    return future
