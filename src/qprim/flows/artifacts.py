"""Prefect artifacts of a saved run, so the UI shows what the terminal shows: a table of
its jobs and a markdown summary (results, checks). Keys are per workload, so the
artifacts of one workload form a history across runs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prefect.artifacts import Artifact, MarkdownArtifact, TableArtifact
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.context import FlowRunContext
from prefect.utilities.context import get_task_and_flow_run_ids

from qprim.flows.health import give_up_on_prefect_api, is_prefect_unreachable
from qprim.report.facts import metrics_rows
from qprim.report.markdown import markdown_summary, unfinished_summary

if TYPE_CHECKING:
    from qprim.report.runs import SavedRun


log = logging.getLogger("qprim")


def artifact_key(kind: str, workload: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", workload.lower()).strip("-") or "workload"
    return f"{kind}-{slug}"[:100]


def publish(saved: SavedRun) -> None:
    record = saved.record
    name = record.workload.name
    with _unless_the_server_is_gone():
        _create(
            TableArtifact(
                key=artifact_key("job-metrics", name),
                table=metrics_rows(record),
                description=f"Jobs of workload {name} ({record.workload.digest})",
            )
        )
        _create(
            MarkdownArtifact(
                key=artifact_key("run-summary", name),
                markdown=markdown_summary(record, saved.result, str(saved.path)),
                description=f"Results of workload {name}, saved to {saved.path}",
            )
        )


def publish_unfinished(
    workload: str, why: str, jobs: list[tuple[str, str | None, str]], hint: str
) -> None:
    """The workload's summary when it did not finish: why, and which jobs to collect later
    (the same key as a finished run's summary, so the workload's history shows it)."""
    with _unless_the_server_is_gone():
        _create(
            MarkdownArtifact(
                key=artifact_key("run-summary", workload),
                markdown=unfinished_summary(workload, why, jobs, hint),
                description=f"Workload {workload} did not finish",
            )
        )


def _create(artifact: Artifact) -> None:
    """The artifact, of the task or flow run it is made in, through the flow run's own
    client: Prefect's `create_*_artifact` open a new HTTP client (and connection) for
    each one, which cost a folder's run 30 ms per artifact, two per workload."""
    task_run_id, flow_run_id = get_task_and_flow_run_ids()
    request = ArtifactCreate(
        type=artifact.type,
        key=artifact.key,
        description=artifact.description,
        data=artifact.format(),
        task_run_id=task_run_id,
        flow_run_id=flow_run_id,
    )
    context = FlowRunContext.get()
    if context is not None and isinstance(context.client, SyncPrefectClient):
        context.client.create_artifact(request)
        return
    with get_client(sync_client=True) as client:
        client.create_artifact(request)


@contextmanager
def _unless_the_server_is_gone() -> Iterator[None]:
    """A run whose Prefect server went away keeps its results (saved before this) and
    says so once; the rest of the command does not wait on the server any more."""
    try:
        yield
    except Exception as exc:
        if not is_prefect_unreachable(exc):
            raise
        give_up_on_prefect_api()
        log.warning("the run's Prefect artifacts were not created: the server stopped answering")
