"""A workload's `options:` checked with the client's own option models, before any job.

The primitives a workload runs on decide the model. The client-side primitives (the
default) build `qiskit_ibm_runtime.options_models.SamplerOptions` / `EstimatorOptions`
(pydantic, unknown keys forbidden) and finalize them when a job is submitted: the
estimator fills twirling from `resilience_level` and forces the twirling its
mitigation needs, warning when that overrides a `false` the user wrote. The legacy
primitives merge the dict into the defaults of `qiskit_ibm_runtime.options`' dataclasses.
The same construction, finalizing and checks of combinations run here at load time, and
the client's complaint (or its override warning) is reported at the option's own line:
a bad option or combination otherwise failed after the job was claimed in the journal.
An option that exists only in the other primitives says so. Importing the client costs
about a second: only IBM workloads come here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from qprim.backends.base import OptionProblem

Primitives = str  # "executor" (client-side) | "legacy" (server-side)
_UNKNOWN = ("unexpected_keyword_argument", "extra_forbidden")


def option_problem(
    primitive: str, options: Mapping[str, Any], primitives: Primitives = "executor"
) -> OptionProblem | None:
    """What the client would reject in `options` for `primitive` on `primitives`."""
    check = _legacy_problem if primitives == "legacy" else _executor_problem
    return check(primitive, options)


def _executor_problem(primitive: str, options: Mapping[str, Any]) -> OptionProblem | None:
    from qiskit_ibm_runtime.options_models import EstimatorOptions, SamplerOptions

    model = SamplerOptions if primitive == "sampler" else EstimatorOptions
    where = f"{model.__name__} (qiskit_ibm_runtime.options_models, the client-side primitives)"
    defaults = model().model_dump()
    shape = _not_a_mapping(defaults, options, (), where)
    if shape is not None:
        return shape
    if "max_execution_time" in (options.get("environment") or {}):
        return OptionProblem(
            ("environment", "max_execution_time"),
            "deprecated in the client-side primitives: use execution.max_execution_time",
        )
    try:
        built = model(**options)
    except ValidationError as exc:
        problem = _problem(_most_telling(exc.errors()), defaults, options, where)
        return _elsewhere(problem, primitive, "legacy")
    combination = _sampler_combination if primitive == "sampler" else _estimator_combination
    return combination(built, where)


def _legacy_problem(primitive: str, options: Mapping[str, Any]) -> OptionProblem | None:
    """The legacy client's own merge (`merge_options_v2`) into its dataclass defaults."""
    from qiskit_ibm_runtime.options import EstimatorOptions, SamplerOptions
    from qiskit_ibm_runtime.options.utils import merge_options_v2

    model = SamplerOptions if primitive == "sampler" else EstimatorOptions
    where = f"{model.__name__} (qiskit_ibm_runtime.options, the legacy primitives)"
    defaults = asdict(model())
    shape = _not_a_mapping(defaults, options, (), where)
    if shape is not None:
        return shape
    try:
        model(**merge_options_v2(model(), dict(options)))
    except ValidationError as exc:
        problem = _problem(_most_telling(exc.errors()), defaults, options, where)
        return _elsewhere(problem, primitive, "executor")
    return None


def _sampler_combination(options: Any, where: str) -> OptionProblem | None:
    from qiskit_ibm_runtime.executor_sampler.finalize_options import finalize_sampler_options
    from qiskit_ibm_runtime.executor_sampler.utils import validate_meas_type_twirling

    final = finalize_sampler_options(options)
    return _refused(
        ("execution", "meas_type"),
        where,
        lambda: validate_meas_type_twirling(
            final.execution.meas_type, final.twirling.enable_measure
        ),
    )


