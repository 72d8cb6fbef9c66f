"""The programs the Runtime emulator runs, in its worker process: what a job computes.

Why: one place decides what each `program_id` means. `sampler` and `estimator` are the
server-side primitives (the client's deprecated `SamplerV2`/`EstimatorV2`): their PUBs
run on Aer's own primitives. `executor` is what the client-side primitives submit (see
`emulator_executor`). Every job also reports its executions (shots times points), from
which the emulator bills quantum seconds and estimates a dry run's usage; a dry run
(a job on a `mock_*` device) is counted, never run, as IBM's returns mock data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

IBM_DEFAULT_SHOTS = 4096
IBM_DEFAULT_PRECISION = 0.015625
PROGRAMS = ("sampler", "estimator", "executor")


@dataclass(frozen=True)
class JobWork:
    """What the worker process is asked to do for one job."""

    params_json: str
    program_id: str
    backend: str  # the fake device whose width (and noise) the job runs with
    width: int
    seed: int | None
    noisy: bool
    dry_run: bool = False


def run_job(work: JobWork) -> dict[str, Any]:
    """`{"result": RuntimeEncoder or executor JSON (None for a dry run), "executions": n}`."""
    if work.program_id == "executor":
        from qprim.testing.emulator_executor import (
            decode_program,
            executor_executions,
            run_executor,
        )

        program = decode_program(work.params_json)
        executions = executor_executions(program)
        if work.dry_run:
            return {"result": None, "executions": executions}
        text = run_executor(program, work.backend, work.width, work.seed, work.noisy)
        return {"result": text, "executions": executions}
    return _run_primitive(work)


def _run_primitive(work: JobWork) -> dict[str, Any]:
    """A server-side primitive's job: its PUBs on Aer's SamplerV2 / EstimatorV2."""
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub
    from qiskit_ibm_runtime import RuntimeDecoder

    params = json.loads(work.params_json, cls=RuntimeDecoder)
    options: dict[str, Any] = params.get("options") or {}
    sampler = work.program_id == "sampler"
    if sampler:
        shots = int(options.get("default_shots") or IBM_DEFAULT_SHOTS)
        pubs: list[Any] = [SamplerPub.coerce(pub, shots) for pub in params.get("pubs") or []]
        executions = sum(pub.shots * pub.parameter_values.size for pub in pubs)
    else:
        default = options.get("default_precision")
        precision = IBM_DEFAULT_PRECISION if default is None else default
        pubs = [EstimatorPub.coerce(pub, precision) for pub in params.get("pubs") or []]
        executions = sum(math.prod(pub.shape) * math.ceil(1 / pub.precision**2) for pub in pubs)
    for index, pub in enumerate(pubs):
        if pub.circuit.num_qubits > work.width:
            raise ValueError(
                f"pub {index}: circuit has {pub.circuit.num_qubits} qubits but "
                f"{work.backend} has {work.width}"
            )
    if work.dry_run:
        return {"result": None, "executions": executions}
    return {"result": _simulate(work, options, pubs), "executions": executions}


def _simulate(work: JobWork, options: dict[str, Any], pubs: list[Any]) -> str:
    from qiskit_aer.primitives import EstimatorV2, SamplerV2
    from qiskit_ibm_runtime import RuntimeEncoder

    simulator = options.get("simulator") or {}
    seed = simulator.get("seed_simulator", work.seed)
    backend_options: dict[str, Any] = {}
    noise = simulator.get("noise_model")
    if noise is None and work.noisy:
        from qiskit_aer.noise import NoiseModel

        from qprim.backends.aer.devices import fake_device

        noise = NoiseModel.from_backend(fake_device(work.backend))
    if noise is not None and not isinstance(noise, str | dict):
        backend_options["noise_model"] = noise
    if work.program_id == "sampler":
        shots = options.get("default_shots") or IBM_DEFAULT_SHOTS
        sampler = SamplerV2(
            default_shots=int(shots), seed=seed, options={"backend_options": backend_options}
        )
        result = sampler.run(pubs).result()
    else:
        precision = options.get("default_precision")
        estimator = EstimatorV2(
            options={
                "default_precision": IBM_DEFAULT_PRECISION if precision is None else precision,
                "backend_options": backend_options,
                "run_options": {} if seed is None else {"seed_simulator": seed},
            }
        )
        result = estimator.run(pubs).result()
    return json.dumps(result, cls=RuntimeEncoder)
