"""How long an Aer job's simulation will roughly take, from what it runs: whether it is
worth a worker process of its own.

Why an estimate: a worker imports Qiskit and Aer before it simulates anything (about a
second, more on a busy machine), while most jobs simulate in a few milliseconds; a job
gains from a worker only when it runs long enough for others to run beside it. The
estimate needs only what the job carries (qubits, gates, points, shots, noise), so the
choice is made before anything runs, the same way every time. Its rates were measured
with Aer's SamplerV2 on two busy cores (statevectors of 16 to 24 qubits, sweeps of 100
to 1,000 points, 10**5 to 10**6 shots with and without a noise model); they are meant
to be right within a few times, which is all the choice needs.
"""

from __future__ import annotations

import math
from typing import Any

# seconds a worker takes to start: a job estimated to simulate for longer goes to one
WORKER_START_S = 1.0
# amplitude updates per second (statevector: 2**qubits amplitudes, per gate)
AMPLITUDE_UPDATES_PER_S = 5e8
# what each point of a sweep costs beside its simulation (binding, a result per point)
POINT_S = 1.5e-4
# what each shot costs beside its amplitude updates (sampling, its outcome)
SHOT_S = 1.2e-6


def worth_a_worker(header: dict[str, Any], pubs: list[Any]) -> bool:
    """Whether the job simulates for longer than a worker takes to start."""
    return estimated_seconds(header, pubs) > WORKER_START_S


def estimated_seconds(header: dict[str, Any], pubs: list[Any]) -> float:
    """Per point of each PUB: one statevector pass over the circuit's active qubits (Aer
    drops the idle qubits of a circuit transpiled for a device), or one per shot when a
    noise model makes each shot a trajectory of its own; plus each shot's sampling."""
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    noisy = bool(header["noise"])
    total = 0.0
    for pub in pubs:
        if header["primitive"] == "sampler":
            coerced: Any = SamplerPub.coerce(pub, header["options"].get("default_shots", 1024))
            shots = coerced.shots
        else:
            coerced = EstimatorPub.coerce(pub)
            shots = 1
        circuit = coerced.circuit
        active = {qubit for instruction in circuit.data for qubit in instruction.qubits}
        one_pass = 2 ** len(active) * max(1, len(circuit.data)) / AMPLITUDE_UPDATES_PER_S
        passes = shots if noisy else 1
        total += math.prod(coerced.shape) * (POINT_S + passes * one_pass + shots * SHOT_S)
    return total
