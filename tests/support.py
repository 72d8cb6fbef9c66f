"""Helpers shared by the tests: paths, and the real `qprim` command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qprim.testing.prefect_server import server_env

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
