"""`qprim estimate` (and `qprim validate --estimate`): what a workload's IBM jobs will cost,
by IBM's own estimate (dry runs, never executed), beside the instance's quota left."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, prepare_prefect, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from qprim.plan.jobs import WorkloadPlan
    from qprim.usecases.cost import Cost
    from qprim.workload import CircuitFileFlags


@handles_errors
def estimate(
    file: Annotated[Path, typer.Argument(help="An IBM workload (.yaml/.yml).")],
    json_out: JsonOpt = False,
) -> None:
    """Ask IBM how many quantum seconds each job of a workload would use (dry runs: nothing
    runs, nothing is billed), and show it beside the instance's quota left."""
    prepare_prefect()
    from qprim.cli.render import stderr_console

    with stderr_console().status("asking IBM for usage estimates…"):
        _plan, cost = estimated(file)
    if json_out:
        print_json(cost.as_dict())
    else:
        stderr_console().print(cost_table(cost))


def estimated(file: Path, flags: CircuitFileFlags | None = None) -> tuple[WorkloadPlan, Cost]:
    """The checked plan of `file` and its estimated cost."""
    from qprim.usecases.cost import estimate_cost
    from qprim.usecases.validate import check

    costs: list[Cost] = []
    plan = check(
        file, flags, then=lambda plan, backends: costs.append(estimate_cost(plan, backends))
    )
    return plan, costs[0]


def cost_table(cost: Cost) -> Table:
    from qprim.cli.render import new_table

    quota = cost.quota
    left = "no limit" if quota is None or quota.remaining_s is None else f"{quota.remaining_s:g} s"
    lines = [f"total {cost.total_s:g} s; quota left: {left}"]
    if cost.max_usage_s is not None:
        lines.append(f"execution.max_usage_seconds: {cost.max_usage_s:g} s")
    table = new_table(
        f"IBM's usage estimate ({cost.workload} on {cost.device})", caption="; ".join(lines)
    )
    table.add_column("job", overflow="fold")
    table.add_column("quantum s", justify="right")
    for job in cost.jobs:
        table.add_row(job.label, f"{job.seconds:g}")
    return table
