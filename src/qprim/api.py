"""The Python API: `qprim.run` and `qprim.run_pubs`, with the command line's guarantees.

Each call is one `qprim run`: one Prefect flow run, every job submitted at most once
(the journal, keyed by the work's canonical digest), every result kept in the result
store, a run folder saved. It returns the saved run (`SavedRun`: `.result` is the
`PrimitiveResult`, `.record` the typed `run.json`, `.path` the folder) and raises typed
exceptions (`qprim.errors`) instead of exit codes: `InputError` before anything is
submitted (a `qprim.workload.WorkloadError` when it can say where), `JobFailedError`,
`DeadlineError` (its `job_ids` keep running), `AuthError`, `ServiceUnavailable`,
`Interrupted`, and `ExpectationFailed` for failed `expect:` checks, carrying the saved
run in `.run`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

if TYPE_CHECKING:
    from qprim.report.runs import SavedRun
    from qprim.usecases.run import WorkloadRun
    from qprim.workload.python import PubSettings
    from qprim.workload.types import Workload


def run(
    workload: str | os.PathLike[str] | Workload,
    *,
    out: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    timeout: float | None = None,
) -> SavedRun:
    """Run one workload (a YAML, QASM or QPY file, or a loaded `Workload`) and return its
    saved run. `out`: the run folder (default `./qprim-runs/NAME-TIME-DIGEST`); `refresh`:
    submit anew even if the same work ran before; `timeout`: give up waiting after this
    many seconds (`DeadlineError`; the jobs go on, a later call collects them)."""
    from qprim.errors import InputError
    from qprim.usecases.run import expand
    from qprim.workload.types import Workload

    if isinstance(workload, Workload):
        return _one(workload, out, refresh, timeout)
    found = list(expand([Path(workload)]))
    if len(found) != 1:  # a folder or a glob: one call, one workload, one saved run
        raise InputError(f"{workload} names {len(found)} workloads: qprim.run takes one")
    return _one(found[0], out, refresh, timeout)


def run_pubs(
    pubs: Sequence[Any],
    *,
    out: str | os.PathLike[str] | None = None,
    refresh: bool = False,
    timeout: float | None = None,
    **settings: Unpack[PubSettings],
) -> SavedRun:
    """Run PUBs built in Python, in any form Qiskit's primitives accept: a circuit,
    `(circuit, parameter_values, shots)` for a sampler, `(circuit, observables,
    parameter_values, precision)` for an estimator, or `SamplerPub`/`EstimatorPub`.

    `qprim.run_pubs([(circuit, {"theta": thetas})], backend="aer_simulator", shots=2000)`

    Parameter values bind the circuit's parameters (a mapping by parameter or name, or an
    array in the order of `circuit.parameters`); they are kept by name, so the same PUBs
    built in another process are the same work and reuse its job. The settings
    (`qprim.workload.python.PubSettings`): `primitive` ("sampler" or "estimator"),
    `backend` (an Aer device, `"aer_simulator"`, `"fake_manila"`, or a mapping like a
    workload file's `backend:`, `{"name": "aer_simulator", "seed": 1234}`, `{"kind":
    "ibm", "block": "my-ibm"}`), `shots`/`precision` (for PUBs that set none), `options`
    and `transpile` (a workload file's), `name` and `tags`. `out`, `refresh`, `timeout`:
    as for `run`. The checks a workload file gets apply (all parameters bound, finite
    values, measurements for a sampler, observables as wide as the circuit, circuits no
    wider than the backend), raising an `InputError` naming the PUB (`pubs[2]: ...`)
    before anything is submitted."""
    from qprim.workload.python import workload_from_pubs

    return _one(workload_from_pubs(pubs, **settings), out, refresh, timeout)


def _one(
    source: Path | Workload,
    out: str | os.PathLike[str] | None,
    refresh: bool,
    timeout: float | None,
) -> SavedRun:
    _configure_prefect()
    from qprim.usecases import run as runner

    request = runner.RunRequest(
        [source], out=None if out is None else Path(out), refresh=refresh, timeout=timeout
    )
    (ended,) = runner.run(request)
    return _returned(ended)


def _returned(ended: WorkloadRun) -> SavedRun:
    """The saved run, or the typed exception that ended it."""
    from qprim.errors import ExitCode, ExpectationFailed

    if ended.saved is not None:
        if ended.exit_code == ExitCode.CHECKS_FAILED:
            raise ExpectationFailed(ended.summary(), run=ended.saved)
        return ended.saved
    assert ended.exception is not None
    raise ended.exception


def _configure_prefect() -> None:
    """qprim's Prefect defaults (no telemetry, a temporary server when none is set), but a
    Python program keeps Prefect's console lines as any Prefect program does: the command
    line is the one that quiets them."""
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_INTERNAL_LEVEL", "ERROR")
    from qprim.flows.env import configure_prefect

    configure_prefect()
