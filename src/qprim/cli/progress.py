"""While qprim waits: a live table of every job on stderr (workload, part, job id, status,
time queued and running), or, when stderr is not a terminal (CI logs, pipes), one line
per change. Fed by the engine's events, from any thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from qprim.cli.render import add_job_id_column, job_id_cell, new_table
from qprim.engine.events import Event

_STYLE = {
    "DONE": "green",
    "cached": "green",
    "QUEUED": "yellow",
    "RUNNING": "cyan",
    "waiting": "yellow",
    "failed": "bold red",
    "ERROR": "bold red",
    "CANCELLED": "bold red",
}


@dataclass
class _Row:
    workload: str
    job: str
    job_id: str = "-"
    state: str = "submitting"
    detail: str = ""
    since: float = 0.0  # when the job was first seen
    started: float | None = None  # when it was first seen RUNNING
    ended: float | None = None


class Progress:
    """Use as the engine's event sink, inside `with`."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, _Row] = {}
        self._lock = threading.Lock()
        self._live = (
            Live(console=console, get_renderable=self.table, refresh_per_second=4)
            if console.is_terminal
            else None
        )

    def __call__(self, event: Event) -> None:
        with self._lock:
            row = self.rows.setdefault(event.job, _Row(event.workload, event.job, since=event.at))
            row.job_id = event.job_id or row.job_id
            state = event.status if event.kind == "status" and event.status else event.kind
            if state == "RUNNING" and row.started is None:
                row.started = event.at
            if event.kind in ("fetched", "cached", "failed"):
                row.ended = event.at
                state = "DONE" if event.kind == "fetched" else state
            row.state, row.detail = state, event.detail
        if self._live is None:
            stamp = time.strftime("%H:%M:%S", time.localtime(event.at))
            self.console.print(f"{stamp} {event.line()}", markup=False, highlight=False)

    def table(self) -> Table | Text:
        if not self.rows:
            return Text("checking workloads and starting the flow…", style="dim")
        now = time.time()
        table = new_table("jobs")
        for header in ("workload", "job"):
            table.add_column(header, overflow="fold")
        add_job_id_column(table)
        for header in ("status", "queued s", "running s", "detail"):
            table.add_column(header, overflow="fold", justify="right" if " s" in header else "left")
        with self._lock:
            rows = list(self.rows.values())
        for row in rows:
            started = row.started or row.ended or now
            queued = started - row.since
            running = (row.ended or now) - row.started if row.started else None
            table.add_row(
                row.workload,
                row.job.removeprefix(row.workload).strip() or "-",
                job_id_cell(row.job_id),
                Text(row.state, style=_STYLE.get(row.state, "")),
                f"{queued:.0f}",
                "-" if running is None else f"{running:.0f}",
                Text(row.detail),
            )
        return table

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
