"""Options several commands share, and the flags of bare circuit-file inputs."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from qprim.workload import CircuitFileFlags


class PrimitiveChoice(StrEnum):
    sampler = "sampler"
    estimator = "estimator"


ShotsOpt = Annotated[int | None, typer.Option(help="Shots per PUB (.qpy/.qasm inputs).")]
PrimitiveOpt = Annotated[PrimitiveChoice, typer.Option(help="The primitive (.qpy/.qasm inputs).")]
BackendOpt = Annotated[
    str | None, typer.Option(help="aer_simulator or a fake device, e.g. fake_manila (.qpy/.qasm).")
]
SeedOpt = Annotated[int | None, typer.Option(help="Simulator seed (.qpy/.qasm inputs).")]
NoiseOpt = Annotated[bool, typer.Option("--noise", help="Use the fake device's noise model.")]
ObservableOpt = Annotated[
    list[str] | None,
    typer.Option("--observable", help="Pauli label for estimator runs of .qpy/.qasm; repeatable."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Run folder (default: ./qprim-runs/…).")]


def finite_non_negative(value: float | None) -> float | None:
    """A number flag follows the workload's rule for numbers: finite (no nan, no inf), and
    here never negative; anything else is an input error (exit 2) before any work."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a finite number of at least 0")
    return value


TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        help="Give up waiting after this many seconds (exit 5).", callback=finite_non_negative
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")]


def circuit_file_flags(
    primitive: PrimitiveChoice,
    shots: int | None,
    backend: str | None,
    seed: int | None,
    noise: bool,
    observable: list[str] | None,
) -> CircuitFileFlags:
    from qprim.workload import CircuitFileFlags

    return CircuitFileFlags(
        primitive=primitive.value,  # type: ignore[arg-type]
        shots=shots,
        backend=backend,
        noise=noise,
        seed=seed,
        observables=tuple(observable or ()),
    )
