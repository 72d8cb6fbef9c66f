"""HTTP layer of the Runtime emulator: routing, auth, IAM and the admin API.

Why: the real `qiskit-ibm-runtime` client must not notice it talks to loopback, so
paths, status codes and JSON shapes follow IBM Quantum Runtime (`/api/v1`) and IBM
Cloud IAM (`/identity/token`). Handlers return a `Response` instead of writing to
the socket so that faults can delay, replace or drop the answer after the work is done.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

from qprim.testing.emulator_devices import UnknownDeviceError
from qprim.testing.emulator_faults import HttpFault
from qprim.testing.emulator_jobs import FINAL_STATES, ApiError, Job, JobInputError, parse_iso
from qprim.testing.emulator_sessions import RuntimeSession, UnknownSessionError, jobs_of

if TYPE_CHECKING:
    import threading

    from qprim.testing.emulator_devices import DeviceCatalog
    from qprim.testing.emulator_faults import FaultTable
    from qprim.testing.emulator_jobs import JobStore
    from qprim.testing.emulator_sessions import SessionStore


class EmulatorState(Protocol):
    """What the HTTP layer serves: the emulator's state (`qprim.testing.RuntimeEmulator`),
    typed by its shape so that this module does not import the one that starts it."""

    instance: str
    strict_iam: bool
    devices: DeviceCatalog
    store: JobStore
    session_store: SessionStore
    faults: FaultTable
    stopping: threading.Event

    def token_is_valid(self, apikey: str) -> bool: ...

    def sessions(self) -> list[dict[str, Any]]: ...


API_PREFIX = "/api/v1"
ERRORS_URL = "https://quantum.cloud.ibm.com/docs/errors"
EXPERIMENTAL_PREFIX = "/experimental"
"""Alias prefix: a client `url` containing "experimental" is used verbatim by the client."""
TOKEN_TTL_SECONDS = 3600


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode())


def error_response(status: int, message: str, code: int | None = None) -> Response:
    """An IBM-style error body: IBM sends `errors[]` (integer `code`); the client reads
    `error.message` / `error.code` into its exception text when present."""
    code = code if code is not None else status * 10
    body = {
        "errors": [{"code": code, "message": message, "more_info": ERRORS_URL}],
        "error": {"code": code, "message": message},
        "status_code": status,
        "trace": uuid.uuid4().hex,
    }
    response = json_response(body, status)
    if status == 429:
        response.headers["Retry-After"] = "1"
    return response


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(subject: str) -> str:
    """An unsigned-looking JWT; the IBM SDK decodes it without verifying signatures."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT"}
    payload = {"iat": now, "exp": now + TOKEN_TTL_SECONDS, "sub": subject, "iss": "emulator"}
    parts = [json.dumps(p).encode() for p in (header, payload)]
    return ".".join([*(_b64url(p) for p in parts), _b64url(b"emulator-signature")])


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path regex) to a handler of `RuntimeEmulator`'s API."""

    def __init__(self, emulator: EmulatorState) -> None:
        self.emu = emulator
        self.issued_tokens: set[str] = set()
        api = API_PREFIX
        job = rf"{api}/jobs/(?P<job_id>[^/]+)"
        backend = rf"{api}/backends/(?P<name>[^/]+)"
        session = rf"{api}/sessions/(?P<session_id>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("POST", r"/identity/token", self.iam_token),
            ("GET", rf"{api}/backends", self.backends),
            ("GET", rf"{backend}/configuration", self.backend_configuration),
            ("GET", rf"{backend}/properties", self.backend_properties),
            ("GET", rf"{backend}/status", self.backend_status),
            ("GET", rf"{api}/instances/usage", self.usage),
            ("GET", rf"{api}/instances", self.instances),
            ("POST", rf"{api}/jobs", self.job_create),
            ("GET", rf"{api}/jobs", self.job_list),
            ("GET", job, self.job_get),
            ("DELETE", job, self.job_delete),
            ("GET", rf"{job}/results", self.job_results),
            ("GET", rf"{job}/metrics", self.job_metrics),
            ("GET", rf"{job}/logs", self.job_logs),
            ("POST", rf"{job}/cancel", self.job_cancel),
            ("PUT", rf"{job}/tags", self.job_tags),
            ("POST", rf"{api}/sessions", self.session_create),
            ("GET", session, self.session_get),
            ("PATCH", session, self.session_update),
            ("DELETE", rf"{session}/close", self.session_cancel),
            ("GET", r"/__admin__/jobs", self.admin_jobs),
            ("GET", r"/__admin__/sessions", self.admin_sessions),
            ("POST", r"/__admin__/devices/(?P<name>[^/]+)", self.admin_device),
            ("POST", r"/__admin__/usage", self.admin_usage),
            ("GET", r"/__admin__/usage", self.usage),
            ("GET", r"/__admin__/faults", self.admin_faults),
            ("POST", r"/__admin__/faults", self.admin_fault_add),
            ("DELETE", r"/__admin__/faults", self.admin_fault_clear),
            ("GET", r"/__admin__/health", lambda _req: json_response({"ok": True})),
        ]
        self.routes = [(m, re.compile(f"^{p}/?$"), h) for m, p, h in table]

    # ----- dispatch --------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        path_known = False
        for method, regex, handler in self.routes:
            match = regex.match(req.path)
            if not match:
                continue
            path_known = True
            if method != req.method:
                continue
            req.params = match.groupdict()
            if req.path.startswith(API_PREFIX) and not self._authorized(req):
                return error_response(401, "Unauthorized: invalid or missing token", 401)
            try:
                return handler(req)
            except (_NotFound, UnknownSessionError) as exc:
                return error_response(404, str(exc), 1291)
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.code)
            except (json.JSONDecodeError, JobInputError, ValueError) as exc:
                return error_response(400, str(exc), 400)
            except Exception as exc:  # an emulator bug: say so instead of dropping the socket
                return error_response(500, f"emulator error: {exc!r}", 500)
        if path_known:
            return error_response(405, f"method {req.method} not allowed on {req.path}")
        return error_response(404, f"no route for {req.method} {req.path}", 404)

    def _authorized(self, req: Request) -> bool:
        auth = req.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() == "bearer" and token in self.issued_tokens

    # ----- IAM -------------------------------------------------------------------------
    def iam_token(self, req: Request) -> Response:
        form = parse_qs(req.body.decode())
        apikey = (form.get("apikey") or [""])[-1]
        valid = self.emu.token_is_valid(apikey)
        if not valid and self.emu.strict_iam:
            return json_response(
                {
                    "errorCode": "BXNIM0415E",
                    "errorMessage": "Provided API key could not be found.",
                    "context": {"requestId": uuid.uuid4().hex},
                },
                400,
            )
        token = make_jwt(apikey)
        if valid:  # an invalid key still gets a token, which the API then answers with 401
            self.issued_tokens.add(token)
        now = int(time.time())
        return json_response(
            {
                "access_token": token,
                "refresh_token": "not_supported",
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_SECONDS,
                "expiration": now + TOKEN_TTL_SECONDS,
                "scope": "ibm openid",
            }
        )

    # ----- backends --------------------------------------------------------------------
    def _device(self, req: Request, getter: Callable[[str], Any]) -> Response:
        try:
            return json_response(getter(req.params["name"]))
        except UnknownDeviceError:
            return error_response(404, f"Backend {req.params['name']} not found", 1216)

    def backends(self, req: Request) -> Response:
        devices, store = self.emu.devices, self.emu.store
        names = list(devices.names)
        if (req.arg("include_mocks") or "").lower() == "true":
            names += [devices.mock_of(name) for name in devices.names]
        listed = [devices.summary(name, store.pending_on(name)) for name in names]
        return json_response({"devices": listed})

    def backend_configuration(self, req: Request) -> Response:
        return self._device(req, self.emu.devices.configuration)

    def backend_properties(self, req: Request) -> Response:
        return self._device(req, self.emu.devices.properties)

    def backend_status(self, req: Request) -> Response:
        store = self.emu.store
        return self._device(req, lambda name: self.emu.devices.status(name, store.pending_on(name)))

    def usage(self, _req: Request) -> Response:
        """IBM's instance usage: the client computes `usage_remaining_seconds` itself."""
        consumed = self.emu.usage.consumed_s + self.emu.store.consumed_seconds()
        limit = self.emu.usage.limit_s
        return json_response(
            {
                "instance_id": self.emu.instance,
                "usage_consumed_seconds": round(consumed, 6),
                "usage_limit_seconds": limit,
                "usage_limit_reached": limit is not None and consumed >= limit,
            }
        )

    def instances(self, _req: Request) -> Response:
        return json_response([{"crn": self.emu.instance, "name": "emulator", "plan": "open"}])

    # ----- jobs ------------------------------------------------------------------------
    def _job(self, req: Request) -> Job:
        job = self.emu.store.get(req.params["job_id"])
        if job is None:
            raise _NotFound(f"Job not found: {req.params['job_id']}")
        return job

    def job_create(self, req: Request) -> Response:
        body = req.json()
        if body.get("session_id") is not None:
            self.emu.session_store.check_accepts(str(body["session_id"]), body.get("backend"))
        job = self.emu.store.create(body)
        return json_response({"id": job.id, "backend": job.backend, "private": False})

    def job_list(self, req: Request) -> Response:
        mocks = (req.arg("include_mocks") or "").lower() == "true"
        jobs = [
            job
            for job in self.emu.store.all()
            if _job_matches(job, req) and (mocks or not job.dry_run)
        ]
        jobs.sort(key=lambda j: j.created_at, reverse=(req.arg("sort") or "").upper() != "ASC")
        offset = int(req.arg("offset") or 0)
        limit = int(req.arg("limit") or 10)
        page = jobs[offset : offset + limit]
        return json_response(
            {
                "jobs": [j.to_api() for j in page],
                "count": len(jobs),
                "limit": limit,
                "offset": offset,
            }
        )

    def job_get(self, req: Request) -> Response:
        include = (req.arg("exclude_params") or "").lower() != "true"
        return json_response(self._job(req).to_api(include_params=include))

    def job_delete(self, req: Request) -> Response:
        self.emu.store.delete(self._job(req).id)
        return Response(204)

    def job_results(self, req: Request) -> Response:
        job = self._job(req)
        if job.result_text is None:
            return error_response(404, f"Results for job {job.id} are not available", 1240)
        job.result_reads += 1
        return Response(200, job.result_text.encode(), content_type="text/plain")

    def job_metrics(self, req: Request) -> Response:
        job = self._job(req)
        return json_response(job.metrics(self.emu.store.positions(job)))

    def job_logs(self, req: Request) -> Response:
        job = self._job(req)
        return Response(200, f"{job.status}: {job.reason or ''}\n".encode(), "text/plain")

    def job_cancel(self, req: Request) -> Response:
        job = self._job(req)
        if not self.emu.store.cancel(job.id):
            return error_response(409, f"Job {job.id} is already {job.status}", 3209)
        return Response(204)

    def job_tags(self, req: Request) -> Response:
        job = self._job(req)
        job.tags = [str(t) for t in req.json().get("tags", [])]
        return Response(204)

    # ----- sessions and batches (see emulator_sessions) ------------------------------
    def _session(self, req: Request) -> tuple[RuntimeSession, list[Job]]:
        session = self.emu.session_store.get(req.params["session_id"])
        return session, jobs_of(session.id, self.emu.store.all())

    def session_create(self, req: Request) -> Response:
        session = self.emu.session_store.create(req.json())
        return json_response(session.to_api([]))

    def session_get(self, req: Request) -> Response:
        session, jobs = self._session(req)
        return json_response(session.to_api(jobs))

    def session_update(self, req: Request) -> Response:
        """Only closing is supported: the client sends nothing else."""
        session, _jobs = self._session(req)
        if req.json().get("accepting_jobs") is not False:
            raise ValueError('the emulator only supports {"accepting_jobs": false}')
        self.emu.session_store.stop_accepting(session)
        return Response(204)

    def session_cancel(self, req: Request) -> Response:
        session, jobs = self._session(req)
        self.emu.session_store.cancel(session)
        for job in jobs:
            self.emu.store.cancel(job.id)  # False for final jobs: nothing to do
        return Response(204)

    # ----- admin -----------------------------------------------------------------------
    def admin_jobs(self, req: Request) -> Response:
        """Jobs (`?tag=` each given tag), oldest first; dry runs only with `?dry_runs=true`,
        and then only them."""
        tags = req.query.get("tag", [])
        dry = (req.arg("dry_runs") or "").lower() == "true"
        jobs = [
            j for j in self.emu.store.all() if all(t in j.tags for t in tags) and j.dry_run == dry
        ]
        jobs.sort(key=lambda j: j.created_at)
        return json_response([j.to_admin() for j in jobs])

    def admin_sessions(self, _req: Request) -> Response:
        return json_response(self.emu.sessions())

    def admin_device(self, req: Request) -> Response:
        """Set a device's `status` (online, paused, offline) and `other_jobs` (queued ahead)."""
        body = req.json()
        try:
            state = self.emu.devices.states[self.emu.devices.real(req.params["name"])]
        except UnknownDeviceError:
            return error_response(404, f"Backend {req.params['name']} not found", 1216)
        state.status = str(body.get("status", state.status))
        state.other_jobs = int(body.get("other_jobs", state.other_jobs))
        return json_response({"status": state.status, "other_jobs": state.other_jobs})

    def admin_usage(self, req: Request) -> Response:
        """Set the instance's `limit_seconds` (null: no limit) and earlier `consumed_seconds`."""
        body = req.json()
        usage = self.emu.usage
        if "limit_seconds" in body:
            limit = body["limit_seconds"]
            usage.limit_s = None if limit is None else float(limit)
        usage.consumed_s = float(body.get("consumed_seconds", usage.consumed_s))
        return json_response({"limit_seconds": usage.limit_s, "consumed_seconds": usage.consumed_s})

    def admin_faults(self, _req: Request) -> Response:
        return json_response(self.emu.faults.list())

    def admin_fault_add(self, req: Request) -> Response:
        try:
            fault = HttpFault.from_json(req.json())
        except (KeyError, TypeError, re.error) as exc:
            return error_response(400, f"bad fault: {exc!r}", 400)
        self.emu.faults.add(fault)
        return json_response(fault.to_json(), 201)

    def admin_fault_clear(self, _req: Request) -> Response:
        self.emu.faults.clear()
        return Response(204)


