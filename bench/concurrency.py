"""What many jobs at once buy, measured side by side in one run (whole `qprim` processes).

  1. IBM (the emulator, in its own process): 4 workloads whose jobs each sit QUEUE s in
     the queue, as one `qprim run FOLDER/`, against one such workload alone.
  2. Aer: 8 workloads in one call with a worker process per core, against the same run
     with one worker process (QPRIM_AER_PROCESSES=1).
  3. A 1,200-point sampler sweep split into 3 jobs, against the same sweep unsplit.

Every run uses a fresh QPRIM_HOME (nothing cached) and one running Prefect server, so
the differences are qprim's, not the server's start-up.

    python bench/concurrency.py [--queue 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from qprim.testing import DEFAULT_CRN
from qprim.testing.emulator_process import emulator_process

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test suite's servers
from tests.prefect_server import local_prefect_server, server_env

QPRIM = [sys.executable, "-m", "qprim"]
BELL = """\
qprim: 1
primitive: sampler
backend: {backend}
tags: {tags}
circuits:
  bell:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q;
      bit[2] c;
      h q[0];
      cx q[0], q[1];
      c = measure q;
pubs:
  - circuit: bell
    shots: {shots}
"""
SWEEP = """\
qprim: 1
primitive: sampler
backend: {{kind: aer, seed: 3}}
execution: {{max_executions_per_job: {per_job}}}
circuits:
  ansatz:
    qasm3: |
      OPENQASM 3.0;
      include "stdgates.inc";
      input float[64] theta;
      input float[64] phi;
      qubit[4] q;
      bit[4] c;
      ry(theta) q[0];
      cx q[0], q[1];
      rx(phi) q[2];
      cx q[2], q[3];
      cx q[1], q[2];
      c = measure q;
pubs:
  - circuit: ansatz
    shots: 4000
    parameters: {{theta: {{linspace: [0, 3.14159265, 40]}}, phi: {{linspace: [0, 1.5, 30]}}}}
    sweep: product
"""


class Bench:
    def __init__(self, root: Path, api_url: str) -> None:
        self.root = root
        self.api_url = api_url

    def env(self, **extra: str) -> dict[str, str]:
        """A fresh QPRIM_HOME per run: nothing is reused from an earlier run."""
        home = self.root / f"home-{uuid.uuid4().hex[:8]}"
        return {
            **server_env(self.root / "prefect"),
            "PREFECT_API_URL": self.api_url,
            "QPRIM_HOME": str(home),
            **extra,
        }

    def timed(self, args: list[str], env: dict[str, str]) -> float:
        start = time.perf_counter()
        done = subprocess.run([*QPRIM, *args], env=env, cwd=self.root, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"qprim {' '.join(args)} failed:\n{done.stderr.decode()[-2000:]}")
        return time.perf_counter() - start

    def folder(self, name: str, texts: list[str]) -> Path:
        folder = self.root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for number, text in enumerate(texts):
            (folder / f"w{number}.yaml").write_text(text)
        return folder


def ibm_rows(bench: Bench, queue: float) -> list[tuple[str, float]]:
    with emulator_process("--seed", "7") as emulator:
        env = bench.env(QPRIM_BENCH_TOKEN="bench")
        block = f"bench-{uuid.uuid4().hex[:8]}"
        create = ["blocks", "create", "ibm", block, "--instance", DEFAULT_CRN]
        create += ["--token-env", "QPRIM_BENCH_TOKEN", "--url", emulator.url]
        bench.timed([*create, "--iam-url", emulator.url], env)
        backend = f"{{kind: ibm, block: {block}, name: fake_manila, seed: 5}}"
        tags = f'["qprim-fault:queue={queue}"]'

        def workloads(count: int, first_shots: int) -> list[str]:
            return [
                BELL.format(backend=backend, tags=tags, shots=first_shots + n) for n in range(count)
            ]

        one = bench.folder("ibm-one", workloads(1, 1000))
        four = bench.folder("ibm-four", workloads(4, 2000))
        alone = bench.timed(["run", str(one / "w0.yaml")], bench.env(QPRIM_BENCH_TOKEN="x"))
        together = bench.timed(["run", str(four)], bench.env(QPRIM_BENCH_TOKEN="x"))
    return [
        (f"IBM: 1 workload, {queue:.0f} s in the queue", alone),
        (f"IBM: 4 workloads in one run, {queue:.0f} s each in the queue", together),
    ]


def layered(qubits: int, layers: int, angle: float) -> str:
    """OpenQASM 3 text of a circuit that takes Aer a second or so: entangling layers."""
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{qubits}] q;"]
    lines.append(f"bit[{qubits}] c;")
    for layer in range(layers):
        lines += [f"ry({angle + 0.1 * layer}) q[{i}];" for i in range(qubits)]
        lines += [f"cx q[{i}], q[{i + 1}];" for i in range(layer % 2, qubits - 1, 2)]
    lines.append("c = measure q;")
    return "\n".join("      " + line for line in lines)


def aer_rows(bench: Bench) -> list[tuple[str, float]]:
    heavy = (
        "qprim: 1\nprimitive: sampler\nbackend: {{kind: aer, seed: 11}}\n"
        "transpile: {{optimization_level: 0}}\n"
        "circuits:\n  layered:\n    qasm3: |\n{qasm}\npubs:\n  - circuit: layered\n"
        "    shots: 1000\n"
    )
    folder = bench.folder(
        "aer-eight", [heavy.format(qasm=layered(22, 12, 0.3 + n)) for n in range(8)]
    )
    cores = os.cpu_count() or 1
    pool = bench.timed(["run", str(folder)], bench.env())
    single = bench.timed(["run", str(folder)], bench.env(QPRIM_AER_PROCESSES="1"))
    return [
        (f"Aer: 8 workloads, {cores} worker processes", pool),
        ("Aer: 8 workloads, 1 worker process", single),
    ]


def sweep_rows(bench: Bench) -> list[tuple[str, float]]:
    unsplit = bench.root / "sweep-unsplit.yaml"
    unsplit.write_text(SWEEP.format(per_job=10**9))
    split = bench.root / "sweep-split.yaml"
    split.write_text(SWEEP.format(per_job=400 * 4000))  # 1,200 points: 3 jobs of 400
    return [
        ("1,200-point sweep, one job", bench.timed(["run", str(unsplit)], bench.env())),
        ("1,200-point sweep, split into 3 jobs", bench.timed(["run", str(split)], bench.env())),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=float, default=15.0, help="seconds in the IBM queue")
    queue = parser.parse_args().queue
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with local_prefect_server(root / "server") as url:
            bench = Bench(root, url)
            bench.timed(
                ["run", str(Path(__file__).parents[1] / "examples/workloads/bell.yaml")],
                bench.env(),
            )
            rows = ibm_rows(bench, queue) + aer_rows(bench) + sweep_rows(bench)
    table = Table(title="many jobs at once (wall time of whole qprim processes)")
    for header in ("what", "s", "ratio"):
        table.add_column(header, justify="left" if header == "what" else "right")
    for index, (label, seconds) in enumerate(rows):
        baseline = rows[index - index % 2][1]  # each pair against its first row
        table.add_row(label, f"{seconds:.2f}", f"{seconds / baseline:.2f}x")
    Console().print(table)
    ibm_ratio = rows[1][1] / rows[0][1]
    Console().print(f"4 IBM workloads vs 1: {ibm_ratio:.2f}x (target <= 1.6x)")


if __name__ == "__main__":
    main()
