"""What a run record says about each PUB's sweep and observables, taken from the workload.

Why recorded at run time: a run folder must be readable (tables labelled by parameter
values, plots with named axes, exports) even when its workload copy no longer loads (a
newer loader, moved files, a `qprim fetch`). Records written before `record_version` 3
lack these fields; `completed` fills them from the workload copy when it still loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qprim.report.record import ObservablesRecord, ParametersRecord

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.report.record import RunRecord
    from qprim.workload.types import PubSpec

YAML_SUFFIXES = (".yaml", ".yml")


def parameters_record(pub: PubSpec) -> ParametersRecord | None:
    """The values bound to the PUB's parameters, by name; None without parameters."""
    if pub.parameter_values is None or not pub.parameter_names:
        return None
    return ParametersRecord(
        names=list(pub.parameter_names), values=pub.parameter_values.astype(float).tolist()
    )


def observables_record(pub: PubSpec) -> ObservablesRecord | None:
    """An estimator PUB's observables as full-text labels, in their own shape."""
    if pub.observables is None:
        return None
    import numpy as np

    from qprim.workload.summary import observable_label

    labels = np.frompyfunc(observable_label, 1, 1)(pub.observables)
    return ObservablesRecord(
        labels=labels.tolist() if pub.observables.ndim else str(labels),
        shape=list(pub.observables.shape),
    )


def completed(record: RunRecord, copy: Path, result: PrimitiveResult) -> RunRecord:
    """An older record with its PUBs' parameters and observables and its checks'
    targets filled in from the workload copy in the folder `copy` (the run folder's
    `workload/`); unchanged if it cannot be read.

    Best effort on purpose: a table labelled by index beats no table, so any failure to
    reload the copy (moved files, an input the loader now refuses) leaves it as it is.
    """
    source = record.workload.source
    if not source or Path(source).suffix.lower() not in YAML_SUFFIXES:
        return record
    try:
        from qprim.report.checks import evaluate
        from qprim.workload import load_workload

        workload = load_workload(copy / Path(source).name)
        checks = evaluate(workload.expect, result)
    except Exception:
        return record
    if len(workload.pubs) != len(record.pubs):
        return record
    pubs = [
        pub.model_copy(
            update={"parameters": parameters_record(spec), "observables": observables_record(spec)}
        )
        for pub, spec in zip(record.pubs, workload.pubs, strict=True)
    ]
    expect = record.expect
    if [(c.pub, c.kind) for c in checks] == [(c.pub, c.kind) for c in expect]:
        targets = ("expected", "tolerance", "at")
        expect = [
            check.model_copy(update={key: getattr(again, key) for key in targets})
            for check, again in zip(expect, checks, strict=True)
        ]
    return record.model_copy(update={"pubs": pubs, "expect": expect})
