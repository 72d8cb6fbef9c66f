"""A durable job store, so Aer jobs have ids and outlive the process (and the machine)
that made them.

One folder of objects per job, in an `ObjectStorage` (a local folder, or the storage a
team shares): `job.json` (the request header, written once, last), `pubs.json` (the
payload), `state.json` (status and times, rewritten whole) and `result.json`
(RuntimeEncoder JSON, written before the state says DONE, so a DONE state always has
its result). Any process on any machine that sees the storage may execute a queued job;
a lock held through the journal (`run_lock`) makes sure only one does, and a runner that
dies leaves the job queued for the next one.

A job's id is derived from its client token (the attempt's tag, as Amazon Braket's
`clientToken`): creating the same attempt twice, from a retry or from two machines,
gives the same job, and a job whose id was never recorded is found by its tag without
listing the storage.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qprim.backends.base import JobStatus
from qprim.errors import StateError
from qprim.state.storage import ObjectStorage

PREFIX = "aer-jobs"
# how the store keeps a job's executors apart: (key, deadline, what) -> a held lock
RunLock = Callable[[str, float | None, str], AbstractContextManager[None]]


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


def job_id_for(token: str) -> str:
    """The id of the job created for a client token (a stable function of it)."""
    return f"aer-{hashlib.sha256(token.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class StoredJob:
    """A job as the store knows it: its id and the request header."""

    job_id: str
    header: dict[str, Any]  # backend, noise, seed, primitive, options, tags, created

    @property
    def tags(self) -> list[str]:
        return list(self.header.get("tags", []))


class AerJobStore:
    def __init__(self, storage: ObjectStorage, run_lock: RunLock) -> None:
        self.storage = storage
        self.run_lock = run_lock

    def describe(self) -> str:
        return f"{self.storage.describe()}/{PREFIX}"

    def create(
        self, header: dict[str, Any], pubs_json: bytes, token: str | None = None
    ) -> StoredJob:
        """Record a job; once this returns, it exists and will run when fetched. With a
        `token`, the job that token already made is returned instead of a second one."""
        job_id = job_id_for(token) if token else f"aer-{secrets.token_hex(8)}"
        existing = self.get(job_id)
        if existing is not None:
            return existing
        header = {**header, "job_id": job_id, "created": utc_now()}
        self.storage.write(self._key(job_id, "pubs.json"), pubs_json)
        self._write_json(job_id, "state.json", {"status": JobStatus.QUEUED.value})
        # job.json last: a job without it is an unfinished create, invisible to readers
        self._write_json(job_id, "job.json", header)
        return StoredJob(job_id, header)

    def get(self, job_id: str) -> StoredJob | None:
        if "/" in job_id or job_id.startswith("."):
            return None
        raw = self.storage.read(self._key(job_id, "job.json"))
        if raw is None:
            return None
        try:
            return StoredJob(job_id, json.loads(raw))
        except ValueError as exc:
            raise StateError(
                f"Aer job {job_id} in {self.describe()} is damaged ({exc}); its work is "
                "submitted again by the next run with --refresh"
            ) from None

    def find(self, token: str) -> StoredJob | None:
        """The job created for `token` (a tag), if any."""
        job = self.get(job_id_for(token))
        return job if job is not None and token in job.tags else None

    def state(self, job: StoredJob) -> dict[str, Any]:
        raw = self.storage.read(self._key(job.job_id, "state.json"))
        if raw is None:
            raise FileNotFoundError(f"Aer job {job.job_id} has no state in {self.describe()}")
        return json.loads(raw)

    def set_state(self, job: StoredJob, **state: Any) -> None:
        self._write_json(job.job_id, "state.json", {**self.state(job), **state})

    def pubs_json(self, job: StoredJob) -> bytes:
        return self._read(job, "pubs.json")

    def result_json(self, job: StoredJob) -> bytes:
        return self._read(job, "result.json")

    def save_result(self, job: StoredJob, result_json: bytes) -> None:
        self.storage.write(self._key(job.job_id, "result.json"), result_json)
        self.set_state(job, status=JobStatus.DONE.value, finished=utc_now())

    def lock(self, job: StoredJob, deadline: float | None = None) -> AbstractContextManager[None]:
        """Held while a job executes, by whichever process on whichever machine runs it;
        released if that process dies."""
        return self.run_lock(f"aer-run:{job.job_id}", deadline, f"running Aer job {job.job_id}")

    def _read(self, job: StoredJob, name: str) -> bytes:
        raw = self.storage.read(self._key(job.job_id, name))
        if raw is None:
            raise FileNotFoundError(f"Aer job {job.job_id} has no {name} in {self.describe()}")
        return raw

    def _write_json(self, job_id: str, name: str, payload: dict[str, Any]) -> None:
        self.storage.write(self._key(job_id, name), (json.dumps(payload, indent=2) + "\n").encode())

    @classmethod
    def keys(cls, job_id: str) -> list[str]:
        """A job's objects, `job.json` last (as `create` writes them)."""
        names = ("pubs.json", "state.json", "result.json", "job.json")
        return [cls._key(job_id, name) for name in names]

    @staticmethod
    def _key(job_id: str, name: str) -> str:
        return f"{PREFIX}/{job_id}/{name}"
