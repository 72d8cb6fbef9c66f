"""Run several workloads in one command: each on its own, one bad file stopping none.

Used by `qprim run` for every invocation (one file is a batch of one), so a single run
and a CI run over a folder report the same way. Workloads run one after another: Aer
simulates in-process, and it crashed when run from several threads (see the emulator).
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qprim.checks import failed
from qprim.errors import ExpectationFailed, InputError, Interrupted, describe_failure
from qprim.results import SavedRun

WORKLOAD_SUFFIXES = (".yaml", ".yml")
INPUT_SUFFIXES = (*WORKLOAD_SUFFIXES, ".qpy", ".qasm")
# The worst outcome decides the exit code: a bug, then what needs the user's action
# (configuration, input), then what happened at the backend, then failed checks.
SEVERITY = (0, 6, 5, 3, 2, 4, 1, Interrupted.exit_code)


@dataclass(frozen=True)
class WorkloadRun:
    """How one workload of a batch ended."""

    path: Path
    exit_code: int
    seconds: float
    saved: SavedRun | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.saved.manifest["workload"]["name"] if self.saved else self.path.stem


def expand(inputs: list[Path]) -> list[Path]:
    """Files as given; folders by their workload files (*.yaml, *.yml); globs expanded."""
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix in WORKLOAD_SUFFIXES)
            if not found:
                raise InputError(f"{item}: no workload files (*.yaml, *.yml) in this folder")
            paths.extend(found)
        elif not item.exists() and glob.has_magic(str(item)):
            matches = sorted(Path(m) for m in glob.glob(str(item)))
            if not matches:
                raise InputError(f"{item}: no file matches this pattern")
            paths.extend(m for m in matches if m.suffix in INPUT_SUFFIXES)
        else:
            paths.append(item)
    return list(dict.fromkeys(paths))


def run_all(paths: list[Path], run_one: Callable[[Path], SavedRun]) -> Iterator[WorkloadRun]:
    """Run each workload, yielding how it ended; Ctrl-C stops the whole batch."""
    for path in paths:
        started = time.monotonic()
        try:
            saved = run_one(path)
        except Interrupted:
            raise
        except Exception as exc:
            code, message = describe_failure(exc)
            yield WorkloadRun(path, code, time.monotonic() - started, error=message)
            continue
        code = ExpectationFailed.exit_code if failed(saved.manifest["expect"]) else 0
        yield WorkloadRun(path, code, time.monotonic() - started, saved)


def worst_exit_code(runs: list[WorkloadRun]) -> int:
    return max((run.exit_code for run in runs), key=SEVERITY.index, default=0)
