"""Parameter sweeps, bound BY NAME to the circuit's parameters.

Positional binding breaks after an OpenQASM 3 round trip (parameters come back
sorted by name), so every value is tied to a name and every name is checked
against `circuit.parameters`. The result is `(names, values)` where `values` has
shape `(*pub_shape, len(names))`, the layout of a Qiskit BindingsArray entry.

`.npz` files: a file with a single array uses it; with several arrays, the one
stored under the key `values` is used.

A sweep's size is checked before its grid is built: `sweep: product` of three
linspaces of a thousand points each would otherwise allocate 24 GB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit

from qprim.errors import suggest
from qprim.workload.circuits import check_file, shown_path
from qprim.workload.limits import MAX_FILE_BYTES, MAX_POINTS, count
from qprim.workload.model import LinspaceModel, ParametersFileModel, ParameterValues, PubModel
from qprim.workload.source import Path_, SourceDoc

NPZ_KEY = "values"


@dataclass(frozen=True)
class Binding:
    names: tuple[str, ...]
    values: np.ndarray | None  # None: the circuit has no parameters
    files: tuple[Path, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return () if self.values is None else tuple(self.values.shape[:-1])


def bind(
    pub: PubModel,
    circuit: QuantumCircuit,
    circuit_name: str,
    doc: SourceDoc,
    path: Path_,
    base_dir: Path,
) -> Binding:
    """Check and build a PUB's parameter values; `path` is the PUB's key path."""
    spec = pub.parameters
    where = (*path, "parameters")
    if spec is None:
        binding = Binding((), None)
    elif isinstance(spec, ParametersFileModel):
        if "sweep" in pub.model_fields_set:
            raise doc.error(
                (*path, "sweep"),
                "sweep applies to a parameter mapping, "
                "not to a file: the array's shape is the sweep",
            )
        binding = _from_file(spec, doc, where, base_dir)
    else:
        binding = _from_mapping(spec, pub.sweep, doc, where)
    _check_names(binding, circuit, circuit_name, doc, where)
    return binding


def _from_mapping(
    spec: dict[str, ParameterValues], sweep: str, doc: SourceDoc, where: Path_
) -> Binding:
    if not spec:
        raise doc.error(where, 'parameters is empty; e.g. "parameters: {theta: [0.0, 1.57]}"')
    columns = {name: _values(value, doc, (*where, name)) for name, value in spec.items()}
    names = tuple(columns)
    if sweep == "product":
        axes = [col for col in columns.values() if col.ndim]
        sizes = [len(axis) for axis in axes]
        check_points(
            math.prod(sizes),
            doc,
            where,
            f"sweep: product of {' x '.join(map(str, sizes))} values",
            "sweep fewer values, or several PUBs",
        )
        grids = np.meshgrid(*axes, indexing="ij") if axes else []
        shape = grids[0].shape if grids else ()
        it = iter(grids)
        stacked = [next(it) if col.ndim else np.full(shape, col) for col in columns.values()]
    else:
        lengths = {name: len(col) for name, col in columns.items() if col.ndim}
        if len(set(lengths.values())) > 1:
            first, *rest = lengths.items()
            bad = next(item for item in rest if item[1] != first[1])
            raise doc.error(
                (*where, bad[0]),
                f"sweep: zip needs equal lengths, but "
                f"'{first[0]}' has {first[1]} values and '{bad[0]}' has {bad[1]}; "
                'make them equal or use "sweep: product" for a grid',
            )
        shape = (next(iter(lengths.values())),) if lengths else ()
        stacked = [np.broadcast_to(col, shape) for col in columns.values()]
    return Binding(names, np.stack(stacked, axis=-1).astype(np.float64))


def _values(value: ParameterValues, doc: SourceDoc, path: Path_) -> np.ndarray:
    if isinstance(value, LinspaceModel):
        start, stop, num = value.linspace
        array = np.linspace(start, stop, num)
    else:
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 1 and array.size == 0:
            raise doc.error(path, f"'{path[-1]}' has no values; e.g. \"{path[-1]}: [0.0, 1.57]\"")
    if not np.all(np.isfinite(array)):
        raise doc.error(path, f"'{path[-1]}' values must be finite numbers")
    return array


def _from_file(spec: ParametersFileModel, doc: SourceDoc, where: Path_, base_dir: Path) -> Binding:
    path = base_dir / spec.file
    shown = shown_path(doc.file, spec.file)
    at_file = (*where, "file")
    if len(set(spec.names)) != len(spec.names):
        raise doc.error((*where, "names"), "names must not repeat a parameter")
    check_file(path, shown, doc.at(at_file), "sweep")
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise doc.error(
            at_file,
            f"file not found: {shown}; paths are relative to the "
            'workload file, e.g. "file: sweeps/grid.npy"',
        ) from None
    except Exception as exc:  # numpy raises ValueError, OSError, pickle errors, ...
        raise doc.error(at_file, f"cannot read {shown} as .npy/.npz: {exc}") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            array = _npz_array(loaded, shown, doc, at_file)
    else:
        array = np.asarray(loaded)
    if array.ndim < 1 or array.shape[-1] != len(spec.names):
        raise doc.error(
            at_file,
            f"the last axis of {shown} has length "
            f"{array.shape[-1] if array.ndim else 0} but {len(spec.names)} names are "
            "given; the last axis must hold one value per name",
        )
    if array.dtype.kind not in _REAL_KINDS:
        raise doc.error(
            at_file,
            f"{shown} holds {_dtype_words(array.dtype)} (dtype {array.dtype}); parameter values "
            "are real numbers: save a float array, e.g. np.save(path, values.astype(float))",
        )
    values = array.astype(np.float64)
    points = math.prod(array.shape[:-1])
    if points == 0:
        raise doc.error(
            at_file,
            f"{shown} (shape {array.shape}) holds no points; a sweep needs at least one "
            "row of values",
        )
    check_points(
        points,
        doc,
        at_file,
        f"{shown} (shape {array.shape})",
        "split the array into several files, one PUB each",
    )
    if not np.all(np.isfinite(values)):
        raise doc.error(at_file, f"{shown} values must be finite numbers")
    return Binding(tuple(spec.names), values, (path,))


# numpy dtype kinds of real numbers: floats, signed and unsigned integers
_REAL_KINDS = frozenset("fiu")


def _dtype_words(dtype: np.dtype) -> str:
    words = {"c": "complex numbers", "b": "booleans", "U": "text", "S": "bytes", "O": "objects"}
    return words.get(dtype.kind, "values that are not real numbers")


def check_points(points: int, doc: SourceDoc, path: Path_, what: str, advice: str) -> None:
    """A PUB's number of points (`what` makes them) within MAX_POINTS."""
    if points > MAX_POINTS:
        raise doc.error(
            path,
            f"{what} makes {count(points)} points, more than the {count(MAX_POINTS)} "
            f"one PUB may have; {advice}",
        )


