"""The domain table: a line-API widget that builds only the rows on screen.

A fleet has thousands of guests and a terminal shows forty. Each `show` diffs the new rows
against the last ones by value, re-sorts only when a sort value changed or rows came or
went, and redraws only the changed rows that are on screen. A row's cells are built the
first time it is drawn after it changed, so balloons moving out of view cost nothing but
the diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from balloon_tui.core.display import visible
from balloon_tui.core.model import DomainKey
from balloon_tui.tui import render
from balloon_tui.tui.render import RowView
from balloon_tui.tui.widgets.tablerows import (
    COLUMNS,
    PADDING,
    cells_for,
    column_widths,
    header_text,
    line_strip,
    line_text,
    name_width,
    proposing,
    sort_value,
    styled,
    table_columns,
)

SORTS: tuple[str, ...] = ("name", "actual", "used", "max")
HEADER = 1  # the header line above the rows


class _GuestMessage(Message):
    def __init__(self, table: DomainTable, key: DomainKey | None) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> DomainTable:
        return self.table


class DomainTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"domain-table--header", "domain-table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "choose", show=False),
        Binding("up", "cursor(-1)", "up", show=False),
        Binding("down", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home,ctrl+home", "first", "first", show=False),
        Binding("end,ctrl+end", "last", "last", show=False),
    ]

    class Selected(_GuestMessage):
        """The guest under the cursor changed (also when rows moved under it)."""

    class Chosen(_GuestMessage):
        """Enter, or a click on the row under the cursor: the operator wants this guest."""

    def __init__(self, *, show_host: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_host = show_host
        self.sort_column = "name"
        self.sort_reverse = False
        self.filter_text = ""
        self.host_filter: str | None = None  # a host URI: show only its guests
        self.selected: DomainKey | None = None
        self.cursor_row = 0
        # The selected guest vanished: nothing is selected (no cursor drawn) until the
        # operator moves the cursor; a poll never makes a neighbour the selected guest.
        self.lost = False
        self._rows: list[RowView] = []  # every guest last shown, before the filter
        self._views: dict[str, RowView] = {}  # the shown rows by row key
        self._order: list[str] = []  # row keys, top to bottom
        self._index: dict[str, int] = {}
        self._sorted_by: tuple[str, bool] | None = None
        self._row_total = 0  # rows last shown, before the filter
        self._proposing = False  # a row has a proposal: the prop column may be shown
        self._widths: dict[str, int] = {}
        self._columns: tuple[tuple[str, str, int], ...] = ()  # (key, label, width) on screen
        # Row key -> (the view it was built from, its line); dropped when the context moves.
        self._strips: dict[str, tuple[RowView, Strip]] = {}
        self._strip_context: tuple[object, ...] = ()

    def on_mount(self) -> None:
        self._layout()

    # -- public ------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def ordered_keys(self) -> list[DomainKey]:
        return [self._views[k].domain.key for k in self._order]

    @property
    def column_keys(self) -> list[str]:
        return [key for key, _label, _width in self._columns]

    def column_x(self, column: str) -> int:
        """Where a column starts, in cells from the table's left edge (unscrolled)."""
        x = 0
        for key, _label, width in self._columns:
            if key == column:
                return x
            x += width + 2 * PADDING
        raise KeyError(column)

    def show(self, rows: Sequence[RowView]) -> None:
        """Diff `rows` (all guests) into the table; filtered rows are left out."""
        self._rows = list(rows)
        needle = self.filter_text.casefold()
        host = self.host_filter
        if not needle and host is None:
            wanted = {r.key: r for r in rows}
        else:
            wanted = {
                r.key: r
                for r in rows
                # The name as shown too: a TAB in a name is drawn and typed as \x09.
                if (
                    needle in r.domain.name.casefold()
                    or needle in visible(r.domain.name).casefold()
                )
                and (host is None or r.domain.host_uri == host)
            }
        old = self._views
        reorder = (
            len(rows) != self._row_total
            or len(wanted) != len(old)
            or (self._sorted_by != (self.sort_column, self.sort_reverse))
        )
        self._row_total = len(rows)
        # A name or its ✖ mark changed, or the first proposal came or the last went: the
        # columns may change.
        now_proposing = proposing(rows)
        relabel = now_proposing != self._proposing
        self._proposing = now_proposing
        changed: list[str] = []
        views: dict[str, RowView] = {}
        column = self.sort_column
        for key, view in wanted.items():
            before = old.get(key)
            if before is None:
                reorder = True
            elif before is view or before == view:
                view = before  # keep the object the line cache knows
            else:
                changed.append(key)
                if not reorder and sort_value(before, column) != sort_value(view, column):
                    reorder = True
                if name_width(before) != name_width(view):
                    relabel = True
            views[key] = view
        self._views = views
        # Column widths follow the longest name: worked out again only when it can move.
        if (reorder or relabel or not self._columns) and self._layout():
            reorder = True
        if reorder:
            self._sort()
            self.refresh()
        else:
            self._refresh_indices(self._index[key] for key in changed)
        self._restore_cursor()

    def redisplay(self) -> None:
        """Apply a new filter or sort to the rows last shown."""
        self._sorted_by = None
        self.show(self._rows)

    def select_first(self) -> None:
        if self._order:
            self.move_cursor(row=0)

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on a row (clamped) and scroll it into view."""
        if not self._order:
            return
        if self.lost:
            self.lost = False  # the operator chose again
            self._refresh_indices((self.cursor_row,))
        row = max(0, min(row, len(self._order) - 1))
        if row != self.cursor_row:
            self._refresh_indices((self.cursor_row, row))
            self.cursor_row = row
        self._scroll_to_cursor()
        self._announce()

    def key_at_cursor(self) -> DomainKey | None:
        if not self._order or self.lost:
            return None
        return self._views[self._order[min(self.cursor_row, len(self._order) - 1)]].domain.key

    def get_row_index(self, row_key: str) -> int:
        return self._index[row_key]

    def get_cell(self, row_key: str, column: str) -> Text:
        """A cell as drawn now (for tests and screenshots)."""
        return cells_for(self._views[row_key], self._widths, self.show_host)[column]

    def get_cell_at(self, coordinate: tuple[int, int]) -> Text:
        row, column = coordinate
        return self.get_cell(self._order[row], self.column_keys[column])

    @property
    def sorts(self) -> tuple[str, ...]:
        """The sort keys; "prop" while its column is shown; with several hosts also "host",
        which groups guests by host."""
        sorts = (*SORTS, "prop") if "prop" in self._widths else SORTS
        return (*sorts, "host") if self.show_host else sorts

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by one of `sorts`; sizes largest first unless told otherwise."""
        if column not in self.sorts:
            raise ValueError(f"cannot sort by {column!r}; use one of {', '.join(self.sorts)}")
        self.sort_column = column
        self.sort_reverse = column not in ("name", "host") if reverse is None else reverse
        self.redisplay()

    def cycle_sort(self) -> str:
        sorts = self.sorts
        self.sort_by(sorts[(sorts.index(self.sort_column) + 1) % len(sorts)])
        return self.sort_column

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.redisplay()

    # -- keys and mouse --------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        if self.lost and step > 0:
            step -= 1  # the row now in the vanished guest's place is the next one down
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(1, self._rows_on_screen() - 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def action_choose(self) -> None:
        key = self.key_at_cursor()
        if key is not None:
            self.post_message(self.Chosen(self, key))

    def on_click(self, event: events.Click) -> None:
        scroll_x, scroll_y = self.scroll_offset
        if event.y < HEADER:
            self._header_clicked(event.x + scroll_x)
            return
        row = scroll_y + event.y - HEADER
        if 0 <= row < len(self._order):
            if row == self.cursor_row and not self.lost:
                self.action_choose()
            else:
                self.move_cursor(row=row)

    def _header_clicked(self, x: int) -> None:
        for key, _label, width in self._columns:
            if x < width + 2 * PADDING:
                if key == self.sort_column:
                    self.reverse_sort()
                elif key in self.sorts:
                    self.sort_by(key)
                return
            x -= width + 2 * PADDING

    # -- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y < HEADER:
            header = self.get_component_rich_style("domain-table--header")
            return styled(self._header_strip(), scroll_x, width, base + header, None)
        index = scroll_y + y - HEADER
        if index >= len(self._order):
            return Strip.blank(width, base)
        strip = self._row_strip(self._order[index])
        if index == self.cursor_row and not self.lost:
            cursor = self.get_component_rich_style("domain-table--cursor")
            post = Style(color=cursor.color) if cursor.color else None
            return styled(strip, scroll_x, width, base + cursor, post)
        return styled(strip, scroll_x, width, base, None)

    def _header_strip(self) -> Strip:
        header = header_text(self._columns, self.sort_column, self.sort_reverse)
        return line_strip(self.app.console, header)

    def _row_strip(self, key: str) -> Strip:
        context = (self.app.theme, self._columns)
        if context != self._strip_context:
            self._strips.clear()  # a new theme or new widths: every line is drawn afresh
            self._strip_context = context
        view = self._views[key]
        cached = self._strips.get(key)
        if cached is not None and cached[0] is view:
            return cached[1]
        cells = cells_for(view, self._widths, self.show_host)
        line = line_text([(cells[k], width) for k, _label, width in self._columns])
        strip = line_strip(self.app.console, line)
        self._strips[key] = (view, strip)
        return strip

    def _refresh_indices(self, indices: Iterable[int]) -> None:
        """Redraw these rows where they are on screen, and nothing else (not the scrollbar:
        it did not move)."""
        top = self.scroll_offset.y
        bottom = top + self._rows_on_screen()
        width = self.scrollable_content_region.width
        for i in indices:
            if top <= i < bottom:
                self.refresh(Region(0, HEADER + i - top, width, 1))

    def _rows_on_screen(self) -> int:
        return max(0, self.scrollable_content_region.height - HEADER)

    # -- internals -------------------------------------------------------------------------
    def _sort(self) -> None:
        column, reverse = self.sort_column, self.sort_reverse
        self._sorted_by = (column, reverse)
        views = self._views
        self._order = sorted(views, key=lambda k: sort_value(views[k], column), reverse=reverse)
        self._index = {key: i for i, key in enumerate(self._order)}
        size = Size(sum(w + 2 * PADDING for _k, _l, w in self._columns), len(self._order) + HEADER)
        if size != self.virtual_size:
            self.virtual_size = size

    def _vanished(self, key: DomainKey) -> bool:
        """Gone from every host, not merely hidden by a filter (the operator's doing)."""
        if render.row_key(*key) in self._index:
            return False
        return all(row.domain.key != key for row in self._rows)

    def _restore_cursor(self) -> None:
        if self.selected is not None and self._vanished(self.selected):
            self.lost = True
        if not self._order or self.lost:
            self.cursor_row = min(self.cursor_row, max(0, len(self._order) - 1))
            self._refresh_indices((self.cursor_row,))
            if self.selected is not None:
                self.selected = None
                self.post_message(self.Selected(self, None))
            return
        index = min(self.cursor_row, len(self._order) - 1)
        if self.selected is not None:
            index = self._index.get(render.row_key(*self.selected), index)
        if index != self.cursor_row:
            # Only when the selected guest moved: a tick must not scroll back a table the
            # operator scrolled away from the cursor with the wheel.
            self.move_cursor(row=index)
        else:
            self._announce()

    def _scroll_to_cursor(self) -> None:
        top, visible = self.scroll_offset.y, self._rows_on_screen()
        if visible <= 0:
            return
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _announce(self) -> None:
        key = self.key_at_cursor()
        if key != self.selected:
            self.selected = key
            self.post_message(self.Selected(self, key))

    def _layout(self) -> bool:
        """Give name, host and bar the width the fixed columns leave; True if changed."""
        total = (self.size.width or 80) - self.styles.scrollbar_size_vertical
        widths = column_widths(self._rows, total, self.show_host)
        if widths == self._widths and self._columns:
            return False
        self._widths = widths
        self._columns = table_columns(widths, self.show_host)
        if self.sort_column not in self.sorts:  # its column went: sorted by nothing on screen
            self.sort_column, self.sort_reverse = "name", False
        return True

    def on_resize(self) -> None:
        if self._layout():
            self._sorted_by = None
            self.show(self._rows)

    def on_focus(self) -> None:
        self._refresh_indices((self.cursor_row,))

    def on_blur(self) -> None:
        self._refresh_indices((self.cursor_row,))


__all__ = ["COLUMNS", "SORTS", "DomainTable"]
