"""The digest of IBM's newer settings: deliberate about what existing journals hold.

A default IBM workload keeps the digest qprim 0.1 wrote (its jobs were made by the
legacy primitives then: a rerun after upgrading reuses them, never pays twice); choosing
the legacy primitives, or fractional gates, is other work; `least_busy` is digested as
the request, so the device it picks never changes which job is "this work"."""

from __future__ import annotations

from dataclasses import replace

from qprim.plan.jobs import plan_workload
from qprim.workload import load_workload
from qprim.workload.digest import pubs_digest
from qprim.workload.types import LeastBusy

IBM = """\
qprim: 1
primitive: estimator
backend: {kind: ibm, name: ibm_fez}
options: {resilience_level: 1}
circuits:
  bell:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q;
      h q[0];
      cx q[0], q[1];
pubs:
  - circuit: bell
    observables: [ZZ, XX]
"""
# what qprim 0.1 (main before the client-side primitives) computed for IBM above
QPRIM_0_1_DIGEST = "sha256:9764709a9fd22036050bcd8c149c18cd45f023095c35d60447a344b1dbb9355d"


def _digest(write, text: str) -> str:
    write("w.yaml", text)
    return load_workload("w.yaml").digest


def test_the_default_keeps_the_digest_qprim_0_1_wrote(write) -> None:
    assert _digest(write, IBM) == QPRIM_0_1_DIGEST
    explicit = IBM + "execution: {primitives: executor}\n"
    assert _digest(write, explicit) == QPRIM_0_1_DIGEST


def test_legacy_primitives_and_fractional_gates_are_other_work(write) -> None:
    legacy = _digest(write, IBM + "execution: {primitives: legacy}\n")
    fractional = _digest(write, IBM.replace("ibm_fez}", "ibm_fez, fractional_gates: true}"))
    assert len({legacy, fractional, QPRIM_0_1_DIGEST}) == 3


def test_limits_and_retries_do_not_change_the_work(write) -> None:
    limited = (
        IBM + "execution: {mode: session, max_time: 600, max_execution_time: 60, "
        "max_usage_seconds: 30}\nretry: {failed: 2}\n"
    )
    assert _digest(write, limited) == QPRIM_0_1_DIGEST


def test_least_busy_digests_the_request_never_the_device(write) -> None:
    unfiltered = _digest(write, IBM.replace("ibm_fez", "least_busy"))
    request = IBM.replace("name: ibm_fez}", "name: least_busy, min_qubits: 5}")
    digest = _digest(write, request)
    assert len({digest, unfiltered, QPRIM_0_1_DIGEST}) == 3
    w = load_workload("w.yaml")
    assert w.backend.least_busy == LeastBusy(min_qubits=5) and w.backend.name is None
    chosen = replace(w, backend=replace(w.backend, name="ibm_torino"))
    assert pubs_digest(chosen, chosen.pubs) == digest
    assert [job.digest for job in plan_workload(chosen).jobs] == [digest]
