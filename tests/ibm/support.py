"""Helpers of the IBM path's tests: workloads for the emulator, blocks through the CLI."""

from __future__ import annotations

import json
import re
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

from qprim import load_run
from qprim.testing import DEFAULT_CRN
from qprim.testing.emulator_process import EmulatorClient
from tests.support import Qprim

TOKEN = "qprim-secret-TOKEN-7c1d9e4b2a"
BELL_QASM = """\
      OPENQASM 3.0;
      include "stdgates.inc";
      qubit[2] q;
      bit[2] c;
      h q[0];
      cx q[0], q[1];
      c = measure q;
"""


@dataclass
class IBM:
    qprim: Qprim
    emulator: EmulatorClient
    block: str

    def workload(
        self,
        name: str,
        *,
        device: str = "fake_manila",
        tags: list[str] = (),
        shots: int = 2000,
        estimator: bool = False,
        folder: Path | None = None,
    ) -> Path:
        qasm = BELL_QASM.replace("      c = measure q;\n", "") if estimator else BELL_QASM
        load = "    observables: [ZZ, XX]\n" if estimator else f"    shots: {shots}\n"
        body = (
            f"primitive: {'estimator' if estimator else 'sampler'}\n"
            "circuits:\n  bell:\n    qasm3: |\n" + qasm + "pubs:\n  - circuit: bell\n" + load
        )
        return self.write(name, body, device=device, tags=tags, folder=folder)

    def write(
        self,
        name: str,
        body: str,
        *,
        device: str = "fake_manila",
        tags: list[str] = (),
        folder: Path | None = None,
    ) -> Path:
        """A workload on the emulator through this block: `body` is the rest of the YAML."""
        path = (folder or self.qprim.cwd) / f"{name}.yaml"
        path.write_text(
            "qprim: 1\n"
            f"backend: {{kind: ibm, block: {self.block}, name: {device}, seed: 11}}\n"
            f"tags: {json.dumps(list(tags))}\n" + body
        )
        return path

    def jobs(self) -> list[dict]:
        return self.emulator.jobs()


def create_block(
    qprim: Qprim,
    emulator: EmulatorClient,
    prefix: str,
    token_env: str,
    env: dict[str, str] | None = None,
) -> str:
    """`qprim blocks create ibm` pointing at the emulator, through the real CLI."""
    block = f"{prefix}-{uuid.uuid4().hex[:8]}"
    done = qprim.run(
        "blocks",
        "create",
        "ibm",
        block,
        "--instance",
        DEFAULT_CRN,
        "--token-env",
        token_env,
        "--url",
        emulator.url,
        "--iam-url",
        emulator.url,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return block


def stopped_while_queued(ibm: IBM, workload: Path) -> tuple[str, str]:
    """Run `workload`, whose job waits in the emulator's queue, and stop the run with
    Ctrl-C once it has said the job is queued: the job's id (it keeps waiting), and what
    the run said. An event, not a timeout: no race with the machine's load."""
    run = ibm.qprim.popen("run", workload)
    try:
        said = next((line for line in run.stderr if " QUEUED" in line), "")
    finally:
        run.send_signal(signal.SIGINT)
        _, rest = run.communicate(timeout=120)
    assert run.returncode == 130, said + rest
    found = re.search(r"status (\S+) QUEUED", said)
    assert found, said + rest
    return found.group(1), said + rest


def sampler_counts(run_dir: Path) -> dict[str, int]:
    return load_run(run_dir).result[0].data.c.get_counts()
