"""Read a YAML workload while remembering where every key was written.

PyYAML's `safe_load` forgets line numbers and silently keeps the last of two
duplicate keys, so errors could not point at `FILE:LINE`. We compose the node
tree ourselves and build plain Python data plus a map from key path
(e.g. `("pubs", 2, "shots")`) to its 1-based line.

Mapping keys are always kept as their literal text: YAML 1.1 would otherwise turn
a bitstring `00` into the integer 0, `01` into 1 and a key `on` into True.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from qprim.workload.types import Location, WorkloadError

Path_ = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_DEPTH = 100


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
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise WorkloadError(Location(file, 1), f"YAML syntax error: {exc}") from None
    doc = SourceDoc(file=file, data=None)
    if root is None:
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(root, (), 0)
    return doc


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> WorkloadError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    return WorkloadError(Location(file, line), f"YAML syntax error: {what or exc}")


class _Builder:
    """Turns composed nodes into Python data, filling the line map on the way."""

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.doc.error(path, "YAML nesting is too deep (a recursive alias?)")
        self.doc.nodes[path] = node
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.doc.lines[(*path, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, i), depth + 1))
            return items
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, self.doc.file) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
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
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def _key(self, key_node: yaml.Node, path: Path_) -> str:
        if not isinstance(key_node, yaml.ScalarNode):
            raise WorkloadError(
                Location(self.doc.file, key_node.start_mark.line + 1),
                'a mapping key must be a plain name, e.g. "shots: 1000"',
            )
        return str(key_node.value)
