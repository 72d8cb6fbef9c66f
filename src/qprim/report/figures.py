"""Drawing blocks shared by a run's picture and a comparison's: panels, heatmaps, curves
with error bars, bar charts, check marks, PNG files.

matplotlib is optional (`pip install 'qprim[plot]'`), imported lazily, and used through
its Agg canvas without pyplot, so no global backend state is touched.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qprim.errors import InputError
from qprim.files import write_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qprim.report.layout import Axis

DPI = 120
PANEL_SIZE = (5.6, 4.4)  # inches per panel
MAX_PANELS = 12  # panels in one figure; more are left out (the headline says so)
ANNOTATE_CELLS = 64  # heatmaps with at most this many cells print their values
MAX_TICKS = 10
MAIN_COLOR = "#6929c4"
OTHER_COLOR = "#a8a8a8"
FAILED_COLOR = "#da1e28"
PASSED_COLOR = "#198038"
BIT_ORDER = "clbit 0 rightmost"


@dataclass(frozen=True)
class CheckLine:
    """An `expect:` check as a panel says it."""

    passed: bool
    text: str


@dataclass(frozen=True)
class Panel:
    """One axes of a figure: a title and how to draw it. `top` is the highest value a
    probability histogram needs; histograms of one figure share the largest."""

    title: str
    draw: Callable[[Axes, float], None]
    checks: Sequence[CheckLine] = field(default_factory=list)
    top: float | None = None


def figure_with(panels: Sequence[Panel], headline: str, failed: bool) -> Figure:
    """A figure of `panels` (MAX_PANELS at most: the headline says how many are left out)."""
    figure_class = agg_figure_class()
    shown = list(panels[:MAX_PANELS])
    if len(panels) > len(shown):
        headline += f"\n({len(panels) - len(shown)} more panels not drawn)"
    count = max(1, len(shown))
    columns = 1 if count == 1 else 3 if count % 3 == 0 else 2
    rows = math.ceil(count / columns)
    figure = figure_class(
        figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows + 0.4), layout="constrained"
    )
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    tops = [panel.top for panel in shown if panel.top is not None]
    shared = max(tops, default=1.0)
    for ax, panel in zip(axes, shown, strict=False):
        panel.draw(ax, shared)
        mark_checks(ax, panel.title, panel.checks)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    figure.suptitle(headline, fontsize=12, color=FAILED_COLOR if failed else "black")
    return figure


def agg_figure_class() -> type[Figure]:
    """matplotlib's Figure drawing on its own Agg canvas; exit 2 without matplotlib."""
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


def write_figure(figure: Figure, path: Path) -> None:
    """The figure as a PNG, written atomically."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    write_atomic(path, buffer.getvalue())


def mark_checks(ax: Axes, title: str, checks: Sequence[CheckLine]) -> None:
    """The title, with a line per `expect:` check; a failed check turns it and the frame
    red, so a failure is seen at a glance."""
    lines = [title]
    for check in checks:
        lines += textwrap.wrap(("✓ " if check.passed else "✗ FAILED ") + check.text, 70)
    failed = any(not check.passed for check in checks)
    ax.set_title("\n".join(lines), fontsize=9, color=FAILED_COLOR if failed else "black")
    if failed:
        for spine in ax.spines.values():
            spine.set_edgecolor(FAILED_COLOR)
            spine.set_linewidth(2.5)


def palette(size: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["tab10" if size <= 10 else "tab20"](i % 20) for i in range(size)]


def axis_ticks(ax: Axes, which: str, axis: Axis) -> None:
    """Ticks at cell centres of a heatmap axis, labelled with the parameter's values."""
    step = max(1, math.ceil(axis.size / MAX_TICKS))
    positions = list(range(0, axis.size, step))
    labels = [f"{axis.values[i]:.3g}" for i in positions]
    if which == "x":
        ax.set_xticks(positions, labels, rotation=45 if axis.size > 6 else 0)
        ax.set_xlabel(axis.title)
    else:
        ax.set_yticks(positions, labels)
        ax.set_ylabel(axis.title)


