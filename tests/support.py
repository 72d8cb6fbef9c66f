"""Helpers shared by the tests: paths, and the real `qprim` command in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from qprim.testing.prefect_server import server_env

if TYPE_CHECKING:
    from qprim.workload.types import Workload

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "workloads"
CORPUS = REPO.parent / "shared" / "corpus" / "qasmbench"


def base_env(prefect_home: Path) -> dict[str, str]:
    return {**server_env(prefect_home), "COLUMNS": "200"}


@dataclass
class Qprim:
    """Runs the real `qprim` command in a subprocess with this test's own state."""

    env: dict[str, str]
    cwd: Path
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = Path(self.env["QPRIM_HOME"])

    def run(
        self, *args: str | os.PathLike[str], timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "qprim", *map(str, args)],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
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
