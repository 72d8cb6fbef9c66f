"""Run one emulator job in a process of its own.

`python -m qprim.testing.emulator_worker` reads the job (`JobWork` as JSON) on stdin and
writes `{"result", "executions"}` as JSON on stdout (see `emulator_programs.run_job`).
Aer crashed (segfault) when it ran in a thread of the emulator's server process; in
its own process a crash fails one job, as on a real service, and the server lives on.
"""

from __future__ import annotations

import json
import sys

from qprim.testing.emulator_programs import JobWork, run_job


def main() -> int:
    request = json.loads(sys.stdin.read())
    try:
        sys.stdout.write(json.dumps(run_job(JobWork(**request))))
    except Exception as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
