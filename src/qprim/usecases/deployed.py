"""A deployment's flow run (`qprim.deployment.run_flow`): the workloads `qprim deploy`
packed into its parameters, run exactly as `qprim run` runs them, in this flow run.

The flow run writes the files into a temporary folder, then loads, plans and runs them:
jobs are recorded in the shared journal, results land in the shared store, and the run
folders are kept in the worker's `$QPRIM_HOME/deployed-runs/<flow run name>/`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qprim.errors import ExitCode, QprimError

if TYPE_CHECKING:
    from qprim.usecases.run import WorkloadRun

DEPLOYED_RUNS = "deployed-runs"


class DeployedRunFailed(QprimError):
    """Some workload of a deployment's run did not succeed: the flow run is Failed."""

    exit_code = ExitCode.JOB_FAILED


def run_deployed(workloads: list[dict[str, Any]], team: str | None) -> list[dict[str, Any]]:
    """The body of a deployment's flow run: unpack, then run as `qprim run` does, in this
    flow run. Fails the flow run if any workload did not succeed."""
    from qprim.files import qprim_home
    from qprim.flows.deploy import unpack
    from qprim.flows.run import current_flow_run, run_in_this_flow
    from qprim.usecases import run as runner

    out = qprim_home() / DEPLOYED_RUNS / current_flow_run().name
    with tempfile.TemporaryDirectory(prefix="qprim-deployed-") as tmp:
        paths = [unpack(w, Path(tmp) / str(i)) for i, w in enumerate(workloads)]
        request = runner.RunRequest(paths, out=out)
        done = runner.run(request, team=team, execute=run_in_this_flow)
    failed = [run for run in done if run.exit_code != ExitCode.OK]
    if failed:
        why = [f"{run.name}: {run.error or f'exit code {int(run.exit_code)}'}" for run in failed]
        raise DeployedRunFailed("; ".join(why))
    return [_summary(run) for run in done]


def _summary(run: WorkloadRun) -> dict[str, Any]:
    """The flow run's return value: small, and no secrets."""
    assert run.saved is not None
    return {
        "workload": run.name,
        "run_folder": str(run.saved.path),
        "job_ids": list(run.saved.record.job_ids),
    }
