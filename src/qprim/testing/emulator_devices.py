"""Device catalogue of the Runtime emulator, backed by `qiskit_ibm_runtime.fake_provider`.

Why: the emulator must describe devices exactly like IBM does (configuration and
properties JSON) without instantiating all ~60 fake backends (2+ s). Files are read
lazily from the fake provider's package folders and cached; the Aer noise model of a
device (slow for 127 qubits) is built only when a job asks for noise.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

_FAKE_BACKENDS_PACKAGE = "qiskit_ibm_runtime.fake_provider.backends"
# Located without importing: importing the package loads every fake backend (2+ s).
_spec = importlib.util.find_spec("qiskit_ibm_runtime")
assert _spec is not None and _spec.submodule_search_locations
_BACKENDS_DIR = Path(_spec.submodule_search_locations[0]) / "fake_provider" / "backends"
DEFAULT_DEVICES = ("fake_manila", "fake_brisbane", "fake_kyiv", "fake_sherbrooke", "fake_lima")


class UnknownDeviceError(KeyError):
    """Raised for a device name the emulator does not serve."""


def _short_name(name: str) -> str:
    return name.removeprefix("fake_")


@cache
def _load_json(name: str, kind: str) -> dict[str, Any]:
    """Read `conf_<short>.json` or `props_<short>.json` of a fake device."""
    short = _short_name(name)
    path = _BACKENDS_DIR / short / f"{kind}_{short}.json"
    if not path.is_file():
        raise UnknownDeviceError(name)
    with path.open() as fh:
        data: dict[str, Any] = json.load(fh)
    data["backend_name"] = name
    return data


class DeviceCatalog:
    """The devices one emulator serves, by their fake names (``fake_manila``...)."""

    def __init__(self, names: tuple[str, ...] | list[str]) -> None:
        for name in names:
            _load_json(name, "conf")  # fail fast on a typo
        self.names = tuple(names)

    def _check(self, name: str) -> None:
        if name not in self.names:
            raise UnknownDeviceError(name)

    def configuration(self, name: str) -> dict[str, Any]:
        self._check(name)
        return _load_json(name, "conf")

    def properties(self, name: str) -> dict[str, Any]:
        self._check(name)
        return _load_json(name, "props")

    def num_qubits(self, name: str) -> int:
        return int(self.configuration(name)["n_qubits"])

    def summary(self, name: str) -> dict[str, Any]:
        """One entry of `GET /backends`."""
        conf = self.configuration(name)
        return {
            "name": name,
            "status": {"name": "online", "reason": "available"},
            "queue_length": 0,
            "qubits": conf["n_qubits"],
            "processor_type": conf.get("processor_type", {}),
            "performance_metrics": {"quantum_volume": conf.get("quantum_volume")},
        }

    def status(self, name: str) -> dict[str, Any]:
        conf = self.configuration(name)
        return {
            "state": True,
            "status": "active",
            "message": "available",
            "length_queue": 0,
            "backend_version": conf.get("backend_version", "0.0.0"),
        }
