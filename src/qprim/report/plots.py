"""A saved run as a picture a physicist can put in a paper or a CI report.

Sampler PUBs: a histogram of the top outcomes with shot-noise error bars (a single
point), the top outcomes' probabilities against the swept parameter (a 1-D sweep), or
heatmaps of the most frequent outcomes' probabilities (a 2-D sweep). Estimator PUBs:
bars per observable, a curve per observable against the parameter, or a heatmap per
observable with its minimum and maximum marked. Higher-dimensional sweeps are drawn
against the flattened sweep index. `expect:` targets are drawn, failed checks framed in
red with their detail.

Why from a saved run: `qprim show RUN --png FILE` and CI jobs draw any run folder after
the fact; labels come from the run record (`qprim.report.layout`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report import figures
from qprim.report.counts import counts
from qprim.report.facts import first_extreme
from qprim.report.figures import CheckLine, Panel
from qprim.report.layout import Axis, PubLayout, layouts, short_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qprim.report.record import CheckRecord, RunRecord
    from qprim.report.runs import SavedRun

TOP_OUTCOMES = 16  # bars per histogram; the rest are summed into "other"
SWEPT_OUTCOMES = 6  # outcomes drawn as curves over a sweep (the most frequent overall)
SWEPT_HEATMAPS = 4  # outcomes drawn as heatmaps over a 2-D sweep
MAX_BARS = 40  # expectation values drawn as bars per PUB
MAX_CURVES = 10  # observables drawn as curves in one panel


def write_png(saved: SavedRun, path: Path) -> None:
    """Draw `saved` and write the PNG atomically."""
    figures.write_figure(run_figure(saved), path)


def run_figure(saved: SavedRun) -> Figure:
    """One or more panels per PUB, titled with the workload, backend and checks."""
    figures.agg_figure_class()  # no matplotlib: say so before any work
    record = saved.record
    panels: list[Panel] = []
    for pub, pub_result in zip(layouts(record, saved.result), saved.result, strict=True):
        checks = [check for check in record.expect if check.pub == pub.index]
        if record.primitive == "sampler":
            panels += sampler_panels(pub, pub_result.join_data(), checks)
        else:
            panels += estimator_panels(pub, pub_result, checks)
    return figures.figure_with(panels, headline(record), bool(record.failed_checks))


def headline(record: RunRecord) -> str:
    backend = record.backend
    where = backend.label
    if backend.noise:
        where += " (noisy)"
    if backend.seed is not None:
        where += f", seed {backend.seed}"
    lines = [f"{record.workload.name} — {record.primitive} on {where}"]
    if record.expect:
        failed = len(record.failed_checks)
        passed = len(record.expect) - failed
        lines.append(
            f"checks: {passed} passed, {failed} FAILED"
            if failed
            else f"checks: all {passed} passed"
        )
    return "\n".join(lines)


def pub_title(pub: PubLayout) -> str:
    return f"pub {pub.index}" + (f": {pub.circuit}" if pub.circuit else "")


def sweep_axes(pub: PubLayout) -> list[Axis] | None:
    """The sweep's axes that have more than one point; None: draw by flattened index."""
    axes = pub.axes()
    if axes is None:
        return None
    wide = [axis for axis in axes if axis.size > 1]
    return wide if len(wide) <= 2 else None


def flat_axis(pub: PubLayout) -> Axis:
    """The fallback for a sweep of 3 or more dimensions (or an irregular grid)."""
    shape = "×".join(map(str, pub.sweep_shape))
    caption = f"sweep point (flattened in C order, shape {shape})"
    return Axis(pub.points, None, (), np.arange(pub.points, dtype=float), caption)


def line_axis(pub: PubLayout, axes: list[Axis] | None) -> Axis | None:
    """The x axis of a curve: the one swept axis, or the flattened sweep; None for a
    2-D sweep (a heatmap) or a single point."""
    if axes is None:
        return flat_axis(pub)
    return axes[0] if len(axes) == 1 else None


def observable_names(pub: PubLayout) -> list[str]:
    """`⟨ZZ⟩` per observable (shortened), or one `expectation value` when not recorded."""
    if pub.observables is None:
        return ["expectation value"]
    return [f"⟨{short_label(pub.observable(n) or '')}⟩" for n in range(pub.observable_count)]


