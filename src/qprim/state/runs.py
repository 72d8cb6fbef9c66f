"""Run folders: `result.json` (RuntimeEncoder), `run.json` (the run record), the workload copy.

A folder is assembled beside its destination and moved into place, so a reader never
sees half a run; `run.json` is written last because it is what claims the run exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from qprim.errors import InputError
from qprim.files import write_atomic
from qprim.report.describe import completed
from qprim.report.record import RunRecord
from qprim.state.codec import decode_result

if TYPE_CHECKING:
    import pandas
    from qiskit.primitives import PrimitiveResult

    from qprim.report.tidy import Tidy

RESULT_FILE = "result.json"
MANIFEST_FILE = "run.json"
WORKLOAD_DIR = "workload"
RUNS_DIR = Path("qprim-runs")
LABELLED_RECORD = 3  # the record_version that records parameters and observables


@dataclass(frozen=True)
class SavedRun:
    path: Path
    result: PrimitiveResult
    record: RunRecord

    def tidy(self) -> Tidy:
        """Every number of the run, one row per PUB x sweep point x outcome (sampler) or
        observable (estimator), parameter values by name: what `qprim export` writes."""
        from qprim.report.tidy import tidy

        return tidy(self.record, self.result)

    def to_dataframe(self) -> pandas.DataFrame:
        """`tidy()` as a pandas DataFrame (needs `pip install 'qprim[data]'`)."""
        from qprim.report.export import to_dataframe

        return to_dataframe(self.tidy())


def default_run_dir(name: str, digest: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "workload"
    return RUNS_DIR / f"{safe}-{stamp}-{digest.removeprefix('sha256:')[:8]}"


def save_run(
    out: Path, record: RunRecord, result_json: bytes, workload_files: tuple[Path, ...] = ()
) -> Path:
    """Write the folder: the result exactly as encoded, the workload's files, the record."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        write_atomic(staging / RESULT_FILE, result_json)
        _copy_workload(workload_files, staging / WORKLOAD_DIR)
        write_atomic(staging / MANIFEST_FILE, json.dumps(record.document(), indent=2) + "\n")
        if out.exists():
            _merge_into(staging, out)
        else:
            os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def load_run(path: str | os.PathLike[str]) -> SavedRun:
    folder = Path(path)
    try:
        record = RunRecord.model_validate_json((folder / MANIFEST_FILE).read_text())
        result = decode_result((folder / RESULT_FILE).read_text())
    except (OSError, ValueError, ValidationError) as exc:
        raise InputError(f"{folder}: not a qprim run folder ({exc})") from exc
    if record.record_version < LABELLED_RECORD:
        record = completed(record, folder, result)
    return SavedRun(folder, result, record)


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
