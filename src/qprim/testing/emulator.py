"""Loopback emulator of IBM Quantum Runtime that executes jobs on Qiskit Aer.

Why: this machine (and CI) has no internet, yet qprim's IBM path must be tested with
the REAL `qiskit-ibm-runtime` client. The emulator serves the Runtime API
(`/api/v1/...`) and the IAM token endpoint (`/identity/token`) on one base URL,
describes devices from `qiskit_ibm_runtime.fake_provider`, runs sampler/estimator jobs
on Aer in a background worker, and lets tests inject faults.

Pointing the client at it (see `client_settings` and `runtime_service`):

- env `IAM_URL=<base>`: the IAM host is otherwise fixed to iam.cloud.ibm.com;
- env `QISKIT_FUNCTIONS_EXPERIMENTAL=1`: skips the IBM Cloud Global Search/Catalog
  instance lookup done when `instance` is a CRN;
- `url=<base>/experimental/api/v1`: the client uses a URL containing "experimental"
  verbatim as the Runtime API root (the emulator strips `/experimental`), so no
  `url_resolver` is needed. Equivalent: `url=<base>, url_resolver=lambda *a: <base>/api/v1`.
- Or forward-proxy mode: `url="http://cloud.fake"`, `proxies={"urls": {"http": <base>}}`,
  `IAM_URL=http://iam.cloud.fake`: the emulator accepts absolute-form request targets.

Noise: jobs run noiseless unless `RuntimeEmulator(noisy=True)`, the job carries the tag
`qprim-emulator:noise`, or its options carry `simulator.noise_model` (a `NoiseModel`);
then the device's noise model (`NoiseModel.from_backend`) is used. Seed: the job's
`simulator.seed_simulator` option, else the emulator's `seed`.

Auth: any API key is accepted except `"bad-token"` (or, with `valid_tokens=set`, any key
not in it). A rejected key still gets an IAM token, but every `/api/v1` call made with it
is answered 401, so the client raises `IBMNotAuthorizedError` (during
`QiskitRuntimeService(...)` the client swallows that error and finds no backends, so
`service.backend(name)` raises `QiskitBackendNotFoundError`). With `strict_iam=True` IAM
itself answers 400 like IBM Cloud does; the client then falls back to sending the raw
key (also 401) but its token manager makes every later call wait ~60 s, hence not the
default. A failing IAM can also be injected: `add_fault("POST", "^/identity/token$", ...)`.

Sessions and batches: `Batch(backend=...)`/`Session(backend=...)` as `mode=`, `from_id`,
`details()`, `close()`, `cancel()` work; every job records its `session_id` (see
`emulator_sessions`). `max_pending_jobs=N` refuses a submit like IBM's open plan does
(HTTP 400, error code 3458; see `emulator_jobs`). `jobs()` and `sessions()` (and
`GET /__admin__/jobs[?tag=X]`, `GET /__admin__/sessions`) show what was created.

Programs: `sampler` and `estimator` (the server-side primitives) and `executor` (what the
client-side primitives submit; see `emulator_executor`). Devices carry a status and
other users' pending jobs (`set_device`, `POST /__admin__/devices/NAME`), which
`GET /backends`, `backend.status()` and `least_busy()` see; each has a `mock_*` twin for
`dry_run=True`, whose jobs are estimated, never run. Usage: a job bills a fixed model of
its executions (`Billing`); `set_usage` (`POST /__admin__/usage`) gives the instance a
limit and earlier consumption, which `service.usage()` reports. Failures IBM marks
transient: tag a job `qprim-fault:fail-code=CODE[:TIMES]`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from qprim.testing.emulator_devices import DEFAULT_DEVICES, DeviceCatalog
from qprim.testing.emulator_faults import (
    CANCEL_TAG,
    FAIL_CODE_TAG_PREFIX,
    FAIL_TAG,
    NOISE_TAG,
    QUEUE_TAG_PREFIX,
    FaultTable,
    HttpFault,
)
from qprim.testing.emulator_http import EmulatorHTTPServer
from qprim.testing.emulator_jobs import Billing, JobStore
from qprim.testing.emulator_sessions import SessionStore, jobs_of

__all__ = [
    "CANCEL_TAG",
    "DEFAULT_CRN",
    "DEFAULT_TOKEN",
    "FAIL_CODE_TAG_PREFIX",
    "FAIL_TAG",
    "INVALID_TOKEN",
    "NOISE_TAG",
    "QUEUE_TAG_PREFIX",
    "RuntimeEmulator",
    "client_env",
    "client_settings",
    "runtime_service",
    "serve",
]

DEFAULT_CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/emulator:emulator-instance::"
DEFAULT_TOKEN = "emulator-token"
INVALID_TOKEN = "bad-token"


@dataclass
class Usage:
    """The instance's quota: `limit_s` (None: unlimited) and what was used before."""

    limit_s: float | None = None
    consumed_s: float = 0.0


