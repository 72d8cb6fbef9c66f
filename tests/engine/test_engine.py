"""The engine with fakes, in milliseconds: every crash window, duplicates made by a client,
pending-job limits, deadlines, batches, and many jobs at once.

The journal and result store are the real ones (SQLite and files in a temporary
folder); the backend and the preparer are fakes (`tests.fakes`), so a test
proves the engine's own logic. The same behaviours are tested through the real client
and the emulator in tests/test_ibm*.py.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from qprim.engine import Engine, Event, FaultPoint, Outcome
from qprim.engine import core as engine_core
from qprim.errors import DeadlineError, Interrupted, JobFailedError
from qprim.plan.jobs import WorkloadPlan, plan_workload
from qprim.state.journal import Journal
from qprim.state.results import ResultStore
from qprim.state.storage import LocalStorage
from qprim.workload import load_workload
from tests.fakes import FakeBackend, FakePreparer
from tests.support import EXAMPLES

CRASH_POINTS = ("claimed", "accepted", "fetched")


class Crash(Exception):
    """Stands for the process dying at a crash point: nothing after it runs."""


@dataclasses.dataclass
class World:
    """What survives a crash: the journal, the result store, the backend's jobs."""

    home: Path
    backend: FakeBackend
    events: list[Event] = dataclasses.field(default_factory=list)

    def engine(self, fault: FaultPoint | None = None, **kwargs: object) -> Engine:
        options: dict[str, object] = {"limit_pause": 0.01, **kwargs}
        if fault is not None:
            options["fault"] = fault
        return Engine(
            Journal(self.home),
            lambda spec: self.backend,
            ResultStore(LocalStorage(self.home)),
            preparer=FakePreparer(),  # type: ignore[arg-type]
            events=self.events.append,
            **options,  # type: ignore[arg-type]
        )

    def kinds(self, kind: str) -> list[Event]:
        return [event for event in self.events if event.kind == kind]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path, FakeBackend())


