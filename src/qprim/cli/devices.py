"""`qprim backends`: the devices a block can run on (data on stdout, like `qprim jobs`):
a table on a terminal, tab-separated lines in a pipe, `--json` for scripts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from qprim.cli.common import JsonOpt, handles_errors, prepare_prefect, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from qprim.backends.base import Device

COLUMNS = ("device", "qubits", "status", "pending_jobs", "processor", "fractional_gates")


@handles_errors
def backends(
    block: Annotated[
        str | None,
        typer.Option(help="An IBM block (its instance's devices) or an Aer block; none: Aer."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the devices a block can run on: qubits, status, pending jobs, processor type,
    fractional gates (IBM, asked now); the simulator and the fake devices for Aer."""
    from rich.console import Console

    from qprim.usecases.devices import available_devices

    if block is not None:
        prepare_prefect()  # blocks are read through Prefect
    source, devices = available_devices(block)
    if json_out:
        print_json({"source": source, "devices": [device.as_dict() for device in devices]})
        return
    console = Console()
    if console.is_terminal:
        console.print(_table(source, devices))
    else:
        lines = ["\t".join(COLUMNS)] + ["\t".join(_cells(device)) for device in devices]
        sys.stdout.write("\n".join(lines) + "\n")


def _table(source: str, devices: list[Device]) -> Table:
    from qprim.cli.render import new_table

    table = new_table(f"devices ({source})")
    for header in COLUMNS:
        justify = "right" if header in ("qubits", "pending_jobs") else "left"
        table.add_column(header.replace("_", " "), justify=justify)
    for device in devices:
        table.add_row(*_cells(device))
    return table


def _cells(device: Device) -> tuple[str, ...]:
    pending = "-" if device.pending_jobs is None else str(device.pending_jobs)
    return (
        device.name,
        str(device.qubits),
        device.status,
        pending,
        device.processor or "-",
        "yes" if device.fractional_gates else "no",
    )
