"""Public Prefect tasks: qprim's guarantees inside flows of your own.

```python
from prefect import flow
from qprim.tasks import fetch_result, submit_pubs

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
their task runs. The task runs' settings are `qprim.flows.tasks`'s (the one package that
imports Prefect); their bodies are the use cases of `qprim.usecases.handles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Unpack

from qprim.flows.tasks import fetch_task, submit_task

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.usecases.handles import JobHandle
    from qprim.workload.python import PubSettings


@submit_task
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


@fetch_task
def fetch_result(handle: JobHandle, *, timeout: float | None = None) -> PrimitiveResult:
    """Wait for the handle's jobs and return their `PrimitiveResult` (every PUB in order),
    from qprim's result store when it holds them. A failed or cancelled job raises
    `qprim.errors.JobFailedError`; `timeout` raises `DeadlineError` (the jobs go on)."""
    from qprim.usecases.handles import collect

    return collect(handle, timeout=timeout)
