"""Helpers shared by the emulator tests (stdlib HTTP, polling, Bell circuits)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import SamplerV2

POST_JOBS = r"^/api/v1/jobs$"


def http(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    """Plain stdlib HTTP call returning (status, decoded JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode()


def iam_token(url: str) -> str:
    """A token the emulator accepts, for plain HTTP calls to `/api/v1`."""
    form = b"grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=k"
    with urllib.request.urlopen(urllib.request.Request(f"{url}/identity/token", form)) as resp:
        return json.loads(resp.read())["access_token"]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def bell(measure: bool = True) -> QuantumCircuit:
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    if measure:
        qc.measure_all()
    return qc


def isa(circuit: QuantumCircuit, backend: Any) -> QuantumCircuit:
    return generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)


def run_bell(service: Any, tags: list[str] | None = None, shots: int = 1000) -> Any:
    backend = service.backend("fake_manila")
    sampler = SamplerV2(mode=backend)
    if tags:
        sampler.options.environment.job_tags = tags
    return sampler.run([isa(bell(), backend)], shots=shots)