def check_lines(pub: PubLayout, checks: Sequence[CheckRecord]) -> list[CheckLine]:
    """Each check's verdict, with the parameter values where a swept check was worst."""
    lines = []
    for check in checks:
        text = f"{check.kind}: {check.detail}"
        if check.at is not None and pub.shape and len(check.at) == len(pub.shape):
            point, observable = pub.element(tuple(check.at))
            where = [pub.label(point)] if pub.values is not None else []
            if pub.observable_count > 1:
                where.append(observable_names(pub)[observable])
            text += f"; worst at {', '.join(where)}" if where else ""
        lines.append(CheckLine(check.passed, text))
    return lines


def failed_point(pub: PubLayout, checks: Sequence[CheckRecord]) -> int | None:
    """The sweep point where a failed check was worst, if it says."""
    for check in checks:
        if not check.passed and check.at is not None and len(check.at) == len(pub.shape):
            return pub.element(tuple(check.at))[0] if pub.points > 1 else None
    return None


# --- sampler ---------------------------------------------------------------------------


def sampler_panels(pub: PubLayout, bits: Any, checks: Sequence[CheckRecord]) -> list[Panel]:
    """`bits`: the PUB's classical registers joined (as `expect:` checks read them)."""
    per_point = [
        counts(bits, pub.point_index(p) if pub.sweep_shape else ()) for p in range(pub.points)
    ]
    shots = np.array([sum(point.values()) for point in per_point])
    expected = _expected_counts(checks)
    lines = check_lines(pub, checks)
    if pub.points == 1:
        return [_histogram(pub, per_point[0], int(shots[0]), expected, lines)]
    total: dict[str, float] = {}
    for at_point, n in zip(per_point, shots, strict=True):
        for key, value in at_point.items():
            total[key] = total.get(key, 0.0) + value / n
    ranked = sorted(total, key=lambda key: (-total[key], key))
    shares = {
        key: np.array([at.get(key, 0) / n for at, n in zip(per_point, shots, strict=True)])
        for key in sorted(ranked[:SWEPT_OUTCOMES])
    }
    axes = sweep_axes(pub)
    x_axis = line_axis(pub, axes)
    where = failed_point(pub, checks)
    title = f"{pub_title(pub)} — {pub.points} points, {int(shots.max())} shots each"
    if x_axis is not None:
        more = len(ranked) - len(shares)

        def draw_curves(ax: Axes, _: float) -> None:
            colors = figures.palette(len(shares))
            for (key, row), color in zip(shares.items(), colors, strict=True):
                noise = figures.shot_noise(row, shots)
                figures.curve(ax, x_axis.values, row, noise, key, color=color)
                if key in expected:
                    ax.axhline(expected[key], color=color, linestyle="--", linewidth=1)
            if where is not None:
                figures.mark_point(ax, x_axis.values[where])
            figures.line_axis_labels(ax, x_axis)
            ax.set_ylabel("probability")
            ax.set_ylim(0, 1.05)
            ax.grid(alpha=0.3)
            ax.legend(
                title=f"outcome ({figures.BIT_ORDER})" + (f"; {more} more" if more else ""),
                title_fontsize=8,
                prop={"family": "monospace", "size": 8},
                loc="best",
            )

        return [Panel(title, draw_curves, lines)]
    assert axes is not None
    return [
        _probability_heatmap(pub, key, row, (axes[0], axes[1]), title, lines, where)
        for key, row in shares.items()
        if key in ranked[:SWEPT_HEATMAPS]
    ]


def _probability_heatmap(
    pub: PubLayout,
    key: str,
    shares: np.ndarray,
    axes: tuple[Axis, Axis],
    title: str,
    lines: list[CheckLine],
    where: int | None,
) -> Panel:
    grid = shares.reshape(axes[0].size, axes[1].size)
    low, high, where_extremes = _extremes(pub, shares, ".3f")

    def draw(ax: Axes, _: float) -> None:
        figures.heatmap(ax, grid, axes, f"P({key}), {figures.BIT_ORDER}", (0.0, 1.0))
        figures.mark_extremes(ax, grid, low, high)
        if where is not None:
            figures.mark_cell(ax, np.unravel_index(where, grid.shape))

    return Panel(f"{title}\nprobability of outcome {key}\n{where_extremes}", draw, lines)


