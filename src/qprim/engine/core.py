"""The engine: for every JobSpec of a command, claim and submit its job, then wait for and
fetch all of them at once, saving each result the moment it arrives.

Prefect-free: the journal, the backends, the result store and the way each step runs
(`Steps`: directly, or as a Prefect task run) are passed in, so the whole of it can be
tested in milliseconds with fakes, and a fault can be injected at every crash point.
The engine is the steps' `Context` plus the loop that runs them all.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from qprim.backends.base import JobStatus
from qprim.engine import retry as retrying
from qprim.engine import submit as submitting
from qprim.engine.context import Context, FaultPoint, no_fault
from qprim.engine.groups import Groups
from qprim.engine.threads import spawn
from qprim.errors import DeadlineError, Interrupted

if TYPE_CHECKING:
    from qprim.engine.collect import Collected
    from qprim.engine.submit import Submitted
    from qprim.plan.jobs import JobSpec, WorkloadPlan

SUBMIT_THREADS = 4
POLL_S = 0.2
# the steps enforce the deadline themselves; this is the last resort for one that can't
DEADLINE_GRACE_S = 10.0
# a job in one of these is not worth fetching: the rerun submits the work anew
_ENDED_BADLY = {JobStatus.ERROR.value, JobStatus.CANCELLED.value}
PAUSE_ENV = "QPRIM_FAULT_PAUSE"


def pause_from_environment() -> FaultPoint:
    """For crash tests across processes: `QPRIM_FAULT_PAUSE=POINT:FILE` makes the engine
    write the job's label to FILE and stop at POINT until the test kills the process."""
    import os

    setting = os.environ.get(PAUSE_ENV)
    if not setting:
        return no_fault
    point, _, marker = setting.partition(":")

    def pause(at: str, subject: object) -> None:
        if at == point:
            with open(marker, "a") as handle:
                handle.write(f"{getattr(subject, 'label', subject)}\n")
            threading.Event().wait()

    return pause


class Steps(Protocol):
    """How the engine's two steps run: directly, or wrapped (e.g. as Prefect task runs)."""

    def submit(self, job: JobSpec) -> Submitted: ...

    def collect(self, submitted: Submitted) -> Collected: ...


@dataclass
class Outcome:
    """Per JobSpec digest: its submitted job, its collected result, or what went wrong."""

    submitted: dict[str, Submitted] = field(default_factory=dict)
    collected: dict[str, Collected] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)

    def job_ids(self, digests: list[str] | None = None) -> tuple[str, ...]:
        """The job ids known so far (of `digests` only, if given)."""
        chosen = self.submitted if digests is None else digests
        return tuple(self.submitted[d].job_id for d in chosen if d in self.submitted)


class Engine(Context):
    """The steps' context, and the loop that submits every job and then waits for all."""

    _jobs: dict[str, JobSpec]  # the running command's, by digest: set by `run`

    # ----- the two steps (what the Prefect tasks wrap) ---------------------------------
    def submit(self, job: JobSpec) -> Submitted:
        return submitting.submit(self, job)

    def collect(self, submitted: Submitted) -> Collected:
        return retrying.collect(self, submitted)

    def job(self, digest: str) -> JobSpec:
        """A JobSpec of the running command by its digest (task wrappers pass digests)."""
        return self._jobs[digest]

    # ----- everything at once ----------------------------------------------------------
    def run(self, plans: list[WorkloadPlan], steps: Steps | None = None) -> Outcome:
        """Submit every job, then wait for all of them; one failing stops none of the others."""
        steps = steps or self
        self.groups = Groups(self.journal, plans, self.deadline, self.refresh)
        self._jobs = {job.digest: job for plan in plans for job in plan.jobs}
        gate = threading.BoundedSemaphore(SUBMIT_THREADS)

        def submit_one(job: JobSpec) -> Submitted:
            with gate:
                return steps.submit(job)

        submits: dict[Future[Submitted], JobSpec] = {
            spawn(lambda job=job: submit_one(job), f"qprim-submit-{job.label}"): job
            for job in self._jobs.values()
        }
        collects: dict[Future[Collected], JobSpec] = {}
        outcome = Outcome()
        try:
            while submits or collects:
                done, _ = wait([*submits, *collects], timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    if future in submits:
                        job = submits.pop(future)  # type: ignore[arg-type]
                        self._submitted(job, future, outcome, steps, collects, plans)
                    else:
                        job = collects.pop(future)  # type: ignore[arg-type]
                        self._collected(job, future, outcome)
                self._give_up_after_deadline([*submits.values(), *collects.values()], outcome)
                if self._past_deadline():
                    break
        except KeyboardInterrupt:
            raise Interrupted(self._job_ids_at_backend(outcome)) from None
        return outcome

    def _job_ids_at_backend(self, outcome: Outcome) -> tuple[str, ...]:
        """Every job of this command the backend has. The journal knows a job as soon as the
        backend accepted it, a moment before its submit step returns here: a Ctrl-C in that
        moment must still name it."""
        known = list(outcome.job_ids())
        for digest in self._jobs:
            latest = None if digest in outcome.submitted else self.journal.latest(digest)
            ended = latest is not None and latest.status in _ENDED_BADLY
            if latest is not None and latest.job_id and not ended and latest.job_id not in known:
                known.append(latest.job_id)
        return tuple(known)

    def _submitted(
        self,
        job: JobSpec,
        future: Future[Any],
        outcome: Outcome,
        steps: Steps,
        collects: dict[Future[Collected], JobSpec],
        plans: list[WorkloadPlan],
    ) -> None:
        try:
            submitted = future.result()
        except Exception as exc:
            outcome.errors[job.digest] = exc
            self.emit(job, "failed", detail=str(exc))
            return
        outcome.submitted[job.digest] = submitted
        collects[spawn(lambda: steps.collect(submitted), f"qprim-fetch-{job.label}")] = job
        plan = self.groups.plan_of[job.digest]
        if plan.mode != "job" and all(other.digest in outcome.submitted for other in plan.jobs):
            self.groups.close(plan, self.backends(plan.workload.backend))

    def _collected(self, job: JobSpec, future: Future[Any], outcome: Outcome) -> None:
        try:
            outcome.collected[job.digest] = future.result()
        except Exception as exc:
            outcome.errors[job.digest] = exc

    def _past_deadline(self) -> bool:
        return self.deadline is not None and time.time() > self.deadline + DEADLINE_GRACE_S

    def _give_up_after_deadline(self, unfinished: list[JobSpec], outcome: Outcome) -> None:
        if not self._past_deadline():
            return
        for job in unfinished:
            outcome.errors[job.digest] = DeadlineError(
                f"{job.label} did not finish (--timeout reached)", outcome.job_ids([job.digest])
            )
