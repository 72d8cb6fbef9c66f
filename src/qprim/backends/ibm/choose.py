"""The devices an IBM instance offers, and the least busy of them for a workload.

`QiskitRuntimeService.least_busy()` sorts by the queue lengths the client cached when
the service was made (in 0.51 it reads `_backends_info_per_instance`, filled once):
in a long-lived process it chooses from stale numbers. qprim takes the same filters
(`min_num_qubits`, `dynamic_circuits`, fractional gates, operational devices only,
never mock devices) but asks every candidate's `status()` when it chooses, the numbers
`qprim backends` shows. Ties go to the device named first in alphabetical order, so
two processes choosing at the same moment agree.
"""

from __future__ import annotations

from typing import Any

from qprim.backends.base import Device, processor_name
from qprim.errors import InputError

# The gates IBM calls fractional (`service.backend(use_fractional_gates=True)` checks these)
FRACTIONAL_GATES = frozenset({"rzz", "rx"})


def list_devices(
    service: Any, min_qubits: int | None = None, dynamic_circuits: bool | None = None
) -> list[Device]:
    """The instance's devices (those that pass the filters, when given), each with its
    status at this moment, by name."""
    found = service.backends(
        min_num_qubits=min_qubits,
        dynamic_circuits=dynamic_circuits,
        use_fractional_gates=None,  # the devices as they are: fractional gates not removed
    )
    return sorted((_device(backend) for backend in found), key=lambda device: device.name)


def choose(
    service: Any, min_qubits: int | None, dynamic_circuits: bool | None, fractional_gates: bool
) -> Device:
    """The operational device with the fewest pending jobs that passes the filters (and
    has fractional gates, when the workload uses them)."""
    candidates = [
        device
        for device in list_devices(service, min_qubits, dynamic_circuits)
        if device.operational and (device.fractional_gates or not fractional_gates)
    ]
    if not candidates:
        filters = {"min_qubits": min_qubits, "dynamic_circuits": dynamic_circuits}
        wanted = ", ".join(f"{key} {value}" for key, value in filters.items() if value is not None)
        fractional = " with fractional gates" if fractional_gates else ""
        raise InputError(
            f"least_busy found no operational device{fractional}"
            f"{' (' + wanted + ')' if wanted else ''} on this instance: see `qprim backends "
            "--block NAME`, relax the filters or name a device"
        )
    return min(candidates, key=lambda device: (device.pending_jobs or 0, device.name))


def _device(backend: Any) -> Device:
    status = backend.status()
    configuration = backend.configuration()
    gates = set(getattr(configuration, "basis_gates", []) or []) | set(
        getattr(configuration, "supported_instructions", []) or []
    )
    return Device(
        name=backend.name,
        qubits=backend.num_qubits,
        status=status.status_msg or ("active" if status.operational else "unknown"),
        operational=bool(status.operational),
        pending_jobs=int(status.pending_jobs),
        processor=processor_name(getattr(configuration, "processor_type", None)),
        fractional_gates=bool(gates & FRACTIONAL_GATES),
    )
