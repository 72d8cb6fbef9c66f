"""Executing stored Aer jobs: in this process, or in a pool of worker processes.

Why processes: Aer crashed (segfault) when several simulations ran in threads of one
process, and a command with many Aer jobs should use every core. A worker is a plain
`python -m qprim.backends.aer.worker` reading job ids on stdin, so a crash fails one job
and the pool starts a new worker; Ctrl-C kills the workers and leaves their jobs
queued (a job's file lock dies with its runner). A single job runs in-process: starting
a worker costs more than a small simulation.
"""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from qprim.backends.aer.store import AerJobStore, StoredJob, utc_now
from qprim.backends.base import JobStatus
from qprim.errors import DeadlineError
from qprim.state import codec

FINAL = (JobStatus.DONE.value, JobStatus.ERROR.value, JobStatus.CANCELLED.value)


def execute_stored(store: AerJobStore, job_id: str, threads: int = 0) -> None:
    """Run a stored job unless someone already has; its outcome is recorded in the store.
    `threads` caps Aer's own parallelism (0: all cores) so that workers share the cores."""
    job = store.get(job_id)
    assert job is not None, job_id
    with store.lock(job):
        if store.state(job)["status"] in FINAL:
            return
        store.set_state(job, status=JobStatus.RUNNING.value, started=utc_now())
        try:
            result = _simulate(store, job, threads)
        except Exception as exc:
            store.set_state(job, status=JobStatus.ERROR.value, error=str(exc), finished=utc_now())
            return
        store.save_result(job, codec.encode(result))


def _simulate(store: AerJobStore, job: StoredJob, threads: int) -> Any:
    pubs = [tuple(pub) for pub in codec.decode(store.pubs_json(job))]
    return _primitive(job.header, threads).run(pubs).result()


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
    """One simulation at a time in this process (the deadline cannot interrupt it)."""

    def run(
        self, store: AerJobStore, job_id: str, deadline: float | None, started: Callable[[], None]
    ) -> None:
        started()
        execute_stored(store, job_id)

    def close(self) -> None:
        pass


class WorkerPool:
    """`size` worker processes, started when first needed, one job at a time each."""

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
            worker.execute(store, job_id, deadline, self.threads)
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

    def execute(
        self, store: AerJobStore, job_id: str, deadline: float | None, threads: int
    ) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"root": str(store.root), "job_id": job_id, "threads": threads}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        timeout = None if deadline is None else _left(deadline)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise DeadlineError(f"gave up waiting for Aer job {job_id} (--timeout reached)")
        if not self.process.stdout.readline():  # the worker died mid-simulation
            code = self.process.wait()
            job = store.get(job_id)
            assert job is not None
            store.set_state(
                job,
                status=JobStatus.ERROR.value,
                error=f"the simulator process crashed (exit code {code})",
                finished=utc_now(),
            )

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.time())


def serve(lines: Any = sys.stdin, out: Any = sys.stdout) -> None:
    """The worker's loop: one JSON request per line, one line back when it is done."""
    for line in lines:
        request = json.loads(line)
        execute_stored(AerJobStore(Path(request["root"])), request["job_id"], request["threads"])
        out.write("done\n")
        out.flush()
