"""Terminal pictures of a saved run: counts as horizontal bars.

Why a separate module: block-character drawing is its own craft; `qprim show` prints
these under `render.show_run`'s counts table, from the same `qprim.report.facts` rows.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from qprim.report import facts

BAR_WIDTH = 30
_EIGHTHS = " ▏▎▍▌▋▊▉"  # partial blocks: a bar's end is drawn to 1/8 of a cell


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A share in [0, 1] as block characters, `width` cells for 100%."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def counts_bars(rows: facts.Rows[facts.CountsRow]) -> Table:
    """Sampler: the top outcomes of each PUB (sweep point, register) as horizontal bars."""
    table = Table(
        title="counts (share of shots)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    point = ["point"] if rows.swept else []
    for header in ("pub", *point, "register", "outcome"):
        table.add_column(header, no_wrap=True)
    table.add_column("", no_wrap=True, overflow="crop", min_width=8)
    for header in ("share", "count", "of shots"):
        table.add_column(header, justify="right", no_wrap=True)
    previous = None
    for row in rows.rows:
        group = (row.pub, row.register, row.point)
        if previous is not None and group != previous:
            table.add_section()
        previous = group
        for rank, (outcome, count, share) in enumerate(row.top):
            first = rank == 0
            where = [row.point if first else ""] if rows.swept else []
            table.add_row(
                str(row.pub) if first else "",
                *where,
                row.register if first else "",
                outcome,
                Text(bar(share), style="cyan"),
                f"{share:.1%}",
                str(count),
                str(row.shots) if first else "",
            )
    return table
