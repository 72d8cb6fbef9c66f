"""The `options:` Aer's primitives understand, checked when the workload is loaded.

Aer's SamplerV2 takes `default_shots`, its EstimatorV2 `default_precision`, both
`backend_options` (the simulator's own options) and `run_options`. Any other key is a
vendor option Aer would silently ignore (twirling, resilience_level, ...): a workload
that asks for it on Aer is an input error, not a run without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qprim.backends.base import OptionProblem

SIMULATOR_OPTIONS = ("backend_options", "run_options")
AER_OPTIONS: dict[str, tuple[str, ...]] = {
    "sampler": ("default_shots", *SIMULATOR_OPTIONS),
    "estimator": ("default_precision", *SIMULATOR_OPTIONS),
}
# What qprim itself sets from the workload's backend; a second way would fight it.
_SET_BY_QPRIM = {
    "noise_model": "backend: {name: fake_manila, noise: true}",
    "seed_simulator": "backend: {seed: 1234}",
}


def option_problem(primitive: str, options: Mapping[str, Any]) -> OptionProblem | None:
    """The first key of `options` that Aer's `primitive` would not take, if any."""
    allowed = AER_OPTIONS[primitive]
    for key, value in options.items():
        if key not in allowed:
            return OptionProblem(
                (key,),
                f"Aer's {primitive} has no such option; it understands: "
                f"{', '.join(allowed)} (vendor options such as twirling apply to "
                '"backend: {kind: ibm}")',
            )
        if key in SIMULATOR_OPTIONS and not isinstance(value, dict):
            return OptionProblem(
                (key,), f'expected a mapping, e.g. "{key}: {{method: statevector}}"'
            )
    for key in SIMULATOR_OPTIONS:
        for name in options.get(key) or {}:
            if name in _SET_BY_QPRIM:
                return OptionProblem(
                    (key, name), f"qprim sets {name} itself; write {_SET_BY_QPRIM[name]}"
                )
    return _simulator_problem(options.get("backend_options") or {})


def _simulator_problem(backend_options: Mapping[str, Any]) -> OptionProblem | None:
    """Each backend option as Aer's own simulator takes it (names and known values)."""
    if not backend_options:
        return None
    from qiskit_aer import AerSimulator

    for name, value in backend_options.items():
        try:
            AerSimulator(**{name: value})
        except Exception as exc:  # AerError for names and values, others for types
            return OptionProblem(
                ("backend_options", name),
                f"Aer's simulator rejects it: {exc}; see "
                'qiskit_aer.AerSimulator\'s options, e.g. "method: statevector"',
            )
    return None