def _extremes(pub: PubLayout, values: np.ndarray, fmt: str) -> tuple[int, int, str]:
    """The lowest and highest points of a heatmap, and the title lines naming them."""
    low, high = first_extreme(values, np.min), first_extreme(values, np.max)
    text = (
        f"▼ min {values[low]:{fmt}} at {pub.label(low)}\n"
        f"▲ max {values[high]:{fmt}} at {pub.label(high)}"
    )
    return low, high, text


def _histogram(
    pub: PubLayout,
    counts: dict[str, int],
    shots: int,
    expected: dict[str, float],
    lines: list[CheckLine],
) -> Panel:
    """The top outcomes (and the expected ones), the rest summed as `other`."""
    top = sorted(counts, key=lambda key: (-counts[key], key))[:TOP_OUTCOMES]
    keys = sorted(set(top) | set(expected))
    labels = list(keys)
    values = [counts.get(key, 0) / shots for key in keys]
    colors = [figures.MAIN_COLOR] * len(keys)
    other = shots - sum(counts.get(key, 0) for key in keys)
    if other:
        labels.append(f"other ({len(set(counts) - set(keys))})")
        values.append(other / shots)
        colors.append(figures.OTHER_COLOR)
    shares = np.array(values)
    errors = figures.shot_noise(shares, shots)
    top_needed = max([*(shares + errors), *expected.values()])

    def draw(ax: Axes, shared_top: float) -> None:
        positions = np.arange(len(labels))
        bars = ax.bar(
            positions, shares, yerr=errors, color=colors, width=0.7, capsize=3, ecolor="black"
        )
        figures.value_labels(ax, bars, values, ".1%")
        marked = [(at, expected[key]) for at, key in enumerate(keys) if key in expected]
        for number, (at, target) in enumerate(marked):
            ax.hlines(
                target,
                at - 0.42,
                at + 0.42,
                colors=figures.FAILED_COLOR,
                linestyles="--",
                linewidth=1.5,
                label=None if number else "expected",
            )
        rotate = len(labels) > 8 or max(map(len, labels)) > 6
        ax.set_xticks(positions, labels, rotation=90 if rotate else 0, fontfamily="monospace")
        ax.set_xlabel(f"outcome ({figures.BIT_ORDER})")
        ax.set_ylabel("probability")
        ax.set_ylim(0, min(1.0, shared_top) * 1.2)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        if expected:
            ax.legend(loc="upper right", fontsize=8)

    return Panel(f"{pub_title(pub)} — {shots} shots", draw, lines, top=top_needed)


def _expected_counts(checks: Sequence[CheckRecord]) -> dict[str, float]:
    expected: dict[str, float] = {}
    for check in checks:
        if check.kind == "counts" and isinstance(check.expected, dict):
            expected.update(check.expected)
    return expected


# --- estimator -------------------------------------------------------------------------


