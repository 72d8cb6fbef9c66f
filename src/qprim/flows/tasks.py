"""Public Prefect tasks: qprim's guarantees inside flows of your own.

```python
from prefect import flow
from qprim.flows.tasks import fetch_result, submit_pubs

@flow
def my_experiment():
    handle = submit_pubs([(circuit, {"theta": thetas})], shots=2000)
    return fetch_result(handle)      # a qiskit PrimitiveResult
```

`submit_pubs` makes each job at most once (the journal, keyed by the PUBs' canonical
digest: rerunning the flow, in this process or another, reuses the job) and returns a
`JobHandle`, a small reference with no circuits. `fetch_result` waits for its jobs and
restores each result from qprim's result store when it is there, exactly like `qprim
run`. Neither is retried by Prefect except `fetch_result` on transient backend failures,
with backoff. Their decisions (submitted, reused, found by tag, cached) are log lines of
their task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Unpack

from prefect import task
from prefect.cache_policies import NO_CACHE

from qprim.flows.run import FETCH_RETRY_OPTIONS

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.usecases.handles import JobHandle
    from qprim.workload.python import PubSettings


def _submit_run_name(parameters: dict[str, Any]) -> str:
    """The task run's name in the UI: `submit NAME`, as qprim's own submit tasks."""
    return f"submit {parameters.get('settings', {}).get('name', 'pubs')}"


@task(name="qprim submit", task_run_name=_submit_run_name, retries=0, cache_policy=NO_CACHE)
def submit_pubs(
    pubs: Sequence[Any],
    *,
    refresh: bool = False,
    timeout: float | None = None,
    **settings: Unpack[PubSettings],
) -> JobHandle:
    """Submit `pubs` (any form Qiskit's primitives accept) unless the same work was
    submitted before; return its `JobHandle` without waiting.

    The settings are `qprim.run_pubs`'s (`qprim.workload.python.PubSettings`: primitive,
    backend, shots, precision, options, transpile, name, tags). Bad input raises
    `qprim.errors.InputError` before anything is submitted; `refresh` submits anew;
    `timeout` (seconds) bounds waiting for another process or the service.
    """
    from qprim.usecases.handles import submit
    from qprim.workload.python import workload_from_pubs

    return submit(workload_from_pubs(pubs, **settings), refresh=refresh, timeout=timeout)


@task(
    name="qprim fetch",
    task_run_name="fetch {handle.workload}",
    cache_policy=NO_CACHE,
    **FETCH_RETRY_OPTIONS,
)
def fetch_result(handle: JobHandle, *, timeout: float | None = None) -> PrimitiveResult:
    """Wait for the handle's jobs and return their `PrimitiveResult` (every PUB in order),
    from qprim's result store when it holds them. A failed or cancelled job raises
    `qprim.errors.JobFailedError`; `timeout` raises `DeadlineError` (the jobs go on)."""
    from qprim.usecases.handles import collect

    return collect(handle, timeout=timeout)