def heatmap(
    ax: Axes,
    grid: np.ndarray,
    axes: tuple[Axis, Axis],
    label: str,
    limits: tuple[float, float] | None = None,
    cmap: str = "viridis",
    fmt: str = ".2f",
) -> Any:
    """`grid[i, j]` over two sweep axes (the first along x), with a labelled colorbar.

    Without `limits`, signed data gets a diverging map centred on 0, other data `cmap`;
    `limits` fixes the colour scale (probabilities: 0 to 1). Small grids print each
    cell's value."""
    from matplotlib.colors import Normalize

    finite = grid[np.isfinite(grid)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if limits is not None:
        low, high = limits
    elif low < 0 < high:
        bound = max(-low, high)
        low, high, cmap = -bound, bound, "RdBu_r"
    if high <= low:
        low, high = low - 0.5, high + 0.5
    norm = Normalize(low, high)
    image = ax.imshow(grid.T, origin="lower", aspect="auto", cmap=cmap, norm=norm)
    axis_ticks(ax, "x", axes[0])
    axis_ticks(ax, "y", axes[1])
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    colorbar.set_label(label)
    if grid.size <= ANNOTATE_CELLS:
        colors = image.cmap(norm(grid))
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                red, green, blue = colors[i, j][:3]
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                ax.text(
                    i,
                    j,
                    format(value, fmt),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    return image


def mark_cell(ax: Axes, cell: tuple[int, int]) -> None:
    """A red frame around one heatmap cell (where a check failed, or a tolerance broke)."""
    from matplotlib.patches import Rectangle

    frame = Rectangle((cell[0] - 0.5, cell[1] - 0.5), 1, 1, fill=False, linewidth=2.5)
    frame.set_edgecolor(FAILED_COLOR)
    ax.add_patch(frame)


def mark_extremes(ax: Axes, grid: np.ndarray, low: int, high: int) -> None:
    """▼ at the lowest and ▲ at the highest cell of a heatmap (flat indices)."""
    for flat, marker in ((low, "v"), (high, "^")):
        i, j = np.unravel_index(flat, grid.shape)
        ax.plot(i, j, marker=marker, markersize=9, markerfacecolor="white", color="black")


def line_axis_labels(ax: Axes, axis: Axis) -> None:
    """The x label of a curve; whole-number ticks when x is an index."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(axis.title)
    if axis.name is None:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def curve(
    ax: Axes, x: np.ndarray, y: np.ndarray, errors: np.ndarray, label: str | None, **style: Any
) -> None:
    """Points joined by lines, with error bars; NaN points are left out."""
    keep = np.isfinite(y)
    ax.errorbar(
        x[keep],
        y[keep],
        yerr=np.nan_to_num(errors[keep]),
        marker=style.pop("marker", "o"),
        markersize=4,
        capsize=3,
        linewidth=1.4,
        label=label,
        **style,
    )


def mark_point(ax: Axes, x: float) -> None:
    """A red band at one point of a curve's x axis (where a check failed)."""
    ax.axvline(x, color=FAILED_COLOR, alpha=0.25, linewidth=8, zorder=0)


def value_labels(ax: Axes, bars: Any, values: Sequence[float], fmt: str) -> None:
    """Value labels: inside tall bars (clear of reference lines and error bars), above
    short ones; turned upright above every bar when bars are too narrow for them."""
    texts = [format(value, fmt) for value in values]
    if len(values) > 8:
        ax.bar_label(bars, labels=texts, fontsize=7, padding=6, rotation=90)
        return
    tall = max((abs(value) for value in values), default=0) * 0.2
    inside = [text if abs(v) >= tall else "" for text, v in zip(texts, values, strict=True)]
    above = [text if abs(v) < tall else "" for text, v in zip(texts, values, strict=True)]
    ax.bar_label(bars, labels=inside, label_type="center", color="white", fontsize=8)
    ax.bar_label(bars, labels=above, fontsize=8, padding=4)


def shot_noise(probabilities: np.ndarray, shots: np.ndarray | int) -> np.ndarray:
    """The standard error of a measured probability: sqrt(p (1 - p) / shots)."""
    return np.sqrt(probabilities * (1 - probabilities) / np.maximum(shots, 1))


def wrapped(label: str, width: int = 48, lines: int = 2) -> str:
    """A long label over at most `lines` lines, cut with `…` beyond."""
    parts = textwrap.wrap(label, width)
    if len(parts) > lines:
        parts = [*parts[: lines - 1], parts[lines - 1][: width - 1] + "…"]
    return "\n".join(parts)