def estimator_panels(pub: PubLayout, pub_result: Any, checks: Sequence[CheckRecord]) -> list[Panel]:
    evs = np.asarray(pub_result.data.evs, dtype=float)
    stds = np.broadcast_to(np.asarray(pub_result.data.stds, dtype=float), evs.shape)
    values = pub.by_observable(evs).reshape(pub.observable_count, -1)
    errors = pub.by_observable(stds).reshape(pub.observable_count, -1)
    expected = _expected_evs(pub, checks, evs.shape)
    labels = observable_names(pub)
    where = failed_point(pub, checks)
    lines = check_lines(pub, checks)
    if pub.points == 1:
        return [_ev_bars(pub, labels, values[:, 0], errors[:, 0], expected, lines)]
    axes = sweep_axes(pub)
    x_axis = line_axis(pub, axes)
    if x_axis is not None:
        shown = min(len(labels), MAX_CURVES)
        cut = f" (first {shown} of {len(labels)} observables)" if shown < len(labels) else ""

        def draw_curves(ax: Axes, _: float) -> None:
            colors = figures.palette(shown)
            for n in range(shown):
                figures.curve(ax, x_axis.values, values[n], errors[n], labels[n], color=colors[n])
                if expected is not None:
                    ax.plot(
                        x_axis.values,
                        expected[n],
                        "x",
                        color=figures.FAILED_COLOR,
                        label="expected" if n == 0 else None,
                    )
            if where is not None:
                figures.mark_point(ax, x_axis.values[where])
            ax.axhline(0, color="black", linewidth=0.6)
            figures.line_axis_labels(ax, x_axis)
            ax.set_ylabel("expectation value")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="best")

        return [Panel(f"{pub_title(pub)} — {pub.points} points{cut}", draw_curves, lines)]
    assert axes is not None
    return [
        _ev_heatmap(pub, n, values[n], (axes[0], axes[1]), lines, where)
        for n in range(pub.observable_count)
        if not np.isnan(values[n]).all()
    ]


def _ev_heatmap(
    pub: PubLayout,
    number: int,
    values: np.ndarray,
    axes: tuple[Axis, Axis],
    lines: list[CheckLine],
    where: int | None,
) -> Panel:
    grid = values.reshape(axes[0].size, axes[1].size)
    low, high, where_extremes = _extremes(pub, values, "+.4f")
    name = observable_names(pub)[number]
    full = pub.observable(number)
    title = f"{pub_title(pub)} — {f'⟨{figures.wrapped(full)}⟩' if full else name}\n{where_extremes}"

    def draw(ax: Axes, _: float) -> None:
        figures.heatmap(ax, grid, axes, name)
        figures.mark_extremes(ax, grid, low, high)
        if where is not None:
            figures.mark_cell(ax, np.unravel_index(where, grid.shape))

    return Panel(title, draw, lines)


def _ev_bars(
    pub: PubLayout,
    labels: list[str],
    values: np.ndarray,
    errors: np.ndarray,
    expected: np.ndarray | None,
    lines: list[CheckLine],
) -> Panel:
    shown = min(len(values), MAX_BARS)
    cut = f" (first {shown} of {len(values)})" if shown < len(values) else ""
    point = pub.label(0)

    def draw(ax: Axes, _: float) -> None:
        positions = np.arange(shown)
        colors = [figures.MAIN_COLOR if v >= 0 else "#1192e8" for v in values[:shown]]
        bars = ax.bar(positions, values[:shown], yerr=errors[:shown], color=colors, capsize=3)
        figures.value_labels(ax, bars, list(values[:shown]), "+.3f")
        if expected is not None:
            ax.scatter(
                positions,
                expected[:shown, 0],
                marker="_",
                s=400,
                color=figures.FAILED_COLOR,
                linewidths=2,
                label="expected",
                zorder=3,
            )
            ax.legend(fontsize=8)
        rotate = shown > 8 or sum(map(len, labels[:shown])) > 60
        ax.set_xticks(
            positions,
            labels[:shown],
            rotation=45 if rotate else 0,
            ha="right" if rotate else "center",
            fontsize=8,
            fontfamily="monospace",
        )
        low, high = (
            min(0.0, float(np.nanmin(values - errors))),
            max(0.0, float(np.nanmax(values + errors))),
        )
        pad = 0.15 * max(high - low, 1e-9)
        ax.set_ylim(low - pad, high + pad)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xlabel("observable")
        ax.set_ylabel("expectation value")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)

    title = f"{pub_title(pub)} — {len(values)} expectation values{cut}"
    return Panel(title + (f"\nat {point}" if point else ""), draw, lines)


def _expected_evs(
    pub: PubLayout, checks: Sequence[CheckRecord], shape: tuple[int, ...]
) -> np.ndarray | None:
    """The `evs` target of a check as (observables, points); None without one."""
    for check in checks:
        if check.kind == "evs" and check.expected is not None:
            try:
                target = np.broadcast_to(np.asarray(check.expected, dtype=float), shape)
            except ValueError:
                return None
            return pub.by_observable(target).reshape(pub.observable_count, -1)
    return None
