"""Small fakes for fast unit tests of the engine: a backend that keeps its jobs in memory
and can misbehave the ways real services do, and a preparer that transpiles nothing.

Why fakes here: the engine's logic (claims, tags, duplicates, limits, crash windows)
does not need a simulator or a server to be proven; the same behaviour is tested
through the real parts elsewhere.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from qprim.backends.base import (
    FoundJob,
    JobMetrics,
    JobRequest,
    JobStatus,
    SessionRef,
    StatusCallback,
)
from qprim.errors import DeadlineError, JobFailedError, PendingLimitReached

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeJob:
    job_id: str
    tags: tuple[str, ...]
    created: str
    session: SessionRef | None
    status: JobStatus = JobStatus.QUEUED


@dataclass
class FakeBackend:
    """Jobs complete when their result is asked for (unless `hold` is set, or they are
    in `never`). Knobs reproduce what real services do:

    - `duplicates`: the next submit creates this many extra jobs with the same tags
      (a client retrying a POST the service had accepted), returning the last one;
    - `lose_next`: the next submit creates its job, then raises (a lost response);
    - `pending_limit`: submits are refused while this many jobs are QUEUED/RUNNING;
    - `hold`: results wait until the event is set (jobs sit in the queue);
    - `fail`: job ids whose result is a failure.
    """

    kind: str = "fake"
    name: str = "fake_device"
    may_duplicate: bool = True
    supports_groups: bool = True
    num_qubits: int = 5
    duplicates: int = 0
    lose_next: bool = False
    pending_limit: int | None = None
    hold: threading.Event | None = None
    fail: set[str] = field(default_factory=set)
    never: set[str] = field(default_factory=set)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    sessions: dict[str, SessionRef] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    submits: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def target(self) -> Any:
        raise AssertionError("the fake backend transpiles nothing: use FakePreparer")

    def submit(self, request: JobRequest, session: SessionRef | None = None) -> str:
        with self._lock:
            self.submits += 1
            live = [j for j in self.jobs.values() if not j.status.final]
            if self.pending_limit is not None and len(live) >= self.pending_limit:
                raise PendingLimitReached(f"{len(live)} jobs pending, limit {self.pending_limit}")
            made = [self._create(request.tags, session) for _ in range(1 + self.duplicates)]
            self.duplicates = 0
            if self.lose_next:
                self.lose_next = False
                raise ConnectionError("the answer to the submit was lost")
            return made[-1].job_id

    def _create(self, tags: tuple[str, ...], session: SessionRef | None) -> FakeJob:
        number = next(self._ids)
        created = (_EPOCH + timedelta(seconds=number)).isoformat()
        job = FakeJob(f"fake-{number}", tags, created, session)
        self.jobs[job.job_id] = job
        return job

    def status(self, job_id: str) -> JobStatus:
        return self.jobs[job_id].status

    def result(self, job_id: str, deadline: float | None, on_status: StatusCallback) -> bytes:
        job = self.jobs[job_id]
        on_status(JobStatus.QUEUED)
        if job_id in self.never:
            raise DeadlineError(f"job {job_id} is still QUEUED", (job_id,))
        if self.hold is not None:
            self.hold.wait()
        if job.status is JobStatus.CANCELLED:
            raise JobFailedError(f"fake job {job_id} was cancelled")
        job.status = JobStatus.ERROR if job_id in self.fail else JobStatus.DONE
        on_status(job.status)
        if job.status is JobStatus.ERROR:
            raise JobFailedError(f"fake job {job_id} failed")
        return json.dumps({"job": job_id}).encode()

    def metrics(self, job_id: str) -> JobMetrics:
        return JobMetrics(created=self.jobs[job_id].created)

    def find_by_tag(self, tag: str) -> list[FoundJob]:
        with self._lock:
            return [
                FoundJob(job.job_id, job.status, job.created)
                for job in self.jobs.values()
                if tag in job.tags
            ]

    def cancel(self, job_id: str) -> None:
        if self.jobs[job_id].status is JobStatus.QUEUED:
            self.jobs[job_id].status = JobStatus.CANCELLED

    def open_group(self, mode: str, max_time: int | None = None) -> SessionRef:
        session = SessionRef(mode, f"fake-session-{len(self.sessions)}")
        self.sessions[session.id] = session
        return session

    def close_group(self, session: SessionRef) -> None:
        self.closed.append(session.id)

    def live(self, tag_prefix: str = "qprim-") -> list[FakeJob]:
        """Jobs not cancelled that qprim made (they carry a qprim tag)."""
        return [
            job
            for job in self.jobs.values()
            if job.status is not JobStatus.CANCELLED
            and any(t.startswith(tag_prefix) for t in job.tags)
        ]


class FakePreparer:
    """Builds requests without transpiling: the fake backend runs nothing."""

    def request(self, job: Any, backend: Any) -> tuple[JobRequest, list[dict[str, Any]]]:
        w = job.workload
        facts = [{"pub": part.pub, "depth": 1, "size": 1, "points": None} for part in job.parts]
        return JobRequest(primitive=w.primitive, pubs=[], options={}, tags=w.tags), facts
