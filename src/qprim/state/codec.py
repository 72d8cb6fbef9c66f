"""Results and PUBs as text, in qiskit-ibm-runtime's RuntimeEncoder format: the one place
qprim turns them into bytes and back.

Why one place: `result.json`, the result store and the Aer job store all hold this
format. Encoding always goes through qiskit-ibm-runtime's own `RuntimeEncoder`.
Decoding a *result* has a fast path: the handful of types a primitive result is made of
(`PrimitiveResult`, `SamplerPubResult`, `PubResult`, `DataBin`, `BitArray`, `ndarray`,
`complex`, `datetime`) are read here exactly as `RuntimeDecoder` reads them, so that a
rerun restoring a stored result does not import qiskit_ibm_runtime (about a second).
Any other type (IBM's execution spans, for one) falls back to `RuntimeDecoder` itself;
tests compare the two on every kind of result qprim produces.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult


def encode(value: Any) -> bytes:
    """A PrimitiveResult, or a list of PUBs, as RuntimeEncoder JSON."""
    from qiskit_ibm_runtime import RuntimeEncoder

    return json.dumps(value, cls=RuntimeEncoder).encode()


def decode(data: bytes | str) -> Any:
    from qiskit_ibm_runtime import RuntimeDecoder

    return json.loads(data, cls=RuntimeDecoder)


class _NotAResultType(Exception):
    """A type the fast path does not read: decode with RuntimeDecoder instead."""


def decode_result(data: bytes | str) -> PrimitiveResult:
    try:
        return json.loads(data, object_hook=_result_hook)
    except _NotAResultType:
        return decode(data)


def _result_hook(obj: dict[str, Any]) -> Any:
    if "__type__" not in obj:
        return obj
    kind, value = obj["__type__"], obj["__value__"]
    if kind == "ndarray":
        return _ndarray(value)
    if kind == "complex":
        return value[0] + 1j * value[1]
    if kind == "datetime":
        import dateutil.parser

        return dateutil.parser.parse(value)
    from qiskit.primitives import BitArray, DataBin, PrimitiveResult, PubResult, SamplerPubResult

    if kind == "BitArray":
        return BitArray(**value)
    if kind == "DataBin":
        shape = value["shape"]
        return DataBin(shape=tuple(shape) if isinstance(shape, list) else shape, **value["fields"])
    classes = {
        "SamplerPubResult": SamplerPubResult,
        "PubResult": PubResult,
        "PrimitiveResult": PrimitiveResult,
    }
    if kind in classes:
        return classes[kind](**value)
    raise _NotAResultType(kind)


def _ndarray(value: Any) -> Any:
    import numpy as np

    if isinstance(value, int | list):
        return np.array(value)
    if not isinstance(value, str):
        raise _NotAResultType("ndarray")
    try:
        raw = zlib.decompress(base64.standard_b64decode(value))
    except (ValueError, zlib.error):
        raise _NotAResultType("ndarray") from None  # e.g. an extrapolator name
    return np.load(io.BytesIO(raw))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
