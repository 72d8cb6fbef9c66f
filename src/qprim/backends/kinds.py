"""The backend kinds qprim knows, in one table, and the factory that opens their backends.

Every decision that depends on the kind is asked here: the `options:` and execution
modes a workload may use, the device names it may give, the service's limit per job,
how the backend is built, whether its blocks hold an account, whether its jobs run on
this machine. A new backend is a folder beside aer/ and ibm/ plus its entry in `KINDS`
(and, if it keeps settings in a Prefect block, its block type in `qprim.flows.blocks`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qprim.backends.aer.devices import AER_SIMULATOR
from qprim.backends.aer.devices import device_problem as aer_device_problem
from qprim.backends.aer.options import option_problem as aer_option_problem
from qprim.backends.base import Backend, BackendChoice, DeviceProblem, OptionProblem

if TYPE_CHECKING:
    from qprim.backends.aer.execute import AerRunner
    from qprim.backends.aer.store import AerJobStore
    from qprim.backends.ibm import IBMAccount

# IBM runs at most 10 million executions (shots x points) per Sampler job (it splits
# Estimator jobs itself)
IBM_SAMPLER_MAX_EXECUTIONS = 10_000_000


def _any_device(name: str, noise: bool) -> DeviceProblem | None:
    """The service says which devices exist, when the job is submitted."""
    return None


@dataclass(frozen=True)
class Kind:
    """What qprim needs to know of one backend kind, wherever the kind matters."""

    name: str
    build: Callable[[BackendChoice, Backends], Backend]
    # what it rejects in a workload's `options:` for a primitive (and, on IBM, the
    # primitives it runs on: `execution.primitives`), before anything is submitted
    option_problem: Callable[[str, Mapping[str, Any], str | None], OptionProblem | None]
    device: str | None = None  # when neither the workload nor its block names one
    device_problem: Callable[[str, bool], DeviceProblem | None] = _any_device
    modes: tuple[str, ...] = ()  # the execution modes that group its jobs (batch, session)
    max_executions: Mapping[str, int] = field(default_factory=dict)  # per job, by primitive
    accounts: bool = False  # its blocks hold the account its backend is built with
    # its jobs run on this machine's workers and live in qprim's Aer job store
    local: bool = False
    cancels_running: bool = True  # False: only a job still queued can be cancelled
    # an IBM Quantum Runtime service: devices to choose from (`name: least_busy`, its
    # filters, fractional gates), two sets of primitives (`execution.primitives`), a
    # quota and usage estimates, failures it marks transient (`retry:`)
    runtime_service: bool = False


@dataclass
class Backends:
    """Opens each backend once per command. IBM accounts are keyed by block name (None:
    Qiskit's own account discovery); the caller resolved blocks into accounts."""

    aer_store: AerJobStore
    aer_runner: AerRunner
    accounts: Mapping[str | None, IBMAccount] = field(default_factory=dict)
    deadline: float | None = None
    ibm_call_timeout: float | None = None  # None: the IBM backend's own cap
    _open: dict[tuple[object, ...], Backend] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, spec: BackendChoice) -> Backend:
        key = (spec.kind, spec.name, spec.noise, spec.seed, spec.block, spec.fractional_gates)
        with self._lock:
            if key not in self._open:
                self._open[key] = backend_kind(spec.kind).build(spec, self)
            return self._open[key]


def _aer(spec: BackendChoice, opened: Backends) -> Backend:
    from qprim.backends.aer import AerBackend, AerSettings

    settings = AerSettings(spec.name or AER_SIMULATOR, spec.noise, spec.seed)
    return AerBackend(settings, opened.aer_store, opened.aer_runner)


def _ibm(spec: BackendChoice, opened: Backends) -> Backend:
    from qprim.backends.ibm import IBMAccount, IBMBackend

    account = opened.accounts.get(spec.block) or IBMAccount(name=spec.block)
    cap = {"call_timeout": opened.ibm_call_timeout} if opened.ibm_call_timeout else {}
    return IBMBackend(
        account,
        spec.name,
        spec.seed,
        opened.deadline,
        fractional_gates=spec.fractional_gates,
        **cap,
    )


def _ibm_option_problem(
    primitive: str, options: Mapping[str, Any], primitives: str | None
) -> OptionProblem | None:
    """The IBM client's own option models, of the primitives the workload runs on
    (imported only for an IBM workload's options: the client costs about a second)."""
    from qprim.backends.ibm.options import option_problem

    return option_problem(primitive, options, primitives or "executor")


KINDS: dict[str, Kind] = {
    "aer": Kind(
        name="aer",
        build=_aer,
        option_problem=lambda primitive, options, _primitives: aer_option_problem(
            primitive, options
        ),
        device=AER_SIMULATOR,
        device_problem=aer_device_problem,
        local=True,
        cancels_running=False,
    ),
    "ibm": Kind(
        name="ibm",
        build=_ibm,
        option_problem=_ibm_option_problem,
        modes=("batch", "session"),
        max_executions={"sampler": IBM_SAMPLER_MAX_EXECUTIONS},
        accounts=True,
        runtime_service=True,
    ),
}


def backend_kind(name: str) -> Kind:
    return KINDS[name]