def _npz_array(loaded: np.lib.npyio.NpzFile, shown: str, doc: SourceDoc, at: Path_) -> np.ndarray:
    keys = list(loaded.keys())
    if len(keys) == 1:
        key = keys[0]
    elif NPZ_KEY in keys:
        key = NPZ_KEY
    else:
        raise doc.error(
            at,
            f"{shown} holds arrays {', '.join(keys)}; store a single array, "
            f"or name the one to use '{NPZ_KEY}'",
        )
    unpacked = sum(info.file_size for info in loaded.zip.infolist())  # a zip bomb is small
    if unpacked > MAX_FILE_BYTES:
        raise doc.error(
            at,
            f"{shown} unpacks to {count(unpacked)} bytes, more than the "
            f"{count(MAX_FILE_BYTES)} a sweep file may have; split it into several PUBs",
        )
    return np.asarray(loaded[key])


def _check_names(
    binding: Binding, circuit: QuantumCircuit, circuit_name: str, doc: SourceDoc, where: Path_
) -> None:
    wanted = [p.name for p in circuit.parameters]
    for i, name in enumerate(binding.names):
        if name not in wanted:
            key: Path_ = (*where, "names", i) if (*where, "names") in doc.lines else (*where, name)
            has = f"its parameters: {', '.join(wanted)}" if wanted else "it has no parameters"
            raise doc.error(
                key,
                f"circuit '{circuit_name}' has no parameter '{name}'{suggest(name, wanted)}; {has}",
            )
    unbound = [name for name in wanted if name not in binding.names]
    if unbound:
        example = unbound[0]
        raise doc.error(
            where,
            f"circuit '{circuit_name}' parameter(s) {', '.join(unbound)} "
            f"not bound; bind every parameter by name, e.g. "
            f'"parameters: {{{example}: [0.0, 1.57]}}"',
        )
