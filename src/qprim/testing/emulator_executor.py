"""The `executor` program of the Runtime emulator: what the client-side primitives submit.

Why: qiskit-ibm-runtime 0.50+ runs `executor_sampler.Sampler` and
`executor_estimator.Estimator` as pre- and post-processing in the client around one
server program, `executor`, that runs a `QuantumProgram` (circuits, or twirling
templates with their samplex, and the shots). What was read in the 0.51 client:

- `POST /jobs` carries `program_id: "executor"` and `params` = the JSON of
  `ibm_quantum_schemas.executor.version_2_0.ParamsModel` (`Executor._SCHEMA_VERSION`);
  the client's own `quantum_program_from_2_0` turns it back into a `QuantumProgram`.
  A samplex arrives serialised and must be `finalize()`d before it samples.
- The result is the JSON of the same schema's `QuantumProgramResultModel`: per item,
  the classical registers as boolean arrays (`(*item shape, shots, bits)`), plus the
  samplex's own outputs; `passthrough_data` and `semantic_role` come back unchanged, and
  the client's decoders (`ClientSideSamplerResultDecoder`, `...EstimatorDecoder`) turn
  them into the `PrimitiveResult` the user sees.
- The primitive's options travel only inside `passthrough_data` (the post-processor's
  copy): the server never reads them, so the simulator seed is taken from there.

The program runs with the client's own local-mode runner (`fake_provider.executor.
run_quantum_program`, Aer), so twirling and the estimator's mitigation get the same
physics as in IBM's local testing mode. Angles are not rounded (that runner rounds
to 5 decimals to keep Clifford circuits on the stabilizer method by default). A wide
device's circuits (127 qubits, each measured by the twirled templates, so Aer cannot
drop the idle ones) run on the matrix-product-state method, exact for these circuits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import prod
from typing import Any

import numpy as np

# angles to this many decimals in units of pi/2: far below any shot noise
ANGLE_DECIMALS = 12
# wider than this, a statevector does not fit in memory
MAX_STATEVECTOR_QUBITS = 28


def run_executor(program: Any, backend: str, width: int, seed: int | None, noisy: bool) -> str:
    """The `QuantumProgramResultModel` JSON of one executor job (`decode_program`)."""
    from ibm_quantum_schemas.executor.version_2_0.models import (
        ChunkSpan,
        ItemMetadataModel,
        MetadataModel,
        QuantumProgramResultItemModel,
        QuantumProgramResultModel,
    )
    from qiskit_ibm_runtime.fake_provider.executor.run_quantum_program import (
        run_quantum_program,
    )
    from qiskit_ibm_runtime.options_models import SimulatorOptions
    from qiskit_ibm_runtime.quantum_program.converters.converters_2_0 import (
        passthrough_data_to_2_0,
    )

    for index, item in enumerate(program.items):
        if item.circuit.num_qubits > width:
            raise ValueError(
                f"item {index}: circuit has {item.circuit.num_qubits} qubits but {backend} "
                f"has {width}"
            )
    options = SimulatorOptions(
        seed_simulator=_seed(program.passthrough_data, seed), angle_decimals=ANGLE_DECIMALS
    )
    start = datetime.now(UTC)
    wide = max(item.circuit.num_qubits for item in program.items) > MAX_STATEVECTOR_QUBITS
    result = run_quantum_program(_simulator(backend, noisy, wide), program, options)
    stop = datetime.now(UTC)
    model = QuantumProgramResultModel(
        data=[
            QuantumProgramResultItemModel(
                results={name: _tensor(np.asarray(value)) for name, value in item.items()},
                metadata=ItemMetadataModel(),
            )
            for item in result
        ],
        metadata=MetadataModel(chunk_timing=[ChunkSpan(start=start, stop=stop, parts=[])]),
        passthrough_data=passthrough_data_to_2_0(program.passthrough_data),
        semantic_role=program._semantic_role,
    )
    return model.model_dump_json()


def decode_program(params_json: str) -> Any:
    """The `QuantumProgram` of an executor job's params, ready to run."""
    from ibm_quantum_schemas.executor.version_2_0 import ParamsModel
    from qiskit_ibm_runtime.quantum_program.converters.converters_2_0 import (
        quantum_program_from_2_0,
    )
    from samplomatic.quantum_program import SamplexItem

    program, _options = quantum_program_from_2_0(ParamsModel.model_validate_json(params_json))
    for item in program.items:
        if isinstance(item, SamplexItem):
            item.samplex.finalize()  # a deserialised samplex cannot sample before this
    return program


def executor_executions(program: Any) -> int:
    """Shots times the elements of every item: what the service would run."""
    from samplomatic.quantum_program import CircuitItem

    total = 0
    for item in program.items:
        if isinstance(item, CircuitItem):
            arguments = item.circuit_arguments
            shape = arguments.shape[:-1] if arguments is not None and arguments.ndim > 1 else ()
        else:
            shape = tuple(item.shape)
        total += program.shots * prod(shape)
    return total


def _seed(passthrough: Any, default: int | None) -> int | None:
    """The `simulator.seed_simulator` option the primitive was given, else `default`."""
    try:
        seed = passthrough["post_processor"]["options"]["simulator"]["seed_simulator"]
    except (KeyError, TypeError):
        return default
    return default if seed is None else int(seed)


def _simulator(backend: str, noisy: bool, wide: bool) -> Any:
    from qiskit_aer import AerSimulator

    method = {"method": "matrix_product_state"} if wide else {}
    if not noisy:
        return AerSimulator(**method)
    from qprim.backends.aer.devices import fake_device

    return AerSimulator.from_backend(fake_device(backend), **method)


def _tensor(array: np.ndarray) -> Any:
    from ibm_quantum_schemas.common import CompressedTensorModel

    return CompressedTensorModel.from_numpy(array)
