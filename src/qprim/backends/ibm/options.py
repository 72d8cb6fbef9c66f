"""A workload's `options:` checked with the client's own option models, before any job.

`SamplerV2(options=dict)` merges the dict into the defaults of `SamplerOptions`
(`EstimatorOptions`), pydantic dataclasses, when the primitive is built at submit
time; a bad option then failed after the job was claimed in the journal. The same
merge and validation run here at load time, and the client's complaint is reported
at the option's own line. Importing the client costs about a second: only IBM
workloads come here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from qprim.backends.base import OptionProblem
from qprim.backends.ibm import quiet_client


def option_problem(primitive: str, options: Mapping[str, Any]) -> OptionProblem | None:
    """What the client would reject in `options` for `primitive`, if anything."""
    from qiskit_ibm_runtime.options import EstimatorOptions, SamplerOptions
    from qiskit_ibm_runtime.options.utils import merge_options_v2

    model = SamplerOptions if primitive == "sampler" else EstimatorOptions
    where = f"{model.__name__} (qiskit_ibm_runtime.options)"
    with quiet_client():
        defaults = asdict(model())
        shape = _not_a_mapping(defaults, options, (), where)
        if shape is not None:
            return shape
        try:
            model(**merge_options_v2(model(), dict(options)))
        except ValidationError as exc:
            return _problem(_most_telling(exc.errors()), defaults, options, where)
    return None


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
    if error["type"] == "unexpected_keyword_argument":
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