class _NotFound(LookupError):
    """A job or session id the emulator does not know (HTTP 404)."""


def _job_matches(job: Job, req: Request) -> bool:
    """The `GET /jobs` filters: tags (all), backend, program, pending, session, dates."""
    checks = [
        all(tag in job.tags for tag in req.query.get("tags", [])),
        req.arg("backend") in (None, job.backend),
        req.arg("program") in (None, job.program_id),
        req.arg("session_id") in (None, job.session_id),
    ]
    pending = req.arg("pending")
    if pending is not None:
        checks.append((job.status not in FINAL_STATES) == (pending.lower() == "true"))
    created = parse_iso(job.created)
    if after := req.arg("created_after"):
        checks.append(created >= parse_iso(after))
    if before := req.arg("created_before"):
        checks.append(created <= parse_iso(before))
    return all(checks)


def _injected(status: int) -> Response:
    return error_response(status, f"Injected fault: HTTP {status}")


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Threaded server that never waits for hung handlers when closing."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: EmulatorState) -> None:
        self.emulator = emulator
        self.router = Router(emulator)
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    """Reads a request, applies any armed fault, dispatches, writes the response."""

    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (tests stay readable)."""

    def _request(self) -> Request:
        target = urlsplit(self.path)  # absolute-form targets come from proxy mode
        path = target.path
        if path.startswith(EXPERIMENTAL_PREFIX + "/"):
            path = path.removeprefix(EXPERIMENTAL_PREFIX)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return Request(self.command, path, parse_qs(target.query), self.headers, body)

    def _handle(self) -> None:
        """Apply the armed fault (see `HttpFault`) around the dispatch."""
        emu = self.server.emulator
        req = self._request()
        fault = None if req.path.startswith("/__admin__") else emu.faults.take(req.method, req.path)
        if fault is None:
            self._send(self.server.router.dispatch(req))
            return
        if not fault.after_dispatch:
            if not self._hold(fault.delay):
                return
            if fault.status and not fault.lose_response:
                self._send(_injected(fault.status))
                return
        response = self.server.router.dispatch(req)
        if fault.lose_response:
            self.close_connection = True
            return  # the work is done, the answer is never sent
        if fault.after_dispatch:
            if not self._hold(fault.delay):
                return
            if fault.status:
                response = _injected(fault.status)  # the work is done, the answer is an error
        self._send(response)

    def _hold(self, delay: float | None) -> bool:
        """Wait `delay` seconds; False (connection dropped) if the emulator stops meanwhile."""
        if delay and self.server.emulator.stopping.wait(delay):
            self.close_connection = True
            return False
        return True

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        if response.body or response.status != 204:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)
