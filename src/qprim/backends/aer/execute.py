"""Executing stored Aer jobs: in this process, or in a pool of worker processes.

Why processes: Aer crashed (segfault) when several simulations ran in threads of one
process, and a command with many Aer jobs should use every core. A worker is a plain
`python -m qprim.backends.aer.worker` that simulates what it reads on stdin (a job's
header and PUBs) and answers with the result; it never touches the job store, so the
store may be local or shared and the job's run lock stays with the process that asked.
A crash fails one job and the pool starts a new worker; Ctrl-C kills the workers and
leaves their jobs to run again (the run lock dies with its holder).

Why not always: starting a worker (importing Qiskit and Aer) costs more than most
simulations. A single job runs in-process, and of several only those estimated to
simulate for longer than a worker takes to start go to one (`effort`); the rest run
in-process, one at a time (a process-wide lock), beside the workers.
"""

from __future__ import annotations

import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from qprim.backends.aer.effort import worth_a_worker
from qprim.backends.aer.store import AerJobStore, utc_now
from qprim.backends.base import JobStatus
from qprim.errors import DeadlineError
from qprim.state import codec

FINAL = (JobStatus.DONE.value, JobStatus.ERROR.value, JobStatus.CANCELLED.value)
# one in-process simulation at a time, whichever runner and thread asks
_IN_PROCESS = threading.Lock()
# (job header, PUBs as RuntimeEncoder JSON) -> the result as RuntimeEncoder JSON
Simulate = Callable[[dict[str, Any], bytes], bytes]


class SimulationFailed(Exception):
    """The simulation of one job failed (or its simulator process died)."""


def execute_stored(
    store: AerJobStore,
    job_id: str,
    simulate: Simulate,
    deadline: float | None = None,
    worker: int | None = None,
) -> None:
    """Run a stored job unless someone already has; its outcome is recorded in the store.
    `runs` in its state counts how often it was begun (more than once only after a crash);
    `worker` is the pid of the worker process that simulates it, if one does."""
    job = store.get(job_id)
    assert job is not None, job_id
    with store.lock(job, deadline):
        state = store.state(job)
        if state["status"] in FINAL:
            return
        store.set_state(
            job,
            status=JobStatus.RUNNING.value,
            started=utc_now(),
            runs=state.get("runs", 0) + 1,
            runner=f"{socket.gethostname()}:{os.getpid()}",
            **({} if worker is None else {"worker": worker}),
        )
        try:
            result_json = simulate(job.header, store.pubs_json(job))
        except DeadlineError:
            raise  # not the job's fault: it stays unfinished, for the next runner
        except Exception as exc:
            store.set_state(job, status=JobStatus.ERROR.value, error=str(exc), finished=utc_now())
            return
        store.save_result(job, result_json)


def simulate(header: dict[str, Any], pubs_json: bytes, threads: int = 0) -> bytes:
    """One job's simulation. `threads` caps Aer's own parallelism (0: all cores), so that
    workers share the cores."""
    return codec.encode(_primitive(header, threads).run(_pubs(pubs_json)).result())


def _pubs(pubs_json: bytes) -> list[tuple[Any, ...]]:
    return [tuple(pub) for pub in codec.decode(pubs_json)]


def _primitive(header: dict[str, Any], threads: int) -> Any:
    from qiskit_aer.primitives import EstimatorV2, SamplerV2

    options = dict(header["options"])
    backend_options = {"max_parallel_threads": threads, **options.pop("backend_options", {})}
    if header["noise"]:
        from qiskit_aer.noise import NoiseModel

        from qprim.backends.aer.devices import fake_device

        backend_options["noise_model"] = NoiseModel.from_backend(fake_device(header["backend"]))
    run_options = {"seed_simulator": header["seed"], **options.pop("run_options", {})}
    if header["primitive"] == "sampler":
        return SamplerV2(
            default_shots=options.get("default_shots", 1024),
            seed=run_options.pop("seed_simulator"),
            options={"backend_options": backend_options, "run_options": run_options},
        )
    return EstimatorV2(
        options={
            "default_precision": options.get("default_precision", 0.0),
            "backend_options": backend_options,
            "run_options": run_options,
        }
    )


