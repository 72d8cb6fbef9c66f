"""Which of the client's primitives a job runs on, and its result made storable.

The client-side primitives (`executor_sampler.Sampler`, `executor_estimator.Estimator`,
qiskit-ibm-runtime 0.50+) are the default; the server-side `SamplerV2`/`EstimatorV2`,
which the client deprecates, only when a workload asks for `primitives: legacy`. Both
hand back a `PrimitiveResult`, but the client-side ones put the executor's own objects
in its metadata (`metadata["executor"]`: a `Metadata` of `ChunkSpan`s with datetimes),
which `RuntimeEncoder` cannot write: they are kept as plain data (ISO times), so the
stored result, the run folder and every export stay the same format for both.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

    from qprim.backends.base import JobRequest


def primitive_class(request: JobRequest) -> Any:
    """The client's primitive for a request: client-side unless it asks for the legacy one."""
    if request.primitives == "legacy":
        from qiskit_ibm_runtime import EstimatorV2, SamplerV2

        return SamplerV2 if request.primitive == "sampler" else EstimatorV2
    if request.primitive == "sampler":
        from qiskit_ibm_runtime.executor_sampler import Sampler

        return Sampler
    from qiskit_ibm_runtime.executor_estimator import Estimator

    return Estimator


def storable(result: PrimitiveResult) -> PrimitiveResult:
    """`result` with its metadata, and each PUB result's, as plain JSON-able data."""
    from qiskit.primitives import PrimitiveResult

    pubs = [type(pub)(pub.data, metadata=plain(pub.metadata)) for pub in result]
    return PrimitiveResult(pubs, metadata=plain(result.metadata))


def plain(value: Any) -> Any:
    """Dataclasses as dicts and datetimes as ISO text, all the way down."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