def _estimator_combination(options: Any, where: str) -> OptionProblem | None:
    """What the client-side estimator's finalizing overrides or refuses, before any job."""
    from qiskit_ibm_runtime.exceptions import IBMInputValueError
    from qiskit_ibm_runtime.executor_estimator.finalize_options import (
        finalize_estimator_options,
    )
    from qiskit_ibm_runtime.executor_estimator.prepare import normalise_extrapolator
    from qiskit_ibm_runtime.executor_estimator.utils import (
        resolve_noise_factors,
        validate_noise_factors,
    )

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")  # each override once, to report it
        final = finalize_estimator_options(options)
    for other in (w for w in seen if w.category is not UserWarning):  # not ours to keep
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    overridden = [str(w.message) for w in seen if w.category is UserWarning]
    if overridden:
        field = next((f for f in ("enable_measure", "enable_gates") if f in overridden[0]), "")
        return OptionProblem(
            ("twirling", field) if field else ("twirling",),
            f"{where} would override it: {overridden[0].rstrip('.')}; write true or leave it out",
        )
    resilience = final.resilience
    if resilience.pec_mitigation and resilience.zne_mitigation:
        return OptionProblem(
            ("resilience",),
            f"{where} rejects it: PEC and ZNE mitigation cannot both be on",
        )
    if resilience.pec_mitigation or (
        resilience.zne_mitigation and resilience.zne.amplifier == "pea"
    ):
        return OptionProblem(
            ("resilience",),
            f"{where} rejects it: PEA and PEC mitigation need resilience.layer_noise_model, "
            "a learned noise model a workload file cannot hold; use the Python API",
        )

    def zne() -> None:
        if resilience.zne_mitigation:
            factors, _ = resolve_noise_factors(resilience.zne)
            validate_noise_factors(factors, normalise_extrapolator(resilience.zne.extrapolator))

    try:
        zne()
    except IBMInputValueError as exc:
        return OptionProblem(("resilience", "zne"), f"{where} rejects it: {exc}")
    return None


def _refused(path: tuple[str, ...], where: str, check: Callable[[], None]) -> OptionProblem | None:
    from qiskit_ibm_runtime.exceptions import IBMInputValueError

    try:
        check()
    except IBMInputValueError as exc:
        return OptionProblem(path, f"{where} rejects the combination: {exc}")
    return None


def _elsewhere(problem: OptionProblem, primitive: str, other: Primitives) -> OptionProblem:
    """An unknown option that the other primitives take: say which, and how to choose them."""
    if "no such option" not in problem.message or not problem.path:
        return problem
    level: Any = _defaults(primitive, other)
    for key in problem.path:
        if not isinstance(level, dict) or key not in level:
            return problem
        level = level[key]
    hint = (
        "it exists in the legacy primitives: set execution.primitives: legacy"
        if other == "legacy"
        else "it exists in the client-side primitives, the default: remove "
        "execution.primitives: legacy"
    )
    return OptionProblem(problem.path, f"{problem.message}; {hint}")


def _defaults(primitive: str, primitives: Primitives) -> dict[str, Any]:
    if primitives == "legacy":
        from qiskit_ibm_runtime import options as legacy

        model = legacy.SamplerOptions if primitive == "sampler" else legacy.EstimatorOptions
        return asdict(model())
    from qiskit_ibm_runtime import options_models as client

    executor = client.SamplerOptions if primitive == "sampler" else client.EstimatorOptions
    return executor().model_dump()


def _not_a_mapping(
    defaults: Mapping[str, Any], given: Mapping[str, Any], path: tuple[str, ...], where: str
) -> OptionProblem | None:
    """A group of sub-options given as a plain value: the client's merge would crash."""
    for key, value in given.items():
        default = defaults.get(key)
        if not isinstance(default, dict):
            continue
        if not isinstance(value, dict):
            example = next(iter(default), "...")
            return OptionProblem(
                (*path, key),
                f'expected a mapping of sub-options of {where}, e.g. "{key}: {{{example}: ...}}"',
            )
        inner = _not_a_mapping(default, value, (*path, key), where)
        if inner is not None:
            return inner
    return None


def _most_telling(errors: list[ErrorDetails]) -> ErrorDetails:
    """The deepest error; a union's "is not an instance of" branches last."""
    return max(errors, key=lambda e: (len(e["loc"]), e["type"] != "is_instance_of"))


def _problem(
    error: ErrorDetails, defaults: Mapping[str, Any], options: Mapping[str, Any], where: str
) -> OptionProblem:
    path = _written_path(error["loc"], options)
    if error["type"] in _UNKNOWN:
        level: Any = defaults
        for key in path[:-1]:
            level = level.get(key) if isinstance(level, dict) else None
        names = [key for key in level if not key.startswith("_")] if isinstance(level, dict) else []
        allowed = ", ".join(names) or "see the client's documentation"
        return OptionProblem(path, f"no such option in {where}; allowed here: {allowed}")
    reason = error["msg"].removeprefix("Value error, ")  # pydantic's wrapper, not the client's
    return OptionProblem(path, f"{where} rejects it: {reason}")


def _written_path(loc: tuple[str | int, ...], options: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of a pydantic `loc` that the workload wrote (drops model and union names)."""
    path: tuple[str, ...] = ()
    level: Any = options
    for part in loc:
        if isinstance(level, dict) and isinstance(part, str) and part in level:
            path = (*path, part)
            level = level[part]
    return path
