"""The docs say what is so: every link resolves, no page cites a file the project does not
have, the pages made from the code are current, and the workload format page's own
example is a workload qprim accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from qiskit import QuantumCircuit, qpy
from scripts import gen_docs
from typer.testing import CliRunner

from qprim.cli import app
from tests.support import REPO

SITE_PAGES = sorted((REPO / "docs").glob("*.md"))
PAGES = [REPO / "README.md", *SITE_PAGES]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CITED_FILE = re.compile(r"`([\w./-]+\.md)`")
# a path of the repository in a page's text: `examples/ci/gitlab-ci.yml`, `src/qprim/...`
CITED_PATH = re.compile(r"`((?:bench|docs|examples|scripts|src|tests)/[\w./-]*)`")


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


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_repository_path_a_page_names_exists(page: Path) -> None:
    for cited in CITED_PATH.findall(page.read_text()):
        assert (REPO / cited).exists(), f"{page.name} names {cited}"


def test_every_page_is_in_the_sites_navigation() -> None:
    """mkdocs only warns about a page left out of `nav:`; a reader would never find it."""

    def pages(nav: list[Any]) -> list[str]:
        found = []
        for entry in nav:
            for value in entry.values() if isinstance(entry, dict) else [entry]:
                found += pages(value) if isinstance(value, list) else [value]
        return found

    listed = pages(yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"])
    assert sorted(listed) == [p.name for p in SITE_PAGES]


def test_the_readme_is_a_front_page_not_the_manual() -> None:
    lines = (REPO / "README.md").read_text().count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move a section to a page under docs/"


def test_the_readmes_first_run_is_the_getting_started_pages() -> None:
    """The README shows the first run of Getting started: one text, in two places."""
    first_run = re.compile(r"## A first run\n\n(.*?)\n## ", re.S)
    readme = first_run.search((REPO / "README.md").read_text())
    page = first_run.search((REPO / "docs" / "getting-started.md").read_text())
    assert readme and page and readme.group(1) == page.group(1)


def test_the_pages_made_from_the_code_are_current() -> None:
    """The command reference, the workload schema and its reference, as the code has them."""
    for path, text in gen_docs.pages().items():
        assert path.read_text() == text, (
            f"{path.relative_to(REPO)} is not current: run `{gen_docs.COMMAND}` and commit it"
        )


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
