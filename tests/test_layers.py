"""The layers hold, and no import circle is left (type-only imports count).

`lint-imports` checks pyproject.toml's contracts. Two things it cannot say are checked
here: that every module of qprim sits in exactly one layer (a new package must be
placed, not forgotten), and that no module imports itself back through any chain of
imports, across packages or inside one, package `__init__`s included.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp

from tests.support import REPO

PACKAGE = "qprim"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["type"] + ":" + contract["name"]: contract for contract in config["contracts"]}


def _contract(kind: str, name_start: str) -> dict[str, Any]:
    (found,) = [c for key, c in _contracts().items() if key.startswith(f"{kind}:{name_start}")]
    return found


def _graph() -> grimp.ImportGraph:
    """qprim's imports as import-linter sees them: type-only imports too, no cache."""
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=False, cache_dir=None)


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): each is a set
    of modules that import one another, directly or through others."""
    modules = sorted(graph.modules)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in modules:
        if module not in order:
            visit(module)
    return found


def _one_circle(graph: grimp.ImportGraph, members: list[str]) -> str:
    """One chain of imports round the circle, `a -> b -> ... -> a`, to name in a failure."""
    start = members[0]
    back = next(m for m in members if start in graph.find_modules_directly_imported_by(m))
    chain = graph.find_shortest_chain(importer=start, imported=back) or (start, back)
    return " -> ".join([*chain, start])


def test_lint_imports_keeps_every_contract() -> None:
    linter = Path(sys.executable).with_name("lint-imports")  # the `test` extra installs it
    done = subprocess.run(
        [str(linter), "--no-cache", "--no-logo"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout and "KEPT" in done.stdout


def test_no_module_imports_itself_back_through_any_chain() -> None:
    graph = _graph()
    circles = _circles(graph)
    assert not circles, "import circles:\n" + "\n".join(_one_circle(graph, c) for c in circles)


def test_the_circle_check_finds_a_circle() -> None:
    """The check above can fail: two modules importing each other are one circle."""
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _circles(graph) == [["p.a", "p.b"]]
    assert _one_circle(graph, ["p.a", "p.b"]) == "p.a -> p.b -> p.a"


def test_every_module_is_in_exactly_one_layer() -> None:
    layers = _contract("layers", "Layers")["layers"]
    placed = [name.strip() for layer in layers for name in layer.replace(":", "|").split("|")]
    assert len(placed) == len(set(placed))
    unplaced, twice = [], []
    for module in sorted(_graph().modules - {PACKAGE}):
        homes = [name for name in placed if module == name or module.startswith(name + ".")]
        if not homes:
            unplaced.append(module)
        elif len(homes) > 1:
            twice.append(f"{module}: {homes}")
    assert not unplaced, f"in no layer of pyproject.toml: {unplaced}"
    assert not twice, f"in several layers: {twice}"


def test_the_prefect_contract_names_every_package_but_flows() -> None:
    """`forbidden` has no "everything but": a new top-level module must join the list."""
    sources = set(_contract("forbidden", "Only qprim.flows")["source_modules"])
    children = {m for m in _graph().find_children(PACKAGE)}
    assert sources == children - {"qprim.flows"}
