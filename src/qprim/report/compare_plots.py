"""A comparison of two runs as a picture: where, and by how much, B differs from A.

Per sampler PUB: both runs' outcome probabilities side by side (a single point), the TVD
against the swept parameter (1-D) or as a heatmap (2-D). Per estimator PUB: A and B
side by side (a single point); A and B as curves, and B − A with its standard error
(1-D); B − A as a heatmap per observable (2-D). A tolerance is drawn, and a panel with
points beyond it is framed in red.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.report import figures
from qprim.report.compare import run_label
from qprim.report.counts import counts
from qprim.report.figures import CheckLine, Panel
from qprim.report.layout import Axis, PubLayout, layouts
from qprim.report.plots import line_axis, observable_names, pub_title, sweep_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qprim.report.compare import Comparison, Difference
    from qprim.report.runs import SavedRun

TOP_OUTCOMES = 12  # outcomes drawn side by side (the most frequent in either run)
MAX_CURVES = 6  # observables drawn as A/B curves in one panel
A_STYLE = {"linestyle": "-", "marker": "o"}
B_STYLE = {"linestyle": "--", "marker": "s"}


def write_comparison_png(
    a: SavedRun, b: SavedRun, comparison: Comparison, tolerance: float | None, path: Path
) -> None:
    figures.write_figure(comparison_figure(a, b, comparison, tolerance), path)


def comparison_figure(
    a: SavedRun, b: SavedRun, comparison: Comparison, tolerance: float | None
) -> Figure:
    figures.agg_figure_class()  # no matplotlib: say so before any work
    panels: list[Panel] = []
    names = (f"A: {run_label(a)}", f"B: {run_label(b)}")
    for pub, result_a, result_b in zip(
        layouts(a.record, a.result), a.result, b.result, strict=True
    ):
        rows = [row for row in comparison.differences if row.pub == pub.index]
        lines = _tolerance_lines(rows, tolerance)
        if comparison.primitive == "sampler":
            bits = (result_a.join_data(), result_b.join_data())
            panels += _sampler_panels(pub, rows, bits, names, tolerance, lines)
        else:
            panels += _estimator_panels(pub, rows, names, tolerance, lines)
    beyond = comparison.beyond(tolerance, None)
    headline = f"{names[0]}\n{names[1]}"
    if tolerance is not None:
        headline += f"\n{len(beyond)} of {len(comparison.differences)} beyond tolerance {tolerance}"
    return figures.figure_with(panels, headline, bool(beyond))


def _tolerance_lines(rows: list[Difference], tolerance: float | None) -> list[CheckLine]:
    if tolerance is None:
        return []
    beyond = sum(row.size > tolerance for row in rows)
    return [CheckLine(not beyond, f"tolerance {tolerance}: {beyond} of {len(rows)} beyond")]


# --- sampler ---------------------------------------------------------------------------


def _sampler_panels(
    pub: PubLayout,
    rows: list[Difference],
    bits: tuple[Any, Any],
    names: tuple[str, str],
    tolerance: float | None,
    lines: list[CheckLine],
) -> list[Panel]:
    tvd = np.array([row.tvd for row in rows], dtype=float)
    if pub.points == 1:
        return [_side_by_side_counts(pub, bits, names, float(tvd[0]), lines)]
    worst = int(np.argmax(tvd))
    title = f"{pub_title(pub)} — TVD per point\nworst {tvd[worst]:.4f} at {pub.label(worst)}"
    axes = sweep_axes(pub)
    x_axis = line_axis(pub, axes)
    if x_axis is not None:

        def draw_line(ax: Axes, _: float) -> None:
            figures.curve(
                ax, x_axis.values, tvd, np.zeros_like(tvd), "TVD(A, B)", color=figures.MAIN_COLOR
            )
            _tolerance_band(ax, tolerance, both_signs=False)
            figures.line_axis_labels(ax, x_axis)
            ax.set_ylabel("total-variation distance")
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)

        return [Panel(title, draw_line, lines)]
    assert axes is not None
    grid = tvd.reshape(axes[0].size, axes[1].size)

    def draw_grid(ax: Axes, _: float) -> None:
        top = max(float(grid.max()), tolerance or 0.0)
        figures.heatmap(ax, grid, (axes[0], axes[1]), "TVD(A, B)", (0.0, top), fmt=".3f")
        for cell in (
            zip(*np.nonzero(grid > tolerance), strict=True) if tolerance is not None else []
        ):
            figures.mark_cell(ax, cell)

    return [Panel(title, draw_grid, lines)]


def _side_by_side_counts(
    pub: PubLayout,
    bits: tuple[Any, Any],
    names: tuple[str, str],
    tvd: float,
    lines: list[CheckLine],
) -> Panel:
    counted = [counts(one) for one in bits]
    shots = [sum(c.values()) for c in counted]
    ranked = sorted(
        set(counted[0]) | set(counted[1]),
        key=lambda key: -max(counted[0].get(key, 0) / shots[0], counted[1].get(key, 0) / shots[1]),
    )
    keys = sorted(ranked[:TOP_OUTCOMES])
    shares = [
        np.array([c.get(key, 0) / n for key in keys]) for c, n in zip(counted, shots, strict=True)
    ]
    top = max(
        float((share + figures.shot_noise(share, n)).max())
        for share, n in zip(shares, shots, strict=True)
    )

    def draw(ax: Axes, shared_top: float) -> None:
        positions = np.arange(len(keys))
        for offset, share, n, name, color in zip(
            (-0.2, 0.2), shares, shots, names, (figures.MAIN_COLOR, "#1192e8"), strict=True
        ):
            ax.bar(
                positions + offset,
                share,
                width=0.4,
                yerr=figures.shot_noise(share, n),
                capsize=2,
                color=color,
                label=f"{name.split(':')[0]}: {n} shots",
            )
        rotate = len(keys) > 8 or max(map(len, keys)) > 6
        ax.set_xticks(positions, keys, rotation=90 if rotate else 0, fontfamily="monospace")
        ax.set_xlabel(f"outcome ({figures.BIT_ORDER})")
        ax.set_ylabel("probability")
        ax.set_ylim(0, min(1.0, shared_top) * 1.15)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(fontsize=8)

    more = (
        f" ({len(ranked) - len(keys)} rarer outcomes not drawn)" if len(ranked) > len(keys) else ""
    )
    return Panel(f"{pub_title(pub)} — TVD(A, B) = {tvd:.4f}{more}", draw, lines, top=top)


# --- estimator -------------------------------------------------------------------------


def _estimator_panels(
    pub: PubLayout,
    rows: list[Difference],
    names: tuple[str, str],
    tolerance: float | None,
    lines: list[CheckLine],
) -> list[Panel]:
    shape = (pub.observable_count, pub.points)
    grids = {key: np.full(shape, np.nan) for key in ("a", "b", "std_a", "std_b")}
    for row in rows:
        at = (row.observable_index or 0, row.point)
        grids["a"][at], grids["b"][at] = row.ev_a, row.ev_b
        grids["std_a"][at], grids["std_b"][at] = row.std_a, row.std_b
    diff = grids["b"] - grids["a"]
    se = np.hypot(grids["std_a"], grids["std_b"])
    labels = observable_names(pub)
    if pub.points == 1:
        return [_side_by_side_evs(pub, labels, grids, names, lines)]
    axes = sweep_axes(pub)
    x_axis = line_axis(pub, axes)
    if x_axis is not None:
        shown = min(len(labels), MAX_CURVES)
        colors = figures.palette(shown)

        def draw_values(ax: Axes, _: float) -> None:
            for n in range(shown):
                for key, style in (("a", A_STYLE), ("b", B_STYLE)):
                    name = f"{labels[n]} {key.upper()}"
                    figures.curve(
                        ax,
                        x_axis.values,
                        grids[key][n],
                        grids[f"std_{key}"][n],
                        name,
                        color=colors[n],
                        **style,
                    )
            figures.line_axis_labels(ax, x_axis)
            ax.set_ylabel("expectation value")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, ncols=2)

        def draw_difference(ax: Axes, _: float) -> None:
            for n in range(shown):
                figures.curve(ax, x_axis.values, diff[n], se[n], labels[n], color=colors[n])
            _tolerance_band(ax, tolerance, both_signs=True)
            ax.axhline(0, color="black", linewidth=0.6)
            figures.line_axis_labels(ax, x_axis)
            ax.set_ylabel("B − A (± standard error)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)

        cut = f" (first {shown} of {len(labels)} observables)" if shown < len(labels) else ""
        return [
            Panel(f"{pub_title(pub)} — A (solid) and B (dashed){cut}", draw_values),
            Panel(f"{pub_title(pub)} — B − A{cut}", draw_difference, lines),
        ]
    assert axes is not None
    return [
        _difference_heatmap(pub, labels[n], diff[n], (axes[0], axes[1]), tolerance, lines)
        for n in range(pub.observable_count)
        if not np.isnan(diff[n]).all()
    ]


def _difference_heatmap(
    pub: PubLayout,
    label: str,
    diff: np.ndarray,
    axes: tuple[Axis, Axis],
    tolerance: float | None,
    lines: list[CheckLine],
) -> Panel:
    grid = diff.reshape(axes[0].size, axes[1].size)
    worst = int(np.nanargmax(np.abs(diff)))

    def draw(ax: Axes, _: float) -> None:
        bound = max(float(np.nanmax(np.abs(grid))), 1e-12)
        figures.heatmap(ax, grid, axes, f"B − A of {label}", (-bound, bound), "RdBu_r", "+.3f")
        if tolerance is not None:
            for cell in zip(*np.nonzero(np.abs(grid) > tolerance), strict=True):
                figures.mark_cell(ax, cell)

    title = f"{pub_title(pub)} — B − A of {label}\nlargest {diff[worst]:+.4f} at {pub.label(worst)}"
    return Panel(title, draw, lines)


def _side_by_side_evs(
    pub: PubLayout,
    labels: Sequence[str],
    grids: dict[str, np.ndarray],
    names: tuple[str, str],
    lines: list[CheckLine],
) -> Panel:
    def draw(ax: Axes, _: float) -> None:
        positions = np.arange(len(labels))
        for offset, key, color in ((-0.2, "a", figures.MAIN_COLOR), (0.2, "b", "#1192e8")):
            ax.bar(
                positions + offset,
                grids[key][:, 0],
                width=0.4,
                yerr=grids[f"std_{key}"][:, 0],
                capsize=2,
                color=color,
                label=names[0 if key == "a" else 1].split(":")[0],
            )
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(positions, labels, rotation=45 if len(labels) > 6 else 0, fontsize=8)
        ax.set_xlabel("observable")
        ax.set_ylabel("expectation value")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)

    return Panel(f"{pub_title(pub)} — A and B", draw, lines)


def _tolerance_band(ax: Axes, tolerance: float | None, both_signs: bool) -> None:
    if tolerance is None:
        return
    for level in (tolerance, -tolerance) if both_signs else (tolerance,):
        ax.axhline(
            level,
            color=figures.FAILED_COLOR,
            linestyle="--",
            linewidth=1.2,
            label="tolerance" if level > 0 else None,
        )
