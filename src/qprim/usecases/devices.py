"""`qprim backends`: the devices a block can run on, with their status at this moment.

An IBM block: every device its instance offers (name, qubits, status, pending jobs,
processor, fractional gates), asked of IBM now. An Aer block, or no block: the
simulator and the fake devices a workload may name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qprim.errors import InputError

if TYPE_CHECKING:
    from qprim.backends.base import Device
    from qprim.backends.ibm import IBMAccount


def available_devices(block: str | None) -> tuple[str, list[Device]]:
    """(what was asked, its devices): `aer`, or `ibm:BLOCK`."""
    from qprim.backends.aer.devices import list_devices

    if block is None:
        return "aer", list_devices()
    from qprim.usecases.backends import ibm_call_timeout
    from qprim.usecases.prepare import from_block, use_prefect
    from qprim.workload.types import BackendSpec

    use_prefect()
    kind = _kind_of(block)
    if kind == "aer":
        return f"aer:{block}", list_devices()
    if kind != "ibm":
        raise InputError(f"{block!r} is a {kind} block: name an ibm or aer block")
    accounts: dict[str | None, IBMAccount] = {}
    from_block(BackendSpec(kind="ibm", name=None, block=block), accounts)
    from qprim.backends.ibm import IBMBackend

    timeout = ibm_call_timeout()
    backend = IBMBackend(accounts[block], None, **({"call_timeout": timeout} if timeout else {}))
    return f"ibm:{block}", backend.devices()


def _kind_of(block: str) -> str:
    from qprim.flows.blocks import show_block

    return str(show_block(block)["kind"])
