"""Terminal pictures of a saved run: counts as horizontal bars, `expect:` checks as a table.

Why a separate module: `qprim show` draws these next to `render.show_run`'s tables, and
the numbers still come from `qprim.report.facts` and the run record, never computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from qprim.report import facts
from qprim.report.facts import point_label

if TYPE_CHECKING:
    from qiskit.primitives import PrimitiveResult

BAR_WIDTH = 30
_EIGHTHS = " ▏▎▍▌▋▊▉"  # partial blocks: a bar's end is drawn to 1/8 of a cell


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A share in [0, 1] as block characters, `width` cells for 100%."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def counts_bars(result: PrimitiveResult) -> Table:
    """Sampler: the top outcomes of each PUB (register, sweep point) as horizontal bars."""
    table = Table(
        title="counts (share of shots)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for header in ("pub", "register", "point", "outcome"):
        table.add_column(header, no_wrap=True)
    table.add_column("", no_wrap=True, overflow="crop", min_width=8)
    for header in ("share", "count", "of shots"):
        table.add_column(header, justify="right", no_wrap=True)
    previous = None
    for row in facts.top_counts(result):
        group = (row["pub"], row["register"], tuple(row["point"]))
        if previous is not None and group != previous:
            table.add_section()
        previous = group
        for rank, (outcome, count, share) in enumerate(row["top"]):
            first = rank == 0
            table.add_row(
                str(row["pub"]) if first else "",
                row["register"] if first else "",
                point_label(row["point"]) if first else "",
                outcome,
                Text(bar(share), style="cyan"),
                f"{share:.1%}",
                str(count),
                str(row["shots"]) if first else "",
            )
    return table