class RuntimeEmulator:
    """In-process IBM Quantum Runtime emulator on a loopback port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        devices: Sequence[str] = DEFAULT_DEVICES,
        seed: int | None = None,
        noisy: bool = False,
        valid_tokens: Collection[str] | None = None,
        invalid_tokens: Collection[str] = (INVALID_TOKEN,),
        instance: str = DEFAULT_CRN,
        strict_iam: bool = False,
        max_pending_jobs: int | None = None,
        usage_limit: float | None = None,
        billing: Billing | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.instance = instance
        self.strict_iam = strict_iam
        self.devices = DeviceCatalog(list(devices))
        self.store = JobStore(
            self.devices,
            seed=seed,
            noisy=noisy,
            max_pending_jobs=max_pending_jobs,
            billing=billing or Billing(),
        )
        self.usage = Usage(limit_s=usage_limit)
        self.session_store = SessionStore(self.devices)
        self.faults = FaultTable()
        self.stopping = threading.Event()
        self._valid_tokens = None if valid_tokens is None else set(valid_tokens)
        self._invalid_tokens = set(invalid_tokens)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (valid once started)."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        """Serve in a background thread; return the base URL."""
        if self._server is not None:
            return self.url
        self.stopping.clear()
        self._server = EmulatorHTTPServer((self.host, self.port), self)
        self.store.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="runtime-emulator",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop promptly, even with hung (delayed) requests in flight."""
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()  # wakes delayed handlers, which then drop their connection
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.stop()

    def __enter__(self) -> RuntimeEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def token_is_valid(self, apikey: str) -> bool:
        if not apikey or apikey in self._invalid_tokens:
            return False
        return self._valid_tokens is None or apikey in self._valid_tokens

    # ----- admin helpers (same data as the admin HTTP API) -----------------------------
    def jobs(self, tag: str | None = None, dry_runs: bool = False) -> list[dict[str, Any]]:
        """Every job created, oldest first (`GET /__admin__/jobs[?tag=X]`); the dry runs
        (jobs on `mock_*` devices) instead, with `dry_runs`."""
        jobs = sorted(self.store.all(), key=lambda j: j.created_at)
        return [
            j.to_admin() for j in jobs if (tag is None or tag in j.tags) and j.dry_run == dry_runs
        ]

    def sessions(self) -> list[dict[str, Any]]:
        """Every session and batch, oldest first, with its job ids (`GET /__admin__/sessions`)."""
        jobs = self.store.all()
        sessions = sorted(self.session_store.all(), key=lambda s: s.created)
        return [s.to_admin(jobs_of(s.id, jobs)) for s in sessions]

    def set_device(
        self, name: str, status: str | None = None, other_jobs: int | None = None
    ) -> None:
        """A device's status (online, paused, offline) and other users' jobs queued there."""
        state = self.devices.states[self.devices.real(name)]
        state.status = status or state.status
        state.other_jobs = state.other_jobs if other_jobs is None else other_jobs

    def set_usage(self, limit_seconds: float | None, consumed_seconds: float = 0.0) -> None:
        """The instance's quota (None: unlimited) and the seconds used before this emulator."""
        self.usage = Usage(limit_seconds, consumed_seconds)

    def add_fault(
        self,
        method: str,
        path: str,
        count: int,
        status: int | None = None,
        delay: float | None = None,
        lose_response: bool = False,
        after_dispatch: bool = False,
    ) -> None:
        """Arm a fault for the next `count` requests matching `method` and regex `path`
        (see `HttpFault` for what each field does)."""
        self.faults.add(
            HttpFault(
                method,
                path,
                count,
                status=status,
                delay=delay,
                lose_response=lose_response,
                after_dispatch=after_dispatch,
            )
        )

    def clear_faults(self) -> None:
        self.faults.clear()


def client_env(base_url: str) -> dict[str, str]:
    """Environment variables the client needs (set them before constructing the service)."""
    return {"IAM_URL": base_url.rstrip("/"), "QISKIT_FUNCTIONS_EXPERIMENTAL": "1"}


def client_settings(base_url: str, token: str = DEFAULT_TOKEN) -> dict[str, Any]:
    """JSON-serialisable settings to reach the emulator at `base_url`.

    `QiskitRuntimeService(**{k: s[k] for k in ("channel", "token", "url", "instance")})`
    works once every `s["env"]` item is in `os.environ`. `api_url` is the Runtime API
    root, for callers that prefer `url_resolver=lambda *a, **k: s["api_url"]`.
    """
    base = base_url.rstrip("/")
    return {
        "channel": "ibm_quantum_platform",
        "token": token,
        "url": f"{base}/experimental/api/v1",
        "instance": DEFAULT_CRN,
        "api_url": f"{base}/api/v1",
        "iam_url": base,
        "env": client_env(base),
    }


def runtime_service(base_url: str, token: str = DEFAULT_TOKEN) -> Any:
    """A real `QiskitRuntimeService` bound to the emulator (sets `client_env` in os.environ)."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    settings = client_settings(base_url, token)
    os.environ.update(settings["env"])
    return QiskitRuntimeService(
        channel=settings["channel"],
        token=settings["token"],
        url=settings["url"],
        instance=settings["instance"],
    )


def serve(host: str = "127.0.0.1", port: int = 8765, **kwargs: Any) -> None:
    """Run the emulator in the foreground until Ctrl-C (`qprim emulator serve`)."""
    with RuntimeEmulator(host, port, **kwargs) as emulator:
        env = " ".join(f"{k}={v}" for k, v in client_env(emulator.url).items())
        print(f"IBM Runtime emulator listening on {emulator.url}", flush=True)
        print(f"client env: {env}", flush=True)
        print(f"client url: {client_settings(emulator.url)['url']}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)
