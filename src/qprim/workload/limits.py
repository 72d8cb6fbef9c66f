"""The largest input qprim accepts, and why each bound is where it is.

A workload is checked before anything is submitted, so a typo (an extra zero, a
runaway sweep) or a hostile file (a YAML bomb, a gigantic register) must fail in
milliseconds with `FILE:LINE`, not exhaust memory, crash a parser or reach a backend.
The bounds are far above what a real workload needs; docs/workload-format.md
("Limits") lists them for users, and the models put the schema-level ones in
`qprim schema`.
"""

from __future__ import annotations

# Files. A workload is hand-written text (kilobytes); bulk data belongs in .npy/.qpy.
MAX_WORKLOAD_BYTES = 4 * 2**20
# Each referenced circuit (.qasm, .qpy) or sweep (.npy, each array of an .npz, unpacked).
MAX_FILE_BYTES = 64 * 2**20

# YAML. PyYAML composes nodes recursively (about three Python frames per level), so a
# few hundred levels reach Python's recursion limit; a workload needs fewer than ten.
MAX_YAML_DEPTH = 100
# Values after aliases are expanded: a "billion laughs" document is a few lines that
# expand exponentially. 100,000 is a list of that many parameter values.
MAX_YAML_NODES = 100_000

# Circuits: qubits plus classical bits one QASM program declares. Qiskit builds an
# object per bit (`qreg q[100000000];` needs about 20 GB); devices have about a thousand.
MAX_CIRCUIT_BITS = 100_000

# Sizes. IBM runs at most 10 million executions (shots x points) per Sampler job; one
# PUB's shots may not exceed that, so every PUB fits one job (a larger sweep is split
# along its points, see `execution.max_executions_per_job`).
MAX_SHOTS = 10_000_000
# Points of one PUB (parameter sets, or elements of the estimator's broadcast shape):
# one million points of a few parameters is tens of MB of float64.
MAX_POINTS = 1_000_000
# All PUBs of a workload together: sampler shots x points, estimator points. Ten full
# IBM Sampler jobs; hours of device time.
MAX_EXECUTIONS = 100_000_000

# Seeds, as the consumers take them: Aer's `seed_simulator` is a signed 64-bit integer
# (2**63 fails inside Aer), the transpiler's `seed_transpiler` an unsigned one (2**64
# fails inside Qiskit's Rust passes).
MAX_SIMULATOR_SEED = 2**63 - 1
MAX_TRANSPILER_SEED = 2**64 - 1

# A workload's name becomes the run folder `qprim-runs/NAME-TIME-DIGEST`, the Prefect
# flow run's name and the label in tables: one safe path segment, ASCII, no separator.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
MAX_NAME_LENGTH = 80


def count(n: int) -> str:
    """`10000000` -> `10,000,000`, for messages."""
    return f"{n:,}"