class AerRunner(Protocol):
    """Where stored Aer jobs execute; `started` is called when a job's turn comes."""

    def run(
        self, store: AerJobStore, job_id: str, deadline: float | None, started: Callable[[], None]
    ) -> None: ...

    def close(self) -> None: ...


class InProcess:
    """One simulation at a time in this process (the deadline cannot interrupt it): Aer
    crashed when several ran in threads of one process."""

    def run(
        self, store: AerJobStore, job_id: str, deadline: float | None, started: Callable[[], None]
    ) -> None:
        if not _IN_PROCESS.acquire(timeout=-1 if deadline is None else _left(deadline)):
            raise DeadlineError("gave up waiting for the Aer simulator (--timeout reached)")
        try:
            started()
            execute_stored(store, job_id, simulate, deadline)
        finally:
            _IN_PROCESS.release()

    def close(self) -> None:
        pass


class WorkerPool:
    """Up to `size` worker processes, started when a job worth one comes, one job at a
    time each; every other job runs in-process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.threads = max(1, (os.cpu_count() or 1) // size)  # each worker's share
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # a slot whose worker is not started yet
        self._all: list[_Worker] = []

    def run(
        self, store: AerJobStore, job_id: str, deadline: float | None, started: Callable[[], None]
    ) -> None:
        job = store.get(job_id)
        assert job is not None, job_id
        if not worth_a_worker(job.header, _pubs(store.pubs_json(job))):
            InProcess().run(store, job_id, deadline, started)
            return
        try:
            worker = self._idle.get(timeout=None if deadline is None else _left(deadline))
        except queue.Empty:
            raise DeadlineError(
                "gave up waiting for a free Aer worker (--timeout reached)"
            ) from None
        started()
        try:
            if worker is None or not worker.alive:
                worker = _Worker.start()
                self._all.append(worker)
            chosen = worker

            def in_worker(header: dict[str, Any], pubs_json: bytes) -> bytes:
                return chosen.simulate(header, pubs_json, deadline, self.threads)

            execute_stored(store, job_id, in_worker, deadline, chosen.process.pid)
        except BaseException:
            if worker is not None:
                worker.kill()
            worker = None
            raise
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        for worker in self._all:
            worker.kill()


class _Worker:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    @classmethod
    def start(cls) -> _Worker:
        return cls(
            subprocess.Popen(
                [sys.executable, "-m", "qprim.backends.aer.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def simulate(
        self, header: dict[str, Any], pubs_json: bytes, deadline: float | None, threads: int
    ) -> bytes:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"header": header, "pubs": pubs_json.decode(), "threads": threads}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        timeout = None if deadline is None else _left(deadline)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise DeadlineError(
                f"gave up waiting for Aer job {header['job_id']} (--timeout reached)"
            )
        answer = self.process.stdout.readline()
        if not answer:  # the worker died mid-simulation
            code = self.process.wait()
            raise SimulationFailed(f"the simulator process crashed (exit code {code})")
        reply = json.loads(answer)
        if "error" in reply:
            raise SimulationFailed(reply["error"])
        return reply["result"].encode()

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.time())


def serve(lines: Any = sys.stdin, out: Any = sys.stdout) -> None:
    """The worker's loop: one JSON request per line, one JSON line back when it is done."""
    for line in lines:
        request = json.loads(line)
        try:
            result = simulate(request["header"], request["pubs"].encode(), request["threads"])
            reply = {"result": result.decode()}
        except Exception as exc:
            reply = {"error": str(exc)}
        out.write(json.dumps(reply) + "\n")
        out.flush()
