"""A folder of workloads alone: what each further workload costs against a run of its own,
for this qprim and, side by side, other source trees of it.

With qprim's local server (and its resident process) running, interleaved, median of
REPEATS: `qprim run examples/workloads/ --refresh`, and each of its workloads run by
itself with `--refresh`. Each further workload costs (folder - mean own run) / (N - 1):
the folder pays one run's fixed cost and its first workload as a run of its own does.
`--baseline SRC` adds the same rows for the qprim in SRC (see bench/cold.py):

    git archive main src | tar -x -C /tmp/main
    python bench/folder.py --baseline /tmp/main/src
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from cold import arguments
from overhead import EXAMPLES, QPRIM, Bench, wait_for_resident


def measure(repeats: int, trees: dict[str, str | None]) -> Bench:
    workloads = sorted(EXAMPLES.glob("*.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        homes = {
            name: bench.home(**({"PYTHONPATH": src} if src else {})) for name, src in trees.items()
        }
        try:
            for home in homes.values():
                subprocess.run(
                    [*QPRIM, "server", "start"], env=home, check=True, capture_output=True
                )
                wait_for_resident(home)
                bench.time("warm-up", [*QPRIM, "run", str(EXAMPLES)], home)
            for _ in range(repeats):
                for name, home in homes.items():
                    folder = bench.time(
                        f"{name}: folder", [*QPRIM, "run", str(EXAMPLES), "--refresh"], home
                    )
                    own = statistics.mean(
                        bench.time(f"{name}: {w.stem}", [*QPRIM, "run", str(w), "--refresh"], home)
                        for w in workloads
                    )
                    bench.samples.setdefault(f"{name}: own run, mean", []).append(own)
                    bench.samples.setdefault(f"{name}: per further", []).append(
                        (folder - own) / (len(workloads) - 1)
                    )
        finally:
            for home in homes.values():
                subprocess.run([*QPRIM, "server", "stop"], env=home, capture_output=True)
    return bench


def main() -> None:
    repeats, trees = arguments(__doc__)
    bench = measure(repeats, trees)
    medians = {label: bench.median(label) for label in bench.samples if label != "warm-up"}
    for label, median in medians.items():
        print(f"{label:36s} {median:6.2f} s  {bench.samples[label]}")
    for name in trees:
        ratio = medians[f"{name}: per further"] / medians[f"{name}: own run, mean"]
        print(f"{name}: each further workload {ratio:.2f} x a run of its own (target <= 0.15)")
    print(json.dumps(medians))


if __name__ == "__main__":
    main()
