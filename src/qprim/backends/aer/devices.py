"""Fake devices of `qiskit_ibm_runtime.fake_provider`: Aer's targets and noise models."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from qprim.backends.base import Device, processor_name
from qprim.errors import InputError

if TYPE_CHECKING:
    from qiskit.providers import BackendV2


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


def list_devices() -> list[Device]:
    """`aer_simulator` and every fake device, read from the fake provider's configuration
    files (instantiating all of them costs seconds)."""
    import importlib.util
    import json
    from pathlib import Path

    from qiskit_aer import AerSimulator

    from qprim.workload.backend import fake_device_names  # the names a workload may use

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
