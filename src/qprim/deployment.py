"""The flow a `qprim deploy` deployment runs: a Prefect worker loads it by its entrypoint,
`qprim.deployment.run_flow`.

Why a module of its own, above the use cases: the body is the use case
(`qprim.usecases.deployed`), the flow around it comes from `qprim.flows` (the one package
that imports Prefect), and neither of those may import the other's layer.
"""

from __future__ import annotations

from typing import Any

from qprim.flows.run import deployment_flow
from qprim.usecases.deployed import run_deployed


@deployment_flow
def run_flow(workloads: list[dict[str, Any]], team: str | None = None) -> list[dict[str, Any]]:
    """`workloads` as `qprim deploy` packed them (each with every file it reads); `team`:
    the team block that says where the shared journal and store are."""
    return run_deployed(workloads, team)
