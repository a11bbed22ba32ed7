"""One table row: its cells (Rich Text) and its line of segments, for the domain table.

Pure functions of a RowView and the column widths; the table caches what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from balloon_tui.core.display import shown, visible
from balloon_tui.tui import render
from balloon_tui.tui.render import RowView

PROP_WIDTH = 7  # ↓1.50G, !↑1.50G, ! stuck
# (key, label, fixed width or None); "name", "host" and "bar" are sized by the table's layout.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "name", None),
    ("host", "host", None),
    ("state", "state", 10),
    ("max", "max", 6),
    ("target", "target", 7),
    ("prop", "prop", PROP_WIDTH),  # the regulator's proposal: see OPTIONAL
    ("actual", "actual", 7),
    ("used", "used", 6),
    ("bar", "memory", None),
    ("age", "age", 5),
)
PADDING = 1  # one blank cell each side of every column
RIGHT_ALIGNED = frozenset({"max", "target", "prop", "actual", "used", "age"})  # labels too
NAME_MIN, NAME_MAX = 8, 32
HOST_MAX = 24
BAR_MIN, BAR_MAX = 6, 40
NAME_READABLE, BAR_READABLE = 16, 12  # what a tight table gives each before the other grows
# The regulator's column: shown when a row has a proposal and name and bar keep a readable
# name and a readable bar next to it (not at 80 columns: there the panel and the
# status line say what the regulator proposes).
OPTIONAL = frozenset({"prop"})


def column_widths(rows: Sequence[RowView], total: int, show_host: bool) -> dict[str, int]:
    """Give name, host and bar the width the fixed columns leave out of `total`."""
    pad = 2 * PADDING
    marks = 2 if any(r.domain.error or r.failed for r in rows) else 0
    name_need = max(
        NAME_MIN,
        min(
            NAME_MAX,
            max((name_cells(r) + marks for r in rows), default=NAME_MIN),
        ),
    )
    host_need = 0
    if show_host:
        host_need = min(
            HOST_MAX,
            max((cell_len(visible(uri)) for uri in {r.domain.host_uri for r in rows}), default=4),
        )
    fixed = sum(w + pad for k, _l, w in COLUMNS if w is not None and k not in OPTIONAL)
    fixed += 2 * pad + (host_need + pad if show_host else 0)
    optional = {}
    if proposing(rows):
        width = PROP_WIDTH
        if total - fixed - width - pad >= min(name_need, NAME_READABLE) + BAR_READABLE:
            optional["prop"] = width
            fixed += width + pad
    rest = max(0, total - fixed)
    # A long name grows past NAME_READABLE only once the bar has BAR_READABLE cells.
    name = max(NAME_MIN, min(name_need, max(min(name_need, NAME_READABLE), rest - BAR_READABLE)))
    bar = max(BAR_MIN, min(BAR_MAX, rest - name))
    widths = {"name": name, "bar": bar, **optional}
    if show_host:
        widths["host"] = max(4, host_need)
    return widths


def table_columns(widths: dict[str, int], show_host: bool) -> tuple[tuple[str, str, int], ...]:
    """(key, label, width) of the columns on screen, left to right, for `column_widths`."""
    return tuple(
        (key, label, widths[key] if width is None or key in OPTIONAL else width)
        for key, label, width in COLUMNS
        if (key != "host" or show_host) and (key not in OPTIONAL or key in widths)
    )


def cells_for(view: RowView, widths: dict[str, int], show_host: bool) -> dict[str, Text]:
    """The cells of one row, by column key; a disconnected host's row is greyed."""
    domain = view.domain
    cells: dict[str, Text] = {
        "name": render.name_text(view, widths.get("name", NAME_MAX)),
    }
    if show_host:
        cells["host"] = Text(shown(domain.host_uri, widths.get("host", HOST_MAX)))
    cells["state"] = render.state_text(domain.state)
    cells["max"] = render.size_text(domain.maximum_kib)
    cells["target"] = render.target_text(view)
    if "prop" in widths:
        cells["prop"] = render.proposal_text(view)
    cells["actual"] = render.size_text(domain.actual_kib)
    cells["used"] = render.used_text(view)
    cells["bar"] = render.row_bar(view, widths.get("bar", BAR_MIN))
    cells["age"] = render.age_text(view)
    return render.grey_offline(cells) if view.offline else cells