def sweep_plan(
    parts: int = 3, name: str = "sweep", mode: str = "auto", options: dict[str, int] | None = None
) -> WorkloadPlan:
    """examples/workloads/sweep.yaml (15 points x 2000 shots) split into `parts` jobs;
    different `options` make it different work."""
    w = load_workload(EXAMPLES / "sweep.yaml")
    points = -(-15 // parts)  # per job, so that the 15 points make `parts` jobs
    execution = dataclasses.replace(w.execution, max_executions_per_job=points * 2000, mode=mode)
    backend = dataclasses.replace(w.backend, kind="ibm")  # modes are IBM's
    changed = dataclasses.replace(
        w, name=name, execution=execution, backend=backend, options=options or {}
    )
    return plan_workload(changed)


def assert_complete(outcome: Outcome, plan: WorkloadPlan) -> None:
    assert not outcome.errors, outcome.errors
    assert {job.digest for job in plan.jobs} <= set(outcome.collected)


def test_every_job_is_submitted_before_any_result_is_waited_for(world: World) -> None:
    plans = [sweep_plan(3, name=f"w{i}", mode="job", options={"n": i}) for i in range(3)]
    world.backend.hold = threading.Event()
    engine = world.engine()
    done: list[Outcome] = []
    runner = threading.Thread(target=lambda: done.append(engine.run(plans)))
    runner.start()
    for _ in range(500):
        if len(world.backend.jobs) == 9:
            break
        threading.Event().wait(0.01)
    assert len(world.backend.jobs) == 9  # every job exists while all results are held
    world.backend.hold.set()
    runner.join(10)
    for plan in plans:
        assert_complete(done[0], plan)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_at_any_point_then_a_rerun_makes_each_job_once(world: World, point: str) -> None:
    plan = sweep_plan(3, mode="job")
    victim = plan.jobs[1].digest

    def crash(at: str, subject: object) -> None:
        if at == point and getattr(subject, "digest", None) == victim:
            raise Crash(at)

    first = world.engine(crash).run([plan])
    assert isinstance(first.errors[victim], Crash)
    assert len(first.collected) == 2  # the other parts went on

    second = world.engine().run([plan])
    assert_complete(second, plan)
    assert len(world.backend.live()) == 3
    assert len(world.backend.jobs) == 3  # nothing was ever submitted twice
    again = world.engine().run([plan])
    assert {c.result for c in again.collected.values()} == {"cached"}
    assert world.backend.submits == 3


def test_a_lost_answer_to_the_submit_is_found_by_its_tag(world: World) -> None:
    world.backend.lose_next = True
    plan = sweep_plan(1, mode="job")
    outcome = world.engine().run([plan])
    assert_complete(outcome, plan)
    assert len(world.backend.jobs) == 1
    assert world.kinds("found")[0].detail == "after a failed submit"


def test_duplicates_made_by_a_retrying_client_are_cancelled_and_the_earliest_kept(
    world: World,
) -> None:
    world.backend.duplicates = 2  # three jobs from one submission, the client returns the last
    plan = sweep_plan(1, mode="job")
    outcome = world.engine().run([plan])
    assert_complete(outcome, plan)
    live = world.backend.live()
    assert [job.job_id for job in live] == ["fake-0"]  # the earliest
    assert outcome.submitted[plan.jobs[0].digest].job_id == "fake-0"
    (event,) = world.kinds("duplicates")
    assert "cancelled fake-1, fake-2" in event.detail


def test_a_pending_job_limit_makes_qprim_wait_and_never_submit_twice(world: World) -> None:
    world.backend.pending_limit = 2
    world.backend.hold = threading.Event()  # the first two jobs sit in the queue
    plan = sweep_plan(5, mode="job")
    engine = world.engine()
    done: list[Outcome] = []
    runner = threading.Thread(target=lambda: done.append(engine.run([plan])))
    runner.start()
    for _ in range(500):
        if world.kinds("waiting"):
            break
        threading.Event().wait(0.01)
    assert world.kinds("waiting")  # refused, and it said so
    assert len(world.backend.jobs) == 2
    world.backend.hold.set()  # the queue moves: room for the others
    runner.join(10)
    assert_complete(done[0], plan)
    assert len(world.backend.jobs) == 5


def test_a_job_that_outlives_the_deadline_is_reported_with_its_id(world: World) -> None:
    plan = sweep_plan(3, mode="job")
    world.backend.never.add("fake-1")
    outcome = world.engine().run([plan])
    (digest,) = outcome.errors
    error = outcome.errors[digest]
    assert isinstance(error, DeadlineError) and error.job_ids == ("fake-1",)
    assert len(outcome.collected) == 2


def test_ctrl_c_just_after_the_journal_has_a_job_still_names_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the IBM path records a job, then looks for duplicates before its submit step returns:
    # a Ctrl-C in between once printed no `qprim fetch` line
    plan = sweep_plan(1, mode="job")
    recorded, stuck = threading.Event(), threading.Event()

    def hold_once_submitted(event: Event) -> None:
        if event.kind == "submitted":
            recorded.set()
            stuck.wait(10)  # the submit step has not returned when Ctrl-C lands

    def ctrl_c_once_recorded(*args: object, **kwargs: object) -> object:
        if recorded.is_set():
            raise KeyboardInterrupt  # what Ctrl-C raises in the engine's waiting loop
        return waiting(*args, **kwargs)

    waiting = engine_core.wait
    monkeypatch.setattr(engine_core, "wait", ctrl_c_once_recorded)
    engine = world.engine()
    engine.events = hold_once_submitted
    try:
        with pytest.raises(Interrupted) as stopped:
            engine.run([plan])
    finally:
        stuck.set()
    assert stopped.value.job_ids == ("fake-0",)


def test_a_failed_job_fails_its_part_only(world: World) -> None:
    plan = sweep_plan(3, mode="job")
    world.backend.fail.add("fake-0")
    outcome = world.engine().run([plan])
    assert [type(e) for e in outcome.errors.values()] == [JobFailedError]
    assert len(outcome.collected) == 2
    assert Journal(world.home).by_job_id("fake-0").status == "ERROR"  # type: ignore[union-attr]


def test_a_batch_is_opened_once_recorded_and_reattached_after_a_crash(world: World) -> None:
    plan = sweep_plan(3)  # auto: several IBM jobs make a batch
    assert plan.mode == "batch"
    last = plan.jobs[2].digest

    def crash(at: str, subject: object) -> None:
        if at == "claimed" and getattr(subject, "digest", None) == last:
            raise Crash(at)

    world.engine(crash).run([plan])
    assert list(world.backend.sessions) == ["fake-session-0"]
    assert world.backend.closed == []  # not every job exists yet: the batch stays open

    outcome = world.engine().run([plan])
    assert_complete(outcome, plan)
    assert list(world.backend.sessions) == ["fake-session-0"]  # re-attached, not reopened
    sessions = {job.session.id for job in world.backend.jobs.values() if job.session}
    assert sessions == {"fake-session-0"} and len(world.backend.jobs) == 3
    assert world.backend.closed == ["fake-session-0"]  # all jobs exist: closed
    assert {s.session_id for s in outcome.submitted.values()} == {"fake-session-0"}


def test_the_same_work_in_two_workloads_is_one_job(world: World) -> None:
    one, two = sweep_plan(3, name="a", mode="job"), sweep_plan(3, name="b", mode="job")
    outcome = world.engine().run([one, two])
    assert_complete(outcome, one)
    assert_complete(outcome, two)
    assert len(world.backend.jobs) == 3


def test_a_damaged_stored_result_is_fetched_again(world: World) -> None:
    plan = sweep_plan(1, mode="job")
    world.engine().run([plan])
    (stored,) = (world.home / "results").glob("*/*.json")
    stored.write_bytes(stored.read_bytes().replace(b"fake", b"evil"))
    outcome = world.engine().run([plan])
    assert [c.result for c in outcome.collected.values()] == ["fetched"]
    assert b"fake-0" in stored.read_bytes()  # repaired
    assert world.backend.submits == 1


def test_refresh_submits_new_jobs(world: World) -> None:
    plan = sweep_plan(2, mode="job")
    world.engine().run([plan])
    outcome = world.engine(refresh=True).run([plan])
    assert_complete(outcome, plan)
    assert {s.submit for s in outcome.submitted.values()} == {"new"}
    assert len(world.backend.jobs) == 4
