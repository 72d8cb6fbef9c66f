"""`qprim fetch JOB_ID`: one job's result, from any process, saved as a run folder.

The journal says where the job ran (or `--block` does, for an IBM job submitted
elsewhere); the result comes from the result store when it is there, else from the
backend, inside a `qprim-fetch` flow run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qprim.engine.events import EventSink, ignore
from qprim.report import runs
from qprim.usecases.backends import backend_of, deadline_after, in_process_backends
from qprim.usecases.prepare import use_prefect

if TYPE_CHECKING:
    from qprim.backends.ibm import IBMAccount
    from qprim.engine import Collected
    from qprim.report.record import FlowRunRef


def fetch(
    job_id: str,
    *,
    out: Path | None,
    timeout: float | None,
    block: str | None = None,
    events: EventSink = ignore,
) -> runs.SavedRun:
    """Fetch a job by id, in any process: the journal says where it ran (or `block` does)."""
    from qprim.engine import Engine, Submitted
    from qprim.usecases.stores import open_stores

    folder = out or runs.RUNS_DIR / f"fetch-{job_id}"
    runs.check_destination(folder)
    stores = open_stores()
    row = stores.journal.by_job_id(job_id)
    accounts: dict[str | None, IBMAccount] = {}
    spec = backend_of(job_id, row, block, stores.aer, accounts)
    use_prefect()
    from qprim.flows.run import FetchCommand, fetch_command, log_event

    deadline = deadline_after(timeout)
    backends = in_process_backends(stores.aer, accounts, deadline)

    def both(event: object) -> None:
        events(event)  # type: ignore[arg-type]
        log_event(event)  # type: ignore[arg-type]

    engine = Engine(stores.journal, backends, stores.results, events=both, deadline=deadline)
    submitted = Submitted(
        digest=row.digest if row else "",
        label=job_id,
        workload=row.workload if row else job_id,
        backend=spec,
        job_id=job_id,
        submit="reused",
        tag=row.tag if row else "",
        session_id=row.session_id if row else None,
        mode=row.mode if row else "job",
        facts=tuple(row.pubs or ()) if row else (),
    )

    def finish(collected: Collected, flow_run: FlowRunRef) -> runs.SavedRun:
        from qprim.flows.artifacts import publish
        from qprim.usecases.assemble import fetched_record

        data = engine.payload(spec.kind, job_id)
        record, result = fetched_record(collected, row, data, flow_run)
        runs.save_run(folder, record, data)
        saved = runs.SavedRun(folder, result, record)
        publish(saved)
        return saved

    return fetch_command(FetchCommand(submitted, engine, finish, stores.settings.results))
