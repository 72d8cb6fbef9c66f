"""The tidy table of a run (`qprim.report.tidy`) as CSV, JSON, Parquet or a DataFrame.

Why one module: every format must carry the same columns and the same numbers; they
differ only in encoding. CSV and JSON need nothing beyond the standard library; pandas
(and pyarrow, for Parquet) are the optional extra `data`: `pip install 'qprim[data]'`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING, Any

from qprim.errors import InputError

if TYPE_CHECKING:
    import pandas

    from qprim.report.tidy import Tidy

DATA_EXTRA = "pip install 'qprim[data]'"


def to_csv(table: Tidy) -> str:
    """A header line, then one line per row; empty cells where a PUB lacks a parameter.
    Floats are written in full (Python's repr), so they read back exactly."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=table.columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table.rows)
    return buffer.getvalue()


def to_json(table: Tidy) -> str:
    """One JSON array of row objects (what `pandas.read_json` reads); null for a missing
    parameter or a non-finite number."""
    rows = [{key: _finite(value) for key, value in row.items()} for row in table.rows]
    return json.dumps(rows, indent=1) + "\n"


def to_dataframe(table: Tidy) -> pandas.DataFrame:
    """A pandas DataFrame with the table's columns, in order (NaN for a missing parameter)."""
    try:
        import pandas
    except ImportError as exc:
        raise InputError(f"a DataFrame needs pandas: {DATA_EXTRA}") from exc
    return pandas.DataFrame.from_records(table.rows, columns=table.columns)


def to_parquet(table: Tidy) -> bytes:
    """The DataFrame as Parquet bytes (needs pyarrow)."""
    frame = to_dataframe(table)
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except ImportError as exc:
        raise InputError(f"Parquet needs pandas and pyarrow: {DATA_EXTRA}") from exc
    return buffer.getvalue()


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
