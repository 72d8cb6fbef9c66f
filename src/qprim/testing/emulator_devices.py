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
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_FAKE_BACKENDS_PACKAGE = "qiskit_ibm_runtime.fake_provider.backends"
# Located without importing: importing the package loads every fake backend (2+ s).
_spec = importlib.util.find_spec("qiskit_ibm_runtime")
assert _spec is not None and _spec.submodule_search_locations
_BACKENDS_DIR = Path(_spec.submodule_search_locations[0]) / "fake_provider" / "backends"
DEFAULT_DEVICES = (
    "fake_manila",
    "fake_brisbane",
    "fake_kyiv",
    "fake_sherbrooke",
    "fake_lima",
    "fake_fractional",  # 5 qubits with fractional gates (rzz, rx)
)


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


MOCK_PREFIX = "mock_"


@dataclass
class DeviceState:
    """What a test sets about a device: its status, and jobs of other users ahead."""

    status: str = "online"  # online | paused | offline (`GET /backends` status name)
    other_jobs: int = 0  # pending jobs of other users, counted before the instance's own


class DeviceCatalog:
    """The devices one emulator serves, by their fake names (``fake_manila``...).

    Each device `fake_X` has a dry-run twin `mock_X` (the client's `dry_run=True` submits
    there: `re.sub(r"^[^_]+", "mock", name)`), listed only when the client asks for mocks.
    """

    def __init__(self, names: tuple[str, ...] | list[str]) -> None:
        for name in names:
            _load_json(name, "conf")  # fail fast on a typo
        self.names = tuple(names)
        self.states = {name: DeviceState() for name in self.names}

    def real(self, name: str) -> str:
        """The device a name (or its `mock_` twin) stands for; UnknownDeviceError if none."""
        if name.startswith(MOCK_PREFIX):
            name = "fake_" + _short_name(name.removeprefix(MOCK_PREFIX))
        if name not in self.names:
            raise UnknownDeviceError(name)
        return name

    @staticmethod
    def is_mock(name: str) -> bool:
        return name.startswith(MOCK_PREFIX)

    def mock_of(self, name: str) -> str:
        return MOCK_PREFIX + _short_name(name)

    def configuration(self, name: str) -> dict[str, Any]:
        return {**_load_json(self.real(name), "conf"), "backend_name": name}

    def properties(self, name: str) -> dict[str, Any]:
        return {**_load_json(self.real(name), "props"), "backend_name": name}

    def num_qubits(self, name: str) -> int:
        return int(self.configuration(name)["n_qubits"])

    def summary(self, name: str, pending: int) -> dict[str, Any]:
        """One entry of `GET /backends`; `pending`: the instance's own queued jobs there."""
        conf = self.configuration(name)
        state = self.states[self.real(name)]
        entry = {
            "name": name,
            "status": {"name": state.status, "reason": "available"},
            "queue_length": state.other_jobs + pending,
            "qubits": conf["n_qubits"],
            "processor_type": conf.get("processor_type", {}),
            "performance_metrics": {"quantum_volume": conf.get("quantum_volume")},
        }
        if self.is_mock(name):
            entry["class"] = "mock"
        return entry

    def status(self, name: str, pending: int) -> dict[str, Any]:
        conf = self.configuration(name)
        state = self.states[self.real(name)]
        return {
            "state": state.status == "online",
            "status": "active" if state.status == "online" else state.status,
            "message": "available" if state.status == "online" else state.status,
            "length_queue": state.other_jobs + pending,
            "backend_version": conf.get("backend_version", "0.0.0"),
        }