def name_cells(view: RowView) -> int:
    """The cells of a row's name and its ⊞ (a ✖ is counted for every row at once)."""
    cells = render.name_cells(view.domain.name)
    return cells + len(render.VIRTIO_MEM_SUFFIX) if view.domain.memory_devices else cells


def name_width(view: RowView) -> tuple[int, bool]:
    """What the name column's width depends on: the name with its ⊞, and whether it
    carries a ✖."""
    return name_cells(view), bool(view.domain.error or view.failed)


def sort_value(view: RowView, column: str) -> tuple[Any, ...]:
    """What a row sorts by under `column`; ties go by name."""
    domain = view.domain
    name = (domain.name.casefold(), domain.host_uri)
    if column == "name":
        return name
    if column == "host":
        return (domain.host_uri, name)
    if column == "actual":
        return (domain.actual_kib, name)
    if column == "used":
        return (domain.used_kib if domain.used_kib is not None else -1, name)
    if column == "prop":
        return (*proposal_rank(view), name)
    return (domain.maximum_kib, name)


def proposing(rows: Sequence[RowView]) -> bool:
    """Some guest has something to propose (a target, or a balloon not responding): a
    plan where every guest merely says why not (no stats, paused) needs no column."""
    return any(
        (p := r.proposal) is not None and (p.target_kib is not None or p.not_responding)
        for r in rows
    )


def proposal_rank(view: RowView) -> tuple[int, int]:
    """Largest first: the biggest moves proposed, then guests not responding, then those
    with a reason but no target, then those without a plan."""
    proposal = view.proposal
    if proposal is None:
        return (-1, 0)
    if proposal.target_kib is not None:
        return (2, abs(proposal.target_kib - view.domain.actual_kib))
    return (1 if proposal.not_responding else 0, 0)


def line_text(cells: Sequence[tuple[Text, int]]) -> Text:
    """One line: every cell cut or padded to its column's width, padded either side."""
    line = Text(no_wrap=True, end="")
    pad = " " * PADDING
    for cell, width in cells:
        cell = cell.copy()
        cell.overflow = "ellipsis"
        cell.no_wrap = True
        cell.align(cell.justify if cell.justify in ("left", "right", "center") else "left", width)
        line.append(pad)
        line.append_text(cell)
        line.append(pad)
    return line


def header_text(columns: Sequence[tuple[str, str, int]], sort_column: str, reverse: bool) -> Text:
    """The header line: the labels, the sort column's bold with ▲ (or ▼ reversed)."""
    cells = []
    for key, label, width in columns:
        justify: JustifyMethod = "right" if key in RIGHT_ALIGNED else "left"
        if key == sort_column:
            arrow = "▼" if reverse else "▲"
            text = Text(label + arrow, style="bold", justify=justify)
        else:
            text = Text(label, justify=justify)
        cells.append((text, width))
    return line_text(cells)


def line_strip(console: Console, line: Text) -> Strip:
    """The line's segments, drawn now: the app's console has the theme's styles (ThemedApp
    sets them with the CSS), and the table keeps a strip until its row, its widths or the
    theme change. Rich renders a line in half the time of `render.themed` Content."""
    return Strip(line.render(console, end=""), line.cell_len)


def styled(strip: Strip, x: int, width: int, pre: Style, post: Style | None) -> Strip:
    """The visible columns [x, x + width) of a row, padded to the width, with the row's
    style under (pre) and over (post) the cells' own."""
    visible = strip.crop_extend(x, x + width, None)
    if post is None:
        return visible.apply_style(pre)
    return Strip(Segment.apply_style(visible, pre, post), width)
