"""PNG pictures of a saved run: counts histograms (sampler), expectation values (estimator).

Why from a saved run: `qprim show RUN --png FILE` and CI jobs draw any run folder after
the fact. Parameter values, observable labels and `expect:` targets are read back from the
workload copy in the folder when it is a YAML workload; without it (a `qprim fetch` run,
a bare circuit file) the axes fall back to PUB indices.

matplotlib is optional (`pip install 'qprim[plot]'`), imported lazily, and used through
its Agg canvas without pyplot, so no global backend state is touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.errors import InputError
from qprim.files import write_atomic
from qprim.state.runs import WORKLOAD_DIR

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qprim.report.record import RunRecord
    from qprim.state.runs import SavedRun
    from qprim.workload import Expectation, PubSpec

TOP_OUTCOMES = 16  # bars per histogram; the rest are summed into "other"
MAX_PANELS = 12  # PUBs drawn; a workload with more is cut (said in the figure)
MAX_BARS = 40  # expectation values drawn as bars per PUB
MAX_POINTS = 48  # sweep points drawn per sampler PUB
STACKED_OUTCOMES = 8  # outcomes told apart in a sweep's stacked bars
DPI = 120
BAR_COLOR = "#6929c4"
OTHER_COLOR = "#a8a8a8"
EXPECTED_COLOR = "#da1e28"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PubContext:
    """Everything known about one PUB: its result, and its spec when the workload loads."""

    index: int
    result: Any
    circuit: str | None
    spec: PubSpec | None = None
    expect: list[Expectation] = field(default_factory=list)


def write_png(saved: SavedRun, path: Path) -> None:
    """Draw `saved` and write the PNG atomically."""
    figure = run_figure(saved)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    write_atomic(path, buffer.getvalue())


def run_figure(saved: SavedRun) -> Figure:
    """One panel per PUB (up to MAX_PANELS), titled with the workload, backend and checks."""
    figure_class = _figure_class()
    record = saved.record
    pubs = pub_contexts(saved)
    shown = pubs[:MAX_PANELS]
    columns = 1 if len(shown) == 1 else 2
    rows = max(1, math.ceil(len(shown) / columns))
    figure = figure_class(figsize=(6.4 * columns, 4.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    draw = _draw_counts if record.primitive == "sampler" else _draw_evs
    for ax, pub in zip(axes, shown, strict=False):
        draw(ax, pub)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    figure.suptitle(_headline(record, len(pubs) - len(shown)), fontsize=12)
    return figure


def pub_contexts(saved: SavedRun) -> list[PubContext]:
    """The PUBs of a run, with their specs and checks if the saved workload still loads."""
    circuits = {pub.index: pub.circuit for pub in saved.record.pubs}
    specs, expectations = _workload_specs(saved)
    return [
        PubContext(
            index=index,
            result=pub_result,
            circuit=circuits.get(index),
            spec=specs.get(index),
            expect=[check for check in expectations if check.pub == index],
        )
        for index, pub_result in enumerate(saved.result)
    ]


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise InputError("plotting needs matplotlib: pip install 'qprim[plot]'") from exc

    class AggFigure(Figure):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            FigureCanvasAgg(self)

    return AggFigure


def _workload_specs(saved: SavedRun) -> tuple[dict[int, PubSpec], list[Expectation]]:
    """PUB specs and checks from the saved YAML workload; empty when it cannot be read.

    Best effort on purpose: a picture with index axes beats no picture, so any failure
    to reload the copy (moved files, an older format) falls back silently.
    """
    source = saved.record.workload.source
    if not source or Path(source).suffix.lower() not in YAML_SUFFIXES:
        return {}, []
    copy = saved.path / WORKLOAD_DIR / Path(source).name
    try:
        from qprim.workload import load_workload

        workload = load_workload(copy)
    except Exception:
        return {}, []
    if len(workload.pubs) != len(saved.result):
        return {}, []
    return {spec.index: spec for spec in workload.pubs}, list(workload.expect)


def _headline(record: RunRecord, hidden: int) -> str:
    backend = record.backend
    where = backend.label
    if backend.noise:
        where += " (noisy)"
    if backend.seed is not None:
        where += f", seed {backend.seed}"
    lines = [f"{record.workload.name} — {record.primitive} on {where}"]
    checks = record.expect
    if checks:
        failed = len(record.failed_checks)
        lines.append(
            f"checks: {len(checks) - failed} passed, {failed} failed"
            if failed
            else f"checks: all {len(checks)} passed"
        )
    if hidden:
        lines.append(f"({hidden} more PUBs not drawn)")
    return "\n".join(lines)


def _pub_title(pub: PubContext) -> str:
    return f"pub {pub.index}" + (f": {pub.circuit}" if pub.circuit else "")


# --- sampler ---------------------------------------------------------------------------


def _draw_counts(ax: Axes, pub: PubContext) -> None:
    """A histogram of the top outcomes; a swept PUB gets one stacked bar per sweep point."""
    bits = pub.result.join_data()
    if bits.shape:
        _draw_sweep_counts(ax, pub, bits)
        return
    counts = bits.get_counts()
    shots = sum(counts.values())
    expected = _expected_counts(pub)
    top = sorted(counts, key=lambda key: (-counts[key], key))[:TOP_OUTCOMES]
    keys = sorted(set(top) | set(expected))
    labels = list(keys)
    values = [counts.get(key, 0) / shots for key in keys]
    colors = [BAR_COLOR] * len(keys)
    other = shots - sum(counts.get(key, 0) for key in keys)
    if other:
        labels.append(f"other ({len(counts) - len(top)})")
        values.append(other / shots)
        colors.append(OTHER_COLOR)
    positions = np.arange(len(labels))
    bars = ax.bar(positions, values, color=colors, width=0.7)
    _label_bars(ax, bars, [f"{value:.1%}" for value in values], values)
    marked = [(position, expected[key]) for position, key in enumerate(keys) if key in expected]
    for number, (position, target) in enumerate(marked):
        ax.hlines(
            target,
            position - 0.42,
            position + 0.42,
            colors=EXPECTED_COLOR,
            linestyles="--",
            linewidth=1.5,
            label=None if number else "expected",
        )
    rotate = len(labels) > 8 or max(map(len, labels)) > 6
    ax.set_xticks(positions, labels, rotation=90 if rotate else 0, fontfamily="monospace")
    ax.set_ylabel("probability")
    ax.set_ylim(0, max([*values, *expected.values()]) * 1.12)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if expected:
        ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{_pub_title(pub)} — {shots} shots", fontsize=10)


def _draw_sweep_counts(ax: Axes, pub: PubContext, bits: Any) -> None:
    """Outcome probabilities at each sweep point, stacked: the top outcomes over the sweep."""
    points = list(np.ndindex(*bits.shape))[:MAX_POINTS]
    per_point = [bits[point].get_counts() for point in points]
    total: dict[str, int] = {}
    for counts in per_point:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    keys = sorted(sorted(total, key=lambda key: (-total[key], key))[:STACKED_OUTCOMES])
    shares = np.array(
        [[counts.get(key, 0) / sum(counts.values()) for counts in per_point] for key in keys]
    )
    rest = 1.0 - shares.sum(axis=0)
    positions = np.arange(len(points))
    bottom = np.zeros(len(points))
    palette = _palette(len(keys))
    for key, row, color in zip(keys, shares, palette, strict=True):
        ax.bar(positions, row, bottom=bottom, color=color, width=0.8, label=key)
        bottom += row
    if rest.max() > 1e-12:
        ax.bar(positions, rest, bottom=bottom, color=OTHER_COLOR, width=0.8, label="other")
    ax.set_xticks(
        positions, [_point_label(pub, point, bits.shape) for point in points], rotation=90
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.legend(
        title="outcome",
        fontsize=8,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1, 1),
        prop={"family": "monospace", "size": 8},
    )
    shown = f"first {len(points)} of " if len(points) < bits.size else ""
    ax.set_title(
        f"{_pub_title(pub)} — {shown}{'×'.join(map(str, bits.shape))} sweep points, "
        f"{bits.num_shots} shots each",
        fontsize=10,
    )


def _point_label(pub: PubContext, point: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """A point of a PUB as its parameter values when they span `shape`, else as its index."""
    spec = pub.spec
    if spec is None or spec.parameter_values is None or spec.parameter_values.shape[:-1] != shape:
        return str(point[0]) if len(point) == 1 else str(point)
    values = spec.parameter_values[point]
    return ", ".join(
        f"{name}={value:.3g}" for name, value in zip(spec.parameter_names, values, strict=True)
    )


def _palette(size: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["tab10" if size <= 10 else "tab20"](i) for i in range(size)]


def _label_bars(ax: Axes, bars: Any, texts: list[str], values: list[float]) -> None:
    """Value labels inside tall bars (clear of reference lines), above short ones."""
    tall = max(values) * 0.2
    inside = [text if value >= tall else "" for text, value in zip(texts, values, strict=True)]
    above = [text if value < tall else "" for text, value in zip(texts, values, strict=True)]
    ax.bar_label(bars, labels=inside, label_type="center", color="white", fontsize=9)
    ax.bar_label(bars, labels=above, fontsize=8, padding=2)


def _expected_counts(pub: PubContext) -> dict[str, float]:
    expected: dict[str, float] = {}
    for check in pub.expect:
        expected.update(check.counts or {})
    return expected


# --- estimator -------------------------------------------------------------------------


def _draw_evs(ax: Axes, pub: PubContext) -> None:
    """A 1-D parameter sweep as lines with error bars; anything else as bars."""
    evs = np.asarray(pub.result.data.evs, dtype=float)
    stds = np.broadcast_to(np.asarray(pub.result.data.stds, dtype=float), evs.shape)
    sweep = _sweep_axis(pub, evs.shape)
    if sweep is not None and evs.ndim in (1, 2):
        _draw_sweep(ax, pub, evs, stds, *sweep)
    else:
        _draw_ev_bars(ax, pub, evs, stds)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_ylabel("expectation value")


def _sweep_axis(pub: PubContext, shape: tuple[int, ...]) -> tuple[str, np.ndarray] | None:
    """(name, values) of the parameter swept along the last axis of a 1-D sweep."""
    spec = pub.spec
    if spec is None or spec.parameter_values is None or not shape:
        return None
    values = spec.parameter_values
    if values.ndim != 2 or values.shape[0] < 2 or shape[-1] != values.shape[0]:
        return None
    varying = [col for col in range(values.shape[1]) if np.ptp(values[:, col]) > 0]
    column = varying[0] if varying else 0
    return spec.parameter_names[column], values[:, column]


def _draw_sweep(
    ax: Axes, pub: PubContext, evs: np.ndarray, stds: np.ndarray, name: str, x: np.ndarray
) -> None:
    rows, row_stds = evs.reshape(-1, len(x)), stds.reshape(-1, len(x))
    labels = _observable_labels(pub, evs.shape)
    row_labels = labels.reshape(-1, len(x))[:, 0] if labels is not None else None
    expected = _expected_evs(pub, evs.shape)
    for row, (values, errors) in enumerate(zip(rows, row_stds, strict=True)):
        label = f"⟨{row_labels[row]}⟩" if row_labels is not None else None
        ax.errorbar(
            x,
            values,
            yerr=errors,
            marker="o",
            markersize=4,
            capsize=3,
            label=label,
            color=BAR_COLOR if len(rows) == 1 else None,
        )
    if expected is not None:
        ax.plot(x, expected.reshape(-1, len(x)).T, "x", color=EXPECTED_COLOR)
    ax.set_xlabel(name)
    if row_labels is not None:
        ax.legend(fontsize=8)
    ax.set_title(f"{_pub_title(pub)} — sweep over {name}", fontsize=10)


def _draw_ev_bars(ax: Axes, pub: PubContext, evs: np.ndarray, stds: np.ndarray) -> None:
    labels = _observable_labels(pub, evs.shape)
    flat = evs.ravel()[:MAX_BARS]
    if labels is not None and evs.ndim == 1:
        names = list(labels)
    else:
        names = [_point_label(pub, point, evs.shape) for point in np.ndindex(*evs.shape)]
        if labels is not None:
            names = [f"{name}\n{label}" for name, label in zip(names, labels.ravel(), strict=True)]
    names = names[:MAX_BARS]
    positions = np.arange(len(flat))
    colors = [BAR_COLOR if value >= 0 else "#1192e8" for value in flat]
    bars = ax.bar(positions, flat, yerr=stds.ravel()[: len(flat)], color=colors, capsize=3)
    ax.bar_label(bars, labels=[f"{value:+.3f}" for value in flat], fontsize=8, padding=2)
    expected = _expected_evs(pub, evs.shape)
    if expected is not None:
        ax.scatter(
            positions,
            expected.ravel()[: len(flat)],
            marker="_",
            s=400,
            color=EXPECTED_COLOR,
            linewidths=2,
            label="expected",
            zorder=3,
        )
        ax.legend(fontsize=8)
    rotate = len(names) > 10 or sum(map(len, names)) > 60
    ax.set_xticks(
        positions,
        names,
        rotation=60 if rotate else 0,
        fontsize=8,
        ha="right" if rotate else "center",
    )
    low, high = min(0.0, float(flat.min())), max(0.0, float(flat.max()))
    pad = 0.15 * max(high - low, 1e-9)
    ax.set_ylim(low - pad, high + pad)
    cut = f" (first {MAX_BARS} of {evs.size})" if evs.size > MAX_BARS else ""
    ax.set_title(f"{_pub_title(pub)} — {evs.size} expectation values{cut}", fontsize=10)


def _observable_labels(pub: PubContext, shape: tuple[int, ...]) -> np.ndarray | None:
    """Each expectation value's observable, as text, broadcast to the PUB's shape."""
    if pub.spec is None or pub.spec.observables is None:
        return None
    observables = np.asarray(pub.spec.observables, dtype=object)
    labels = np.frompyfunc(_observable_label, 1, 1)(observables)
    try:
        return np.broadcast_to(np.asarray(labels, dtype=object), shape)
    except ValueError:
        return None


def _observable_label(operator: Any) -> str:
    """`ZZ` for a single Pauli, `XX - 0.5·YY` for a weighted sum."""
    terms = list(zip(operator.paulis.to_labels(), operator.coeffs, strict=True))
    if len(terms) == 1 and terms[0][1] == 1:
        return terms[0][0]
    text = ""
    for label, coeff in terms:
        value = coeff.real
        sign = "-" if value < 0 else "+"
        magnitude = "" if abs(value) == 1 else f"{abs(value):g}·"
        text += f" {sign} {magnitude}{label}"
    return text.removeprefix(" + ").strip()


def _expected_evs(pub: PubContext, shape: tuple[int, ...]) -> np.ndarray | None:
    for check in pub.expect:
        if check.evs is not None:
            try:
                return np.broadcast_to(np.asarray(check.evs, dtype=float), shape)
            except ValueError:
                return None
    return None
