"""How qprim's public tasks (`qprim.tasks.submit_pubs`, `fetch_result`) run as Prefect task
runs: their names, no caching, and which of them Prefect retries. The bodies are given by
the layer above (`qprim.tasks`), so that this package imports none of the use cases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from qprim.flows.run import FETCH_RETRY_OPTIONS

if TYPE_CHECKING:
    from prefect import Task

P = ParamSpec("P")
R = TypeVar("R")


def _submit_run_name(parameters: dict[str, Any]) -> str:
    """The task run's name in the UI: `submit NAME`, as qprim's own submit tasks."""
    return f"submit {parameters.get('settings', {}).get('name', 'pubs')}"


def submit_task(body: Callable[P, R]) -> Task[P, R]:
    """`body` as the `qprim submit` task: never retried by Prefect (the journal makes a
    submission idempotent), never cached (the journal is the cache)."""
    return task(
        name="qprim submit", task_run_name=_submit_run_name, retries=0, cache_policy=NO_CACHE
    )(body)


def fetch_task(body: Callable[P, R]) -> Task[P, R]:
    """`body` as the `qprim fetch` task: retried on transient backend failures, with
    backoff, as qprim's own fetch tasks are."""
    return task(
        name="qprim fetch",
        task_run_name="fetch {handle.workload}",
        cache_policy=NO_CACHE,
        **FETCH_RETRY_OPTIONS,
    )(body)
