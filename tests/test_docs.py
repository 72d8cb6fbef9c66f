"""The docs say what is so: every link resolves, no page cites a file the project does not
have, and the workload format page's own example is a workload qprim accepts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit, qpy
from typer.testing import CliRunner

from qprim.cli import app
from tests.support import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CITED_FILE = re.compile(r"`([\w./-]+\.md)`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line[:1] == "#"}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: {target}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_page_cites_a_page_the_project_does_not_have(page: Path) -> None:
    known = {p.name for p in PAGES} | {"CHANGELOG.md"}
    for cited in CITED_FILE.findall(page.read_text()):
        assert Path(cited).name in known, f"{page.name} cites {cited}"


def test_the_formats_own_example_is_a_workload_qprim_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (REPO / "docs" / "workload-format.md").read_text()
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "qprim: 1" in b)
    (tmp_path / "circuits").mkdir()
    (tmp_path / "sweeps").mkdir()
    ansatz = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] theta;\n'
        "input float[64] phi;\nqubit[2] q;\nbit[2] c;\nry(theta) q[0];\nrx(phi) q[1];\n"
        "c = measure q;\n"
    )
    (tmp_path / "circuits" / "ansatz.qasm").write_text(ansatz)
    many = [QuantumCircuit(1, 1, name=f"step{i}") for i in range(3)]
    for circuit in many:
        circuit.measure(0, 0)
    with open(tmp_path / "circuits" / "many.qpy", "wb") as handle:
        qpy.dump(many, handle)
    np.save(tmp_path / "sweeps" / "grid.npy", np.array([[0.0, 1.0], [0.5, 1.5]]))
    (tmp_path / "w.yaml").write_text(example)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QPRIM_HOME", str(tmp_path / "home"))
    done = CliRunner().invoke(app, ["validate", "w.yaml"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
