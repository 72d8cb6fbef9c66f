"""Sessions and batches of the Runtime emulator, as `qiskit-ibm-runtime` 0.51 uses them.

Why: qprim may group jobs in a `Batch` or `Session` and re-attach to it from another
process (`Batch.from_id`), so the emulator must keep session state the way IBM does.
What the client calls (`api/rest/runtime_session.py`, `session.py`, `batch.py`):

- `Batch(backend=b)` / `Session(backend=b)`: `POST /sessions` with
  `{"mode": "batch"|"dedicated", "backend": name, "instance": crn, "max_ttl"?: s}`;
  it keeps the answer's `id`.
- Jobs in the mode: `POST /jobs` carries `"session_id": id` (no mode field; the client
  sends `start_session`/`session_time` only when starting a session from a job, which
  Session/Batch never do).
- `.details()`, `.status()`, `.usage()`, `from_id(id, service)`: `GET /sessions/{id}`.
  `from_id` needs `backend_name`, checks `mode` against the class and, when `state` is
  "closed", marks the object inactive so it refuses jobs itself; a 404 becomes
  `IBMInputValueError("Session not found")`.
- `.close()` (and leaving `with`): `PATCH /sessions/{id}` `{"accepting_jobs": false}`;
  any 404 is ignored, other errors raise. The client closes again on `__exit__`, so
  closing a closed session must succeed.
- `.cancel()`: `DELETE /sessions/{id}/close`, which cancels the pending jobs too.

States (what `Session.status()` maps): "open" until a job of it starts, then
"active"; "closed" once it no longer accepts jobs and none is pending, or when cancelled.
A job submitted to a session that does not accept jobs any more is refused with HTTP 400
and IBM error code 4001 (the registry's "Job is part of a session that's been closed",
the only session-closed code it lists; IBM's status for this case is not documented, 400
matches its other body-validation refusals of `POST /jobs`). The client only reaches
the server with such a job from an object that still believes the session is open, e.g.
one re-attached with `from_id` before the close.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from qprim.testing.emulator_devices import DeviceCatalog
from qprim.testing.emulator_jobs import FINAL_STATES, ApiError, Job, iso_now

SESSION_MODES = ("batch", "dedicated")
SESSION_CLOSED_CODE = 4001
DEFAULT_MAX_TTL_S = 28800
INTERACTIVE_TTL_S = 60


class UnknownSessionError(LookupError):
    """A session id the emulator does not know."""


@dataclass
class RuntimeSession:
    """One session or batch; its state is derived from its jobs on every read."""

    id: str
    backend: str
    mode: str
    max_ttl: int
    created: str
    accepting_jobs: bool = True
    cancelled: bool = False
    stopped_accepting: str | None = None

    def state(self, jobs: list[Job]) -> str:
        if self.cancelled:
            return "closed"
        if not self.accepting_jobs and all(job.status in FINAL_STATES for job in jobs):
            return "closed"
        return "active" if any(job.running for job in jobs) else "open"

    def to_api(self, jobs: list[Job]) -> dict[str, Any]:
        """The `GET /sessions/{id}` shape."""
        state = self.state(jobs)
        started = sorted(job.running for job in jobs if job.running)
        finished = sorted(job.finished for job in jobs if job.finished)
        closed_at = None
        if state == "closed":
            closed_at = max([t for t in (self.stopped_accepting, *finished[-1:]) if t])
        timestamps = [{"status": "open", "timestamp": self.created}]
        timestamps += [{"status": "active", "timestamp": started[0]}] if started else []
        timestamps += [{"status": "closed", "timestamp": closed_at}] if closed_at else []
        return {
            "id": self.id,
            "backend_name": self.backend,
            "mode": self.mode,
            "max_ttl": self.max_ttl,
            "interactive_ttl": INTERACTIVE_TTL_S,
            "active_ttl": None,
            "state": state,
            "accepting_jobs": self.accepting_jobs and state != "closed",
            "started_at": self.created,
            "activated_at": started[0] if started else None,
            "last_job_started": started[-1] if started else None,
            "last_job_completed": finished[-1] if finished else None,
            "closed_at": closed_at,
            "elapsed_time": round(sum(job.quantum_seconds for job in jobs), 6),
            "timestamps": timestamps,
        }

    def to_admin(self, jobs: list[Job]) -> dict[str, Any]:
        """The `GET /__admin__/sessions` shape."""
        return {
            "id": self.id,
            "mode": self.mode,
            "state": self.state(jobs),
            "accepting_jobs": self.accepting_jobs,
            "backend": self.backend,
            "max_ttl": self.max_ttl,
            "created": self.created,
            "job_ids": [job.id for job in jobs],
        }


class SessionStore:
    """All sessions and batches; thread-safe (the HTTP server is threaded)."""

    def __init__(self, devices: DeviceCatalog) -> None:
        self._devices = devices
        self._lock = threading.Lock()
        self._sessions: dict[str, RuntimeSession] = {}

    def create(self, body: dict[str, Any]) -> RuntimeSession:
        """Validate a `POST /sessions` body (ValueError: HTTP 400) and open the session."""
        mode = body.get("mode", "dedicated")
        if mode not in SESSION_MODES:
            raise ValueError(f"unknown session mode {mode!r}; use one of {SESSION_MODES}")
        backend = body.get("backend")
        if backend not in self._devices.names:
            raise ValueError(f"unknown backend {backend!r}")
        session = RuntimeSession(
            id=f"emu-session-{uuid.uuid4().hex[:12]}",
            backend=str(backend),
            mode=str(mode),
            max_ttl=int(body.get("max_ttl") or DEFAULT_MAX_TTL_S),
            created=iso_now(),
        )
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> RuntimeSession:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise UnknownSessionError(f"Session not found: {session_id}")
        return session

    def all(self) -> list[RuntimeSession]:
        with self._lock:
            return list(self._sessions.values())

    def check_accepts(self, session_id: str, backend: Any) -> None:
        """Refuse a job for an unknown, closed or other-backend session, as IBM does."""
        try:
            session = self.get(session_id)
        except UnknownSessionError as exc:
            raise ValueError(str(exc)) from exc
        if not session.accepting_jobs:  # closed, cancelled, or closing with jobs pending
            raise ApiError(
                400,
                SESSION_CLOSED_CODE,
                f"Session {session_id} is closed and does not accept new jobs.",
            )
        if backend != session.backend:
            raise ValueError(f"session {session_id} runs on {session.backend}, not {backend!r}")

    def stop_accepting(self, session: RuntimeSession) -> None:
        """`PATCH {"accepting_jobs": false}`: pending jobs still run, then it closes."""
        with self._lock:
            if session.accepting_jobs:
                session.accepting_jobs = False
                session.stopped_accepting = iso_now()

    def cancel(self, session: RuntimeSession) -> None:
        """`DELETE /sessions/{id}/close`: closed at once (the caller cancels its jobs)."""
        self.stop_accepting(session)
        with self._lock:
            session.cancelled = True


def jobs_of(session_id: str, jobs: Iterable[Job]) -> list[Job]:
    """The jobs submitted in one session, oldest first."""
    return sorted((job for job in jobs if job.session_id == session_id), key=lambda j: j.created_at)
