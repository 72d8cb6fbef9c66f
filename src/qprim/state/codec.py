"""Results and PUBs as text, in qiskit-ibm-runtime's RuntimeEncoder format: the one place
qprim turns them into bytes and back.

Why one place: `result.json`, the result store and the Aer job store all hold this
format, and the import it costs (qiskit_ibm_runtime) is paid only where bytes really
have to be decoded or encoded.
"""

from __future__ import annotations

import hashlib
import json
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


def decode_result(data: bytes | str) -> PrimitiveResult:
    return decode(data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
