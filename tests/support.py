"""Helpers shared by the tests: paths, and the real `qprim` command in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from qprim.flows.server import command_line
from tests.prefect_server import server_env

if TYPE_CHECKING:
    from qprim.workload.types import Workload

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "workloads"
CORPUS = REPO.parent / "shared" / "corpus" / "qasmbench"


# The session's resident qprim process (conftest.py): every `qprim` a test runs is served
# by it unless the test says QPRIM_RESIDENT=off.
RESIDENT: dict[str, str] = {}


def base_env(prefect_home: Path) -> dict[str, str]:
    return {**server_env(prefect_home), "COLUMNS": "200", **RESIDENT}


@contextlib.contextmanager
def resident_process(
    socket_path: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`python -m qprim.resident` listening on `socket_path` (with `env`'s settings),
    until the block ends."""
    env = {**server_env(socket_path.parent / "prefect-home"), **(env or {})}
    log = socket_path.with_suffix(".log")
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "qprim.resident", "--socket", str(socket_path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_for(lambda: socket_path.exists() or process.poll() is not None, timeout)
        assert process.poll() is None, f"the resident process failed: {log.read_text()}"
        yield process
    finally:
        process.terminate()
        process.wait(60)


def wait_for(ready: Callable[[], object], timeout: float, what: str = "") -> None:
    """Return once `ready()`; fail after `timeout` seconds naming `what` (a hang names
    itself)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting: {what or ready}"
        time.sleep(0.05)


def qprim_processes(under: Path) -> dict[int, str]:
    """pid -> command line of every live process whose QPRIM_HOME is `under` or inside
    it: what a test's `qprim` commands left running (a managed server, its supervisor)."""
    found: dict[int, str] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        home = next(
            (e[len(b"QPRIM_HOME=") :] for e in environ if e.startswith(b"QPRIM_HOME=")), None
        )
        command = command_line(int(proc.name))
        if home is not None and command is not None:
            path = Path(home.decode(errors="replace"))
            if path == under or under in path.parents:
                found[int(proc.name)] = command
    return found


def kill_processes(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def port_open(port: int) -> bool:
    """Something accepts connections on loopback `port`."""
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Qprim:
    """Runs the real `qprim` command in a subprocess with this test's own state."""

    env: dict[str, str]
    cwd: Path
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = Path(self.env["QPRIM_HOME"])

    @property
    def server_dir(self) -> Path:
        """Where the local server qprim keeps for this PREFECT_HOME has its state."""
        return Path(self.env["PREFECT_HOME"]) / "qprim-server"

    def run(
        self,
        *args: str | os.PathLike[str],
        timeout: float = 300,
        env: dict[str, str] | None = None,
        umask: int | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qprim", *map(str, args)],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=None if umask is None else lambda: os.umask(umask),
        )

    def popen(
        self, *args: str | os.PathLike[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "qprim", *map(str, args)],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def python(self, script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A Python program using qprim's API, in its own process with this test's state."""
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run_json(self, *args: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
        """`qprim ... --json`, asserting success; the parsed document."""
        done = self.run(*args, "--json", **kwargs)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def aer_jobs(self) -> list[dict[str, Any]]:
        """Every job in the durable Aer job store: what the 'backend' really received."""
        root = self.home / "aer-jobs"
        return [json.loads(p.read_text()) for p in sorted(root.glob("*/job.json"))]

    def submissions(self) -> int:
        return journal_submissions(self.home)


def run_json_record(document: dict[str, Any]) -> dict[str, Any]:
    """`run --json`'s document without what it adds to run.json: the folder's path, the
    exit code and the numbers."""
    added = ("path", "exit_code", "results", "results_omitted")
    return {key: value for key, value in document.items() if key not in added}


def journal_job_ids(home: Path) -> list[str]:
    """Job ids the journal under QPRIM_HOME `home` records as submitted: once qprim wrote
    one, it knows the job (and says how to fetch it) whatever happens next."""
    db = home / "journal.sqlite"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=10) as connection:
            query = "SELECT job_id FROM submissions WHERE state = 'submitted' ORDER BY id"
            return [row[0] for row in connection.execute(query)]
    except sqlite3.OperationalError:  # not created yet
        return []


def journal_submissions(home: Path) -> int:
    """Rows in the journal's submissions table under QPRIM_HOME `home` (0: no journal)."""
    db = home / "journal.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "submissions" not in tables:
            return 0
        return connection.execute("SELECT count(*) FROM submissions").fetchone()[0]


@dataclass
class PrefectAPI:
    """What the Prefect server recorded, read through its REST API (what the UI shows)."""

    url: str

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        import httpx

        answer = httpx.post(f"{self.url}{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        import httpx

        answer = httpx.get(f"{self.url}/flow_runs/{flow_run_id}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def flow_run_tagged(self, tag: str) -> dict[str, Any]:
        """The one flow run carrying `tag` (tests give each workload a tag of its own)."""
        (found,) = self._post("/flow_runs/filter", {"flow_runs": {"tags": {"all_": [tag]}}})
        return found

    def logs(self, flow_run_id: str) -> list[dict[str, Any]]:
        """Every log line of the flow run and its task runs, oldest first."""
        body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC"}
        return self._post("/logs/filter", body)

    def task_runs(self, flow_run_id: str) -> dict[str, dict[str, Any]]:
        """The flow run's task runs by id."""
        body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
        return {run["id"]: run for run in self._post("/task_runs/filter", body)}

    def task_log_lines(self, flow_run_id: str) -> list[tuple[str, str]]:
        """(task run name, message) of every line a task run logged."""
        tasks = self.task_runs(flow_run_id)
        return [
            (tasks[log["task_run_id"]]["name"], log["message"])
            for log in self.logs(flow_run_id)
            if log["task_run_id"] in tasks
        ]

    def artifacts(self, flow_run_id: str) -> dict[str, dict[str, Any]]:
        """The flow run's artifacts by key."""
        body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}
        return {artifact["key"]: artifact for artifact in self._post("/artifacts/filter", body)}


def isa_pubs(workload: Workload) -> list[Any]:
    """Every PUB of `workload` transpiled for Aer's `aer_simulator`, as qprim submits them."""
    from qiskit_aer import AerSimulator

    from qprim.plan.jobs import JobSpec, Part
    from qprim.plan.prepare import Preparer

    parts = tuple(Part(pub.index, pub) for pub in workload.pubs)
    job = JobSpec(workload, 1, 1, parts, workload.digest, "job")
    aer = SimpleNamespace(kind="aer", name="aer_simulator", target=AerSimulator().target)
    request, _ = Preparer().request(job, aer)  # type: ignore[arg-type]
    return request.pubs


def qprim_under(root: Path, prefect_api_url: str) -> Qprim:
    """`qprim` with everything of its own under `root` (Prefect home and storage, QPRIM_HOME,
    a working directory), against the Prefect server at `prefect_api_url`."""
    env = base_env(root / "prefect-home")
    env.update(
        PREFECT_API_URL=prefect_api_url,
        PREFECT_LOCAL_STORAGE_PATH=str(root / "prefect-storage"),
        QPRIM_HOME=str(root / "qprim-home"),
    )
    (root / "work").mkdir()
    return Qprim(env, root / "work")
