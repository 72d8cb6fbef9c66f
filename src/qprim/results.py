"""Run folders: `result.json` (RuntimeEncoder), `run.json` (the manifest), the workload copy.

A folder is assembled beside its destination and moved into place, so a reader never
sees half a run; `run.json` is written last because it is what claims the run exists.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qprim import __version__
from qprim.errors import InputError
from qprim.files import write_atomic, write_json_atomic

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

RESULT_FILE = "result.json"
MANIFEST_FILE = "run.json"
WORKLOAD_DIR = "workload"
RUNS_DIR = Path("qprim-runs")


@dataclass(frozen=True)
class SavedRun:
    path: Path
    result: PrimitiveResult
    manifest: dict[str, Any]


def versions() -> dict[str, str]:
    packages = ("qiskit", "qiskit_aer", "qiskit_ibm_runtime", "prefect")
    return {name: metadata.version(name.replace("_", "-")) for name in packages}


def default_run_dir(name: str, digest: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return RUNS_DIR / f"{name}-{stamp}-{digest.removeprefix('sha256:')[:8]}"


def save_run(
    out: Path,
    manifest: dict[str, Any],
    result: PrimitiveResult,
    workload_files: tuple[Path, ...] = (),
) -> Path:
    from qiskit_ibm_runtime import RuntimeEncoder

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        write_atomic(staging / RESULT_FILE, json.dumps(result, cls=RuntimeEncoder))
        _copy_workload(workload_files, staging / WORKLOAD_DIR)
        write_json_atomic(staging / MANIFEST_FILE, manifest)
        if out.exists():
            _merge_into(staging, out)
        else:
            os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def load_run(path: str | os.PathLike[str]) -> SavedRun:
    from qiskit_ibm_runtime import RuntimeDecoder

    folder = Path(path)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        result = json.loads((folder / RESULT_FILE).read_text(), cls=RuntimeDecoder)
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: not a qprim run folder ({exc})") from exc
    return SavedRun(folder, result, manifest)


def _copy_workload(files: tuple[Path, ...], target: Path) -> None:
    """Copy the workload and the files it references, keeping their relative places."""
    if not files:
        return
    base = files[0].resolve().parent
    for file in files:
        resolved = file.resolve()
        relative = resolved.relative_to(base) if resolved.is_relative_to(base) else resolved.name
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(resolved, destination)


def _merge_into(staging: Path, out: Path) -> None:
    """An existing `--out` folder: replace file by file, the manifest last."""
    for source in sorted(staging.rglob("*"), key=lambda p: p.name == MANIFEST_FILE):
        if source.is_file():
            destination = out / source.relative_to(staging)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)


def manifest(
    *,
    workload: dict[str, Any],
    primitive: str,
    backend: dict[str, Any],
    jobs: list[dict[str, Any]],
    pubs: list[dict[str, Any]],
    expect: list[dict[str, Any]] | None = None,
    flow_run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `run.json` document (spec section 3, plus `pubs`, `flow_run` and `saved`)."""
    return {
        "qprim_version": __version__,
        "workload": workload,
        "primitive": primitive,
        "backend": backend,
        "jobs": jobs,
        "pubs": pubs,
        "expect": expect or [],
        "flow_run": flow_run,
        "saved": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
