"""Read a YAML workload while remembering where every key was written.

PyYAML's `safe_load` forgets line numbers and silently keeps the last of two
duplicate keys, so errors could not point at `FILE:LINE`. We compose the node
tree ourselves and build plain Python data plus a map from key path
(e.g. `("pubs", 2, "shots")`) to its 1-based line.

Mapping keys are always kept as their literal text: YAML 1.1 would otherwise turn
a bitstring `00` into the integer 0, `01` into 1 and a key `on` into True.

Composing is bounded (see `limits`): PyYAML's composer recurses once per level and
hits Python's recursion limit a few hundred levels down, and an alias is composed
once but built (expanded) at every use, so a "billion laughs" document of a few
lines would build forever. Both are stopped while composing, at the offending line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:  # libyaml's parser: about ten times faster than PyYAML's own, same events and marks
    from yaml.cyaml import CParser as _Parser
except ImportError:  # a PyYAML built without libyaml: its own reader, scanner and parser
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


from qprim.workload.limits import MAX_YAML_DEPTH, MAX_YAML_NODES, count
from qprim.workload.types import Location, WorkloadError

Path_ = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class SourceDoc:
    """The data of a YAML file with the line of every key and list item."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    nodes: dict[Path_, yaml.Node] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """Line of `path`, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def at(self, path: Path_) -> Location:
        return Location(self.file, self.line(path))

    def error(self, path: Path_, message: str) -> WorkloadError:
        return WorkloadError(self.at(path), message)

    def value_start_line(self, path: Path_) -> int:
        """1-based line where the *text* of a scalar value starts.

        A block scalar (`|` or `>`) starts on the line after its indicator; a plain or
        quoted one on its own line. Used to map a line inside inline QASM to the YAML.
        """
        node = self.nodes.get(path)
        if node is None:
            return self.line(path)
        start = node.start_mark.line + 1
        return start + 1 if getattr(node, "style", None) in ("|", ">") else start


def parse_yaml(text: str, file: str) -> SourceDoc:
    """Parse YAML text into a SourceDoc; syntax errors become `FILE:LINE` errors."""
    loader = _BoundedLoader(text, file)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise WorkloadError(Location(file, 1), f"YAML syntax error: {exc}") from None
    finally:
        loader.dispose()
    doc = SourceDoc(file=file, data=None)
    if root is None:
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(root, ())
    return doc


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> WorkloadError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    if "maximum nesting depth" in str(exc.problem):  # PyYAML 6.0.3+ stops at its own limit
        return _too_deep(Location(file, line))
    what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    return WorkloadError(Location(file, line), f"YAML syntax error: {what or exc}")


class _BoundedLoader(Composer, _Parser, SafeConstructor, Resolver):
    """PyYAML's safe composer with bounds on nesting and on the expanded size.

    Each node is measured as the builder will see it: an alias counts as the whole node
    it names, wherever it is used. `depth` bounds the composer's own recursion on the
    way down; the measured height bounds the builder's, aliases included."""

    def __init__(self, text: str, file: str) -> None:
        _Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.file = file
        self.depth = 0
        self.measured: dict[int, tuple[int, int]] = {}  # id(node) -> (size, height)

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        where = Location(self.file, self.peek_event().start_mark.line + 1)
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self.measured:  # the anchored node is still being composed
                raise WorkloadError(
                    where,
                    "a YAML alias refers to a node that contains it (a recursive alias); "
                    'an alias may only repeat a finished node, e.g. "base: &b {shots: 10}" '
                    'then "<<: *b"',
                )
            return node
        if self.depth >= MAX_YAML_DEPTH:
            raise _too_deep(where)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        self.measured[id(node)] = self._measure(node, where)
        return node

    def _measure(self, node: yaml.Node, where: Location) -> tuple[int, int]:
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            return 1, 1
        size = 1 + sum(self.measured[id(child)][0] for child in children)
        height = 1 + max((self.measured[id(child)][1] for child in children), default=0)
        if size > MAX_YAML_NODES:
            raise WorkloadError(
                where,
                f"this YAML expands to more than {count(MAX_YAML_NODES)} values (an alias "
                "counts at every use); write large sweeps as {linspace: [start, stop, num]} "
                'or in a .npy file, e.g. "parameters: {file: sweep.npy, names: [theta]}"',
            )
        if height > MAX_YAML_DEPTH:
            raise _too_deep(where)
        return size, height


def _too_deep(where: Location) -> WorkloadError:
    return WorkloadError(
        where,
        f"YAML nesting is deeper than {MAX_YAML_DEPTH} levels (aliases included); a "
        'workload needs a few, e.g. "pubs: [{circuit: bell, shots: 1000}]"',
    )


class _Builder:
    """Turns composed nodes into Python data, filling the line map on the way."""

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.nodes[path] = node
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.doc.lines[(*path, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, i)))
            return items
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, self.doc.file) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, path)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise WorkloadError(
                    Location(self.doc.file, line),
                    f"duplicate key '{key}' (first written on line {seen[key]}); "
                    "write each key once",
                )
            seen[key] = line
        try:
            self.constructor.flatten_mapping(node)  # resolves `<<: *anchor` merges
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, self.doc.file) from None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            self.doc.lines[(*path, key)] = key_node.start_mark.line + 1
            # the key's own line, not the value's: "shots:" is where the user looks
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, key_node: yaml.Node, path: Path_) -> str:
        if not isinstance(key_node, yaml.ScalarNode):
            raise WorkloadError(
                Location(self.doc.file, key_node.start_mark.line + 1),
                'a mapping key must be a plain name, e.g. "shots: 1000"',
            )
        return str(key_node.value)
