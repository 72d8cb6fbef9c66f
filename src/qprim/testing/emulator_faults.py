"""Fault injection for the Runtime emulator: HTTP faults and job-tag faults.

Why: qprim's promises ("never submit twice, never lose a result") only mean something
if they hold when the service misbehaves. Tests arm faults either through the admin
API (`POST /__admin__/faults`) or by tagging a job (`qprim-fault:...`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

FAIL_TAG = "qprim-fault:fail"
CANCEL_TAG = "qprim-fault:cancel"
QUEUE_TAG_PREFIX = "qprim-fault:queue="
FAIL_CODE_TAG_PREFIX = "qprim-fault:fail-code="
"""`qprim-fault:fail-code=CODE[:TIMES]`: the job fails with IBM reason code CODE; with
TIMES, only the first TIMES jobs carrying this same tag do (later ones run)."""
NOISE_TAG = "qprim-emulator:noise"
"""Job tag asking the emulator to simulate with the device's noise model."""


@dataclass
class HttpFault:
    """Applies to the next `count` requests matching `method` and the regex `path`.

    By default the fault strikes before the request reaches the API: `delay` seconds of
    silence, then `status` (an IBM-style error) instead of any work. `lose_response`
    does the work and never answers. `after_dispatch=True` does the work first, then
    holds the real answer for `delay` seconds and/or replaces it with `status`: the
    service accepted the request and then failed to say so. On `POST /jobs`,
    `status=502, after_dispatch=True` creates a job per attempt, because the client
    retries 5xx POSTs (it keeps the id of the attempt that succeeded); `delay=S,
    after_dispatch=True` leaves a job that exists while the client has no id for it.
    """

    method: str
    path: str
    count: int
    status: int | None = None
    delay: float | None = None
    lose_response: bool = False
    after_dispatch: bool = False
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._regex = re.compile(self.path)
        if self.count < 1:
            raise ValueError("count must be >= 1")
        if self.status is None and self.delay is None and not self.lose_response:
            raise ValueError("a fault needs status, delay or lose_response")
        if self.after_dispatch and (
            self.lose_response or (self.status, self.delay) == (None, None)
        ):
            raise ValueError("after_dispatch needs status or delay, and no lose_response")

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> HttpFault:
        return cls(
            method=str(body["method"]),
            path=str(body["path"]),
            count=int(body.get("count", 1)),
            status=None if body.get("status") is None else int(body["status"]),
            delay=None if body.get("delay") is None else float(body["delay"]),
            lose_response=bool(body.get("lose_response", False)),
            after_dispatch=bool(body.get("after_dispatch", False)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "count": self.count,
            "status": self.status,
            "delay": self.delay,
            "lose_response": self.lose_response,
            "after_dispatch": self.after_dispatch,
        }

    def matches(self, method: str, path: str) -> bool:
        return self.method in (method.upper(), "*") and self._regex.search(path) is not None


class FaultTable:
    """Thread-safe list of armed HTTP faults; each match consumes one count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[HttpFault] = []

    def add(self, fault: HttpFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def take(self, method: str, path: str) -> HttpFault | None:
        """Consume one count of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


@dataclass(frozen=True)
class TagFaults:
    """What a job's `qprim-fault:*` tags ask for."""

    fail: bool = False
    cancel: bool = False
    queue_seconds: float = 0.0
    noise: bool = False
    fail_code: int | None = None
    fail_times: int | None = None  # None: every job with the tag fails
    fail_code_tag: str | None = None  # the tag itself: what the emulator counts

    @classmethod
    def from_tags(cls, tags: list[str]) -> TagFaults:
        queue = 0.0
        code = times = code_tag = None
        for tag in tags:
            if tag.startswith(QUEUE_TAG_PREFIX):
                queue = max(queue, float(tag.removeprefix(QUEUE_TAG_PREFIX)))
            if tag.startswith(FAIL_CODE_TAG_PREFIX):
                text, _, count = tag.removeprefix(FAIL_CODE_TAG_PREFIX).partition(":")
                code, times, code_tag = int(text), int(count) if count else None, tag
        return cls(
            fail=FAIL_TAG in tags,
            cancel=CANCEL_TAG in tags,
            queue_seconds=queue,
            noise=NOISE_TAG in tags,
            fail_code=code,
            fail_times=times,
            fail_code_tag=code_tag,
        )
