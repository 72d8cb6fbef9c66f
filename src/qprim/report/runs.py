"""Run folders: `result.json` (RuntimeEncoder), `run.json` (the run record), the workload copy.

A folder is assembled beside its destination (a staging folder named after this
process) and renamed into place, so a reader never sees half a run, and `run.json` and
`result.json` of one folder always come from one run. An earlier run's folder at the
destination is moved aside whole, then deleted: never merged into. A folder that is not
a run folder is never touched. Staging folders left by a killed save are removed by the
next save beside them.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from qprim.errors import InputError
from qprim.files import make_staging_dir, write_atomic
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


def check_destination(out: Path | None) -> None:
    """Before anything is submitted: `out` can become this run's folder."""
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file is in the way; give a folder for the run")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise InputError(
            f"--out {out}: the folder holds other files and is not a qprim run folder; "
            "give a new or empty folder (an earlier run's folder is replaced whole)"
        )
    existing = next(parent for parent in (out, *out.parents) if parent.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: {existing} is not writable; give another folder")


def save_run(
    out: Path, record: RunRecord, result_json: bytes, workload_files: tuple[Path, ...] = ()
) -> Path:
    """Write the folder: the result exactly as encoded, the workload's files, the record."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(out)
    staging = make_staging_dir(out.parent, f".{out.name}.{os.getpid()}.")
    try:
        write_atomic(staging / RESULT_FILE, result_json)
        _copy_workload(workload_files, staging / WORKLOAD_DIR)
        write_atomic(staging / MANIFEST_FILE, json.dumps(record.document(), indent=2) + "\n")
        _replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _replace(staging: Path, out: Path) -> None:
    """Put the staged run at `out`; an earlier run there is moved aside whole first."""
    if out.exists():
        if any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
            raise InputError(f"--out {out}: not a qprim run folder; it was left untouched")
        aside = staging.with_name(staging.name.removesuffix(".tmp") + ".old.tmp")
        os.rename(out, aside)
        os.rename(staging, out)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(staging, out)


def _remove_abandoned_staging(out: Path) -> None:
    """Staging folders for `out` whose process is gone (a save that was killed); an
    earlier run moved aside by a save killed before it put its own in place goes back."""
    for leftover in sorted(out.parent.glob(f".{glob.escape(out.name)}.*.tmp")):
        pid = leftover.name.removeprefix(f".{out.name}.").split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if leftover.name.endswith(".old.tmp") and not out.exists():
            os.rename(leftover, out)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_run(path: str | os.PathLike[str]) -> SavedRun:
    """Load a saved run folder: its `PrimitiveResult` and its `run.json` manifest."""
    folder = Path(path)
    try:
        record = RunRecord.model_validate_json((folder / MANIFEST_FILE).read_text())
        result = decode_result((folder / RESULT_FILE).read_text())
    except (OSError, ValueError, ValidationError) as exc:
        raise InputError(f"{folder}: not a qprim run folder ({exc})") from exc
    if record.record_version < LABELLED_RECORD:
        record = completed(record, folder / WORKLOAD_DIR, result)
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
