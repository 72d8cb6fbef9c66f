"""What qprim costs on top of plain Qiskit, measured side by side in one run.

Times, as whole processes (imports included, as a user waits for them):
  1. a plain Python script running the Bell circuit with qiskit_aer's SamplerV2;
  2. `qprim run examples/workloads/bell.yaml`, first run and cached rerun, on Prefect's
     temporary server (`QPRIM_SERVER=temporary`: one per process);
  3. the same on the local server qprim keeps: a first run that starts it, a first run
     (`--refresh`: a new job) while it runs, and a cached rerun;
and `qprim --help`. Each is run REPEATS times, interleaved, and the median is kept;
ratios are against the plain script measured in the same run.

    python bench/overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from qprim.testing.prefect_server import server_env

REPO = Path(__file__).resolve().parents[1]
BELL = REPO / "examples" / "workloads" / "bell.yaml"
PLAIN = """
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
isa = generate_preset_pass_manager(1, target=AerSimulator().target).run(bell)
print(SamplerV2(seed=1234).run([(isa, None, 4000)]).result()[0].data.meas.get_counts())
"""


def clean_env(work: Path, **extra: str) -> dict[str, str]:
    return {**server_env(work / "prefect"), "QPRIM_HOME": str(work / "qprim"), **extra}


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(repeats: int) -> dict[str, list[float]]:
    qprim = [sys.executable, "-m", "qprim"]
    run = [*qprim, "run", str(BELL)]
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # create Prefect's database once, as a user's second day would have it
        warm = clean_env(root / "shared", QPRIM_SERVER="temporary")
        timed([*run, "--out", f"{root}/warm"], warm, root)
        for repeat in range(repeats):

            def add(label: str, args: list[str], env: dict[str, str]) -> None:
                samples.setdefault(label, []).append(timed(args, env, root))

            def env_for(work: Path, **extra: str) -> dict[str, str]:
                storage = str(work / "storage")
                return clean_env(
                    root / "shared",
                    QPRIM_HOME=str(work / "qprim"),
                    PREFECT_LOCAL_STORAGE_PATH=storage,
                    **extra,
                )

            add("plain SamplerV2 script", [sys.executable, "-c", PLAIN], clean_env(root))
            add("qprim --help", [*qprim, "--help"], clean_env(root))
            work = root / f"temporary-{repeat}"
            env = env_for(work, QPRIM_SERVER="temporary")
            add("qprim run, first run, temporary server", [*run, "--out", f"{work}/a"], env)
            add("qprim run, cached rerun, temporary server", [*run, "--out", f"{work}/b"], env)
            work = root / f"managed-{repeat}"
            env = env_for(work)
            try:
                add(
                    "qprim run, first run, starts qprim's server", [*run, "--out", f"{work}/a"], env
                )
                add(
                    "qprim run, first run (--refresh), qprim's server running",
                    [*run, "--refresh", "--out", f"{work}/b"],
                    env,
                )
                add(
                    "qprim run, cached rerun, qprim's server running",
                    [*run, "--out", f"{work}/c"],
                    env,
                )
            finally:
                subprocess.run([*qprim, "server", "stop"], env=env, capture_output=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    samples = measure(parser.parse_args().repeats)
    baseline = statistics.median(samples["plain SamplerV2 script"])
    table = Table(title=f"Bell circuit, 4000 shots: median of {len(samples[next(iter(samples))])}")
    for header in ("what", "median s", "min s", "max s", "x plain script"):
        table.add_column(header, justify="left" if header == "what" else "right")
    for label, times in samples.items():
        median = statistics.median(times)
        table.add_row(
            label,
            f"{median:.2f}",
            f"{min(times):.2f}",
            f"{max(times):.2f}",
            f"{median / baseline:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
