"""`qprim deploy`: workloads as a Prefect deployment that a worker on any machine runs.

Every workload is checked first (bad input: nothing is deployed). The flow deployed is
given by the caller (`qprim.deployment.run_flow`, which sits above the use cases), so
that the deployment's entrypoint names the module a worker loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qprim.usecases.run import expand
from qprim.usecases.validate import check

if TYPE_CHECKING:
    from qprim.flows.deploy import Deployed, RunFlow


def deploy(
    flow: RunFlow,
    files: list[Path],
    *,
    pool: str,
    name: str | None = None,
    cron: str | None = None,
    team: str | None = None,
) -> Deployed:
    """Check every workload of `files` (files, folders, globs), then deploy `flow` with
    them as its parameters on the work pool `pool`."""
    from qprim.flows.deploy import deploy as make_deployment

    plans = [check(path) for path in expand(files)]
    return make_deployment(flow, plans, pool=pool, name=name, cron=cron, team=team)
