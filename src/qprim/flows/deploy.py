"""`qprim deploy`'s Prefect side: workloads as a deployment of a `qprim-run` flow, run by a
worker on any machine with qprim installed.

The deployment's parameters carry everything a run needs as data: each workload and
every file it references (text, or base64 for binary files such as .qpy and .npy), and
the name of the team block that says where the shared journal and store are. So a
worker needs qprim and the Prefect server, nothing else. No secret travels in them:
credentials stay in blocks (IBM accounts, the team's journal URL, the storage's keys).

On the worker, the flow run (`qprim.deployment.run_flow`) writes the files into a
temporary folder (`unpack`), then loads, plans and runs them exactly as `qprim run` would
(`qprim.usecases.deployed`), inside its own flow run.
"""

from __future__ import annotations

import base64
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qprim.errors import InputError

if TYPE_CHECKING:
    from prefect import Flow

    from qprim.plan.jobs import WorkloadPlan

    # a `qprim-run` flow a deployment can run (`qprim.deployment.run_flow`)
    RunFlow = Flow[..., Any]


@dataclass(frozen=True)
class Deployed:
    """What `qprim deploy` made: the deployment's full name, id, pool and schedule."""

    name: str
    id: str
    pool: str
    cron: str | None
    team: str | None


def pack(plan: WorkloadPlan) -> dict[str, Any]:
    """A workload as a deployment parameter: its summary plus every file it reads, keyed
    by their paths relative to the folder they share (so references between them hold)."""
    from qprim.flows.run import describe

    files = [file.resolve() for file in plan.workload.files]
    base = Path(os.path.commonpath([file.parent for file in files]))
    packed: dict[str, dict[str, str]] = {}
    for file in files:
        data = file.read_bytes()
        key = file.relative_to(base).as_posix()
        try:
            packed[key] = {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            packed[key] = {"base64": base64.b64encode(data).decode("ascii")}
    return {**describe(plan), "entry": files[0].relative_to(base).as_posix(), "files": packed}


def unpack(workload: dict[str, Any], folder: Path) -> Path:
    """Write a packed workload's files under `folder`; the workload file's path."""
    from qprim.state.storage import checked_key

    files = workload.get("files")
    if not isinstance(files, dict) or "entry" not in workload:
        raise InputError(
            f"the workload {workload.get('name', '?')!r} carries no files: this flow run was "
            "not started from a `qprim deploy` deployment"
        )
    for key, content in files.items():
        target = folder / checked_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if "base64" in content:
            target.write_bytes(base64.b64decode(content["base64"]))
        else:
            target.write_text(content["text"], encoding="utf-8")
    return folder / checked_key(workload["entry"])


def deploy(
    flow: RunFlow,
    plans: list[WorkloadPlan],
    *,
    pool: str,
    name: str | None = None,
    cron: str | None = None,
    team: str | None = None,
) -> Deployed:
    """Create (or update) the deployment of `flow` (a module's attribute: its entrypoint),
    and the process work pool if there is none."""
    from prefect.deployments.runner import EntrypointType

    name = name or "-".join(plan.workload.name for plan in plans)[:60]
    tags = sorted({tag for plan in plans for tag in plan.workload.tags})
    _ensure_pool(pool)
    deployment = flow.to_deployment(
        name=name,
        parameters={"workloads": [pack(plan) for plan in plans], "team": team},
        cron=cron,
        tags=["qprim", *tags],
        description="qprim workloads: " + ", ".join(plan.workload.name for plan in plans),
        work_pool_name=pool,
        entrypoint_type=EntrypointType.MODULE_PATH,  # qprim is installed on the worker
    )
    deployment_id = deployment.apply(work_pool_name=pool)
    return Deployed(f"{flow.name}/{name}", str(deployment_id), pool, cron, team)


def _ensure_pool(pool: str) -> None:
    """A process work pool named `pool`, with Prefect's default job template."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            with contextlib.suppress(ObjectAlreadyExists):  # another deploy made it meanwhile
                client.create_work_pool(
                    WorkPoolCreate(name=pool, type="process", base_job_template=template)
                )
