"""The cold path alone (a clean CI machine: new QPRIM_HOME and PREFECT_HOME, no server),
for this qprim and, side by side, other source trees of it.

Interleaved, median of REPEATS, every ratio against the plain Aer script of the same run:
the first `qprim run bell.yaml` of a new home (it starts qprim's local server on a new
database), the second right after it, and the first with QPRIM_SERVER=temporary.
`--baseline SRC` adds the same rows for the qprim in SRC (a checkout's `src` folder, put
first on PYTHONPATH), e.g. main's:

    git archive main src | tar -x -C /tmp/main
    python bench/cold.py --baseline /tmp/main/src
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from overhead import BELL, PLAIN, QPRIM, Bench


def measure(repeats: int, trees: dict[str, str | None]) -> Bench:
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        for _ in range(repeats):
            bench.time("plain script", [sys.executable, "-c", PLAIN], bench.home())
            for name, src in trees.items():
                extra = {"PYTHONPATH": src} if src else {}
                run = [*QPRIM, "run", str(BELL)]
                home = bench.home(**extra)
                try:
                    bench.time(f"{name}: new home, 1st", run, home)
                    bench.time(f"{name}: new home, 2nd", [*run, "--refresh"], home)
                finally:
                    subprocess.run([*QPRIM, "server", "stop"], env=home, capture_output=True)
                temporary = bench.home(QPRIM_SERVER="temporary", **extra)
                bench.time(f"{name}: temporary, 1st", run, temporary)
    return bench


def arguments(doc: str) -> tuple[int, dict[str, str | None]]:
    """`--repeats N --baseline SRC`: the repeats, and each qprim by name ("this": None,
    the installed one; "baseline": a src folder to put first on PYTHONPATH)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another qprim's src folder")
    args = parser.parse_args()
    trees: dict[str, str | None] = {"this": None}
    if args.baseline:
        trees["baseline"] = str(args.baseline.resolve())
    return args.repeats, trees


def main() -> None:
    bench = measure(*arguments(__doc__))
    plain = bench.median("plain script")
    for label, times in bench.samples.items():
        median = statistics.median(times)
        print(f"{label:28s} {median:6.2f} s  {median / plain:5.2f} x plain  {times}")


if __name__ == "__main__":
    main()
