"""A durable local job store, so Aer jobs have ids and outlive the process that made them.

One folder per job: `job.json` (the request, written once), `state.json` (status and
times, rewritten atomically) and `result.json` (RuntimeEncoder JSON, written before the
state says DONE, so a DONE state always has its result). Any process may execute a
queued job; an OS file lock makes sure only one does, and a runner that dies leaves the
job queued for the next one.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qprim.backends.base import JobStatus
from qprim.files import write_atomic, write_json_atomic
from qprim.state.locks import exclusive

log = logging.getLogger("qprim")


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class StoredJob:
    """A job as the store knows it: the request header and where its files are."""

    job_id: str
    folder: Path
    header: dict[str, Any]  # backend, noise, seed, primitive, options, tags, created

    @property
    def tags(self) -> list[str]:
        return list(self.header.get("tags", []))


class AerJobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, header: dict[str, Any], pubs_json: bytes) -> StoredJob:
        """Record a new job; once this returns, the job exists and will run when fetched."""
        job_id = f"aer-{secrets.token_hex(8)}"
        folder = self.root / job_id
        header = {**header, "job_id": job_id, "created": utc_now()}
        write_atomic(folder / "pubs.json", pubs_json)
        write_json_atomic(folder / "state.json", {"status": JobStatus.QUEUED.value})
        # job.json last: a folder without it is an unfinished create, invisible to readers
        write_json_atomic(folder / "job.json", header)
        return StoredJob(job_id, folder, header)

    def get(self, job_id: str) -> StoredJob | None:
        folder = self.root / job_id
        if "/" in job_id or not (folder / "job.json").is_file():
            return None
        return StoredJob(job_id, folder, json.loads((folder / "job.json").read_text()))

    def jobs(self) -> Iterator[StoredJob]:
        """Every readable job; a damaged one is reported and skipped, never fatal to others."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            try:
                job = self.get(folder.name)
            except (OSError, ValueError) as exc:
                log.warning("skipping damaged Aer job %s: %s", folder, exc)
                continue
            if job is not None:
                yield job

    def state(self, job: StoredJob) -> dict[str, Any]:
        return json.loads((job.folder / "state.json").read_text())

    def set_state(self, job: StoredJob, **state: Any) -> None:
        write_json_atomic(job.folder / "state.json", {**self.state(job), **state})

    def pubs_json(self, job: StoredJob) -> bytes:
        return (job.folder / "pubs.json").read_bytes()

    def result_json(self, job: StoredJob) -> bytes:
        return (job.folder / "result.json").read_bytes()

    def save_result(self, job: StoredJob, result_json: bytes) -> None:
        write_atomic(job.folder / "result.json", result_json)
        self.set_state(job, status=JobStatus.DONE.value, finished=utc_now())

    def lock(self, job: StoredJob) -> Any:
        """Held while a job executes; released by the OS if the runner dies."""
        return exclusive(job.folder / ".run.lock", what=f"Aer job {job.job_id}")
