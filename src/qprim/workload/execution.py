"""`execution:` and `retry:`: how a workload's jobs run, checked against its backend kind.

The IBM settings (primitives, time and usage limits, resubmission of transient failures)
mean nothing on Aer: written for an Aer workload they are input errors at their own
line, never silently ignored. None of them is part of the digest except the choice of
the legacy primitives (see `digest`): they limit or repeat the work, not its result.
"""

from __future__ import annotations

from qprim.backends.kinds import backend_kind
from qprim.workload.model import ExecutionModel, RetryModel
from qprim.workload.source import SourceDoc
from qprim.workload.types import ExecutionSpec

IBM_ONLY = ("primitives", "max_execution_time", "max_time", "max_usage_seconds")


def build_execution(
    model: ExecutionModel, retry: RetryModel | None, kind: str, doc: SourceDoc
) -> ExecutionSpec:
    runtime_service = backend_kind(kind).runtime_service
    if model.mode in ("batch", "session") and model.mode not in backend_kind(kind).modes:
        raise doc.error(
            ("execution", "mode"),
            f"mode {model.mode} is an IBM Quantum execution mode; on {kind} use "
            '"mode: auto" or "mode: job"',
        )
    if not runtime_service:
        for field in IBM_ONLY:
            if field in model.model_fields_set:
                raise doc.error(
                    ("execution", field), f"execution.{field} applies to IBM backends; remove it"
                )
        if retry is not None:
            raise doc.error(
                ("retry",),
                "retry applies to IBM jobs (Aer jobs do not fail for transient reasons); remove it",
            )
    if model.max_time is not None and model.mode not in ("batch", "session"):
        raise doc.error(
            ("execution", "max_time"),
            "max_time limits how long a batch or session stays open: set "
            '"mode: batch" or "mode: session" too, or remove it',
        )
    return ExecutionSpec(
        max_pubs_per_job=model.max_pubs_per_job,
        max_executions_per_job=model.max_executions_per_job,
        mode=model.mode,
        where=doc.at(("execution",)),
        primitives=(model.primitives or "executor") if runtime_service else None,
        max_execution_time=model.max_execution_time,
        max_time=model.max_time,
        max_usage_seconds=model.max_usage_seconds,
        usage_where=doc.at(("execution", "max_usage_seconds")),
        retry_failed=retry.failed if retry is not None else 0,
    )
