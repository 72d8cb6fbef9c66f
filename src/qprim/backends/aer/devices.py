"""Aer's devices: `aer_simulator`, or a fake device of `qiskit_ibm_runtime.fake_provider`
(its target and noise model), and which names a workload may give."""

from __future__ import annotations

import re
import warnings
from functools import cache
from typing import TYPE_CHECKING

from qprim.backends.base import Device, DeviceProblem, processor_name
from qprim.errors import InputError, suggest

if TYPE_CHECKING:
    from qiskit.providers import BackendV2

AER_SIMULATOR = "aer_simulator"


def fake_device(name: str) -> BackendV2:
    """A device of `qiskit_ibm_runtime.fake_provider` by its name (`fake_manila`, ...)."""
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some fake devices warn about their own properties
        provider = FakeProviderForBackendV2()
        try:
            return provider.backend(name)
        except Exception as exc:
            raise InputError(
                f"unknown Aer device {name!r}: use aer_simulator or a fake device name "
                "such as fake_manila or fake_brisbane"
            ) from exc


@cache
def fake_device_names() -> frozenset[str]:
    """Snake names (`fake_manila`) of the fake devices in qiskit_ibm_runtime."""
    import inspect

    from qiskit.providers import BackendV2
    from qiskit_ibm_runtime import fake_provider

    names = set()
    for attr, value in vars(fake_provider).items():
        if attr.startswith("Fake") and inspect.isclass(value) and issubclass(value, BackendV2):
            stem = attr.removesuffix("V2")
            names.add(re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower())
    return frozenset(names)


def device_problem(name: str, noise: bool) -> DeviceProblem | None:
    """What Aer cannot simulate as asked: an unknown device, or noise without a device to
    take the noise model from."""
    if name == AER_SIMULATOR:
        if not noise:
            return None
        return DeviceProblem(
            "noise",
            "noise: true needs a fake device to take the noise "
            'model from, e.g. "name: fake_manila"',
        )
    valid = fake_device_names()
    if name in valid:
        return None
    return DeviceProblem(
        "name",
        f"unknown aer backend '{name}'"
        f"{suggest(name, sorted(valid))}; use aer_simulator or a fake device such as "
        f"{', '.join(sorted(valid)[:4])}, ... (qiskit_ibm_runtime.fake_provider)",
    )


def list_devices() -> list[Device]:
    """`aer_simulator` and every fake device, read from the fake provider's configuration
    files (instantiating all of them costs seconds)."""
    import importlib.util
    import json
    from pathlib import Path

    from qiskit_aer import AerSimulator

    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(spec.submodule_search_locations[0]) / "fake_provider" / "backends"
    width = AerSimulator().configuration().n_qubits
    devices = [Device("aer_simulator", width, "local", True, None, None, True)]
    named = fake_device_names()
    for path in sorted(folder.glob("*/conf_*.json")):
        name = "fake_" + path.parent.name
        if name not in named:
            continue
        conf = json.loads(path.read_text())
        gates = set(conf.get("basis_gates") or []) | set(conf.get("supported_instructions") or [])
        devices.append(
            Device(
                name=name,
                qubits=int(conf["n_qubits"]),
                status="local",
                operational=True,
                pending_jobs=None,
                processor=processor_name(conf.get("processor_type")),
                fractional_gates=bool(gates & {"rzz", "rx"}),
            )
        )
    return devices
