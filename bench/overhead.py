"""What qprim costs on top of plain Qiskit, measured side by side in one run.

Whole processes, imports included, as a user waits for them; each measured REPEATS
times, interleaved, median kept; every ratio is between two numbers of this same run:

  - a plain script running the Bell circuit with qiskit_aer's SamplerV2;
  - `qprim run bell.yaml` with qprim's local server already running: a first run
    (`--refresh`: new work, transpiled and simulated) and a cached rerun;
  - the first run of a new home (new QPRIM_HOME and PREFECT_HOME: the server starts on a
    new database) and the second run of that home (the server kept);
  - the same two with QPRIM_SERVER=temporary (Prefect's temporary server per command);
  - prefect-qiskit's own Aer example (the first Python example of its README, read from
    the installed package) on the same running server, when prefect-qiskit is installed
    (`pip install prefect-qiskit==0.2.1`);
  - `qprim run examples/workloads/` against running the same workloads one by one: what
    each further workload of the folder costs, (folder - mean own run) / (N - 1), against
    the mean of the workloads' own runs;
  - `qprim --help` and `qprim validate bell.yaml` against `python -c "import typer, rich"`;
  - the first run and the cached rerun again with QPRIM_RESIDENT=off (every import paid in
    the command's own process), to show what the resident process saves;
  - the memory (RSS) of the idle local server and resident process.

Commands run through the installed `qprim` script, as a user's do.

    python bench/overhead.py [--repeats N] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test suite's servers
from tests.prefect_server import server_env  # noqa: E402

EXAMPLES = REPO / "examples" / "workloads"
BELL = EXAMPLES / "bell.yaml"
SCRIPT = Path(sys.executable).with_name("qprim")  # the entry point a user types
QPRIM = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "qprim"]
PLAIN = """
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2
bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
isa = generate_preset_pass_manager(1, target=AerSimulator().target).run(bell)
print(SamplerV2(seed=1234).run([(isa, None, 4000)]).result()[0].data.meas.get_counts())
"""
# (label, target ratio, numerator, denominator): issue 15's targets
TARGETS = [
    ("first run, server running vs plain script", 1.0, "first run", "plain script"),
    ("first run, server running vs prefect-qiskit", 0.4, "first run", "prefect-qiskit"),
    ("cached rerun vs plain script", 0.5, "cached rerun", "plain script"),
    ("new home, first run vs plain script", 4.0, "new home, 1st", "plain script"),
    ("temporary server, first run vs plain script", 5.0, "temporary, 1st", "plain script"),
    ("qprim --help vs import typer, rich", 2.0, "qprim --help", "import typer, rich"),
    ("qprim validate vs import typer, rich", 2.0, "qprim validate", "import typer, rich"),
    (
        "each further folder workload vs a run of its own",
        0.15,
        "folder, per further",
        "own run, mean",
    ),
]
MEMORY_TARGET_MB = 400  # the idle server and resident process together


def prefect_qiskit_example() -> str | None:
    """The first Python example in prefect-qiskit's README, from the installed package."""
    try:
        readme = metadata.metadata("prefect-qiskit").get_payload()  # type: ignore[attr-defined]
    except metadata.PackageNotFoundError:
        return None
    found = re.search(r"```python\n(.*?)```", str(readme), re.DOTALL)
    return found.group(1) if found else None


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.samples: dict[str, list[float]] = {}
        self.memory_mb: dict[str, float] = {}
        self.homes = 0

    def home(self, **extra: str) -> dict[str, str]:
        """A new QPRIM_HOME and PREFECT_HOME: a first day."""
        self.homes += 1
        where = self.root / f"home{self.homes}"
        return {
            **server_env(where / "prefect"),
            "QPRIM_HOME": str(where / "qprim"),
            **extra,
        }

    def time(self, label: str, args: list[str], env: dict[str, str]) -> float:
        start = time.perf_counter()
        done = subprocess.run(args, env=env, cwd=self.root, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{label}: exit {done.returncode}\n{done.stderr[-2000:]}")
        self.samples.setdefault(label, []).append(elapsed)
        return elapsed

    def median(self, label: str) -> float:
        return statistics.median(self.samples[label])


def measure(repeats: int) -> Bench:
    example = prefect_qiskit_example()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        running = bench.home()  # its local server stays up for the "server running" rows
        subprocess.run([*QPRIM, "server", "start"], env=running, check=True, capture_output=True)
        status = subprocess.run(
            [*QPRIM, "server", "status", "--json"], env=running, capture_output=True, text=True
        )
        api_url = json.loads(status.stdout)["url"]
        wait_for_resident(running)
        bench.time("warm-up", [*QPRIM, "run", str(BELL)], running)
        workloads = sorted(EXAMPLES.glob("*.yaml"))
        try:
            for repeat in range(repeats):
                run_once(bench, repeat, running, api_url, example, workloads)
            bench.memory_mb = idle_memory_mb(running)
        finally:
            subprocess.run([*QPRIM, "server", "stop"], env=running, capture_output=True)
    return bench


def wait_for_resident(env: dict[str, str], timeout: float = 300) -> None:
    """The resident process starts once the server answers and imports for a few
    seconds: the "server running" rows are measured once it serves."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = subprocess.run(
            [*QPRIM, "server", "status", "--json"], env=env, capture_output=True, text=True
        )
        if json.loads(status.stdout).get("resident"):
            return
        time.sleep(0.5)
    raise RuntimeError("qprim's resident process did not start: see `qprim server status`")


def run_once(
    bench: Bench,
    repeat: int,
    running: dict[str, str],
    api_url: str,
    example: str | None,
    workloads: list[Path],
) -> None:
    out = str(bench.root / f"out{repeat}")
    bench.time("plain script", [sys.executable, "-c", PLAIN], running)
    bench.time("import typer, rich", [sys.executable, "-c", "import typer, rich"], running)
    bench.time("qprim --help", [*QPRIM, "--help"], running)
    bench.time("qprim validate", [*QPRIM, "validate", str(BELL)], running)
    bell = [*QPRIM, "run", str(BELL)]
    bench.time("first run", [*bell, "--refresh", "--out", f"{out}/a"], running)
    bench.time("cached rerun", [*bell, "--out", f"{out}/b"], running)
    in_process = {**running, "QPRIM_RESIDENT": "off"}
    bench.time("first run, in-process", [*bell, "--refresh", "--out", f"{out}/g"], in_process)
    bench.time("cached rerun, in-process", [*bell, "--out", f"{out}/h"], in_process)
    folder = bench.time("folder", [*QPRIM, "run", str(EXAMPLES), "--refresh"], running)
    own = statistics.mean(
        bench.time(f"one by one: {w.stem}", [*QPRIM, "run", str(w), "--refresh"], running)
        for w in workloads
    )
    # the folder pays one run's fixed cost and its first workload, like a run of its own;
    # what is left is shared by the others
    bench.samples.setdefault("own run, mean", []).append(own)
    bench.samples.setdefault("folder, per further", []).append(
        (folder - own) / (len(workloads) - 1)
    )
    new_home = bench.home()
    bench.time("new home, 1st", [*bell, "--out", f"{out}/c"], new_home)  # starts the server
    bench.time("new home, 2nd", [*bell, "--refresh", "--out", f"{out}/d"], new_home)
    subprocess.run([*QPRIM, "server", "stop"], env=new_home, capture_output=True)
    temporary = bench.home(QPRIM_SERVER="temporary")
    bench.time("temporary, 1st", [*bell, "--out", f"{out}/e"], temporary)  # new database
    bench.time("temporary, 2nd", [*bell, "--refresh", "--out", f"{out}/f"], temporary)
    if example is not None:
        env = {**running, "PREFECT_API_URL": api_url}
        bench.time("prefect-qiskit", [sys.executable, "-c", example], env)
    shutil.rmtree(out, ignore_errors=True)


def idle_memory_mb(env: dict[str, str]) -> dict[str, float]:
    """RSS of the idle local server and resident process, as `qprim server status` says."""
    status = subprocess.run(
        [*QPRIM, "server", "status", "--json"], env=env, capture_output=True, text=True
    )
    doc = json.loads(status.stdout)
    resident = doc.get("resident") or {}
    return {
        "server": (doc.get("server_rss_bytes") or 0) / 2**20,
        "resident": (resident.get("rss_bytes") or 0) / 2**20,
    }


class Verdict(NamedTuple):
    ratio: str
    measured: float | None  # None: one side was not measured (prefect-qiskit not installed)
    target: float


def ratios(bench: Bench) -> list[Verdict]:
    """Every target with what this run measured."""
    rows = [
        Verdict(label, bench.median(top) / bench.median(bottom), target)
        if top in bench.samples and bottom in bench.samples
        else Verdict(label, None, target)
        for label, target, top, bottom in TARGETS
    ]
    memory = sum(bench.memory_mb.values())
    return [*rows, Verdict("idle server + resident, MB", memory, MEMORY_TARGET_MB)]


def as_json(bench: Bench) -> str:
    medians = {label: bench.median(label) for label in bench.samples if label != "warm-up"}
    targets = [row._asdict() for row in ratios(bench)]
    doc = {"medians_s": medians, "memory_mb": bench.memory_mb, "targets": targets}
    return json.dumps(doc, indent=2)


def report(bench: Bench) -> None:
    console = Console()
    plain = bench.median("plain script")
    table = Table(title=f"Bell circuit, 4000 shots: median of {len(bench.samples['plain script'])}")
    for header in ("what", "median s", "min s", "max s", "x plain script"):
        table.add_column(header, justify="left" if header == "what" else "right")
    for label, times in bench.samples.items():
        if label == "warm-up" or label.startswith("one by one: "):
            continue
        median = statistics.median(times)
        cells = [f"{median:.2f}", f"{min(times):.2f}", f"{max(times):.2f}"]
        table.add_row(label, *cells, f"{median / plain:.2f}")
    console.print(table)
    targets = Table(title="targets (ratios of medians from this run)")
    for header in ("ratio", "measured", "target", ""):
        targets.add_column(header, justify="left" if header == "ratio" else "right")
    for label, measured, target in ratios(bench):
        if measured is None:
            targets.add_row(label, "-", f"<= {target}", "skipped: not installed")
            continue
        verdict = "[green]met[/]" if measured <= target else "[red]missed[/]"
        targets.add_row(label, f"{measured:.2f}", f"<= {target}", verdict)
    memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in bench.memory_mb.items())
    console.print(f"idle memory (RSS): {memory}")
    console.print(targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON document instead")
    args = parser.parse_args()
    bench = measure(args.repeats)
    if args.json:
        print(as_json(bench))
    else:
        report(bench)


if __name__ == "__main__":
    main()
