"""The domain table: keyed rows updated in place, sorted by value, filtered by name.

Never `clear()`ed: each `show` adds, updates (only the cells that changed) and removes rows
by key, sorts once, and puts the cursor back on the selected guest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from balloon_tui.tui import render
from balloon_tui.tui.render import RowView, sortable

DomainKey = tuple[str, str]

# (key, label, fixed width or None); "name", "host" and "bar" are sized by `_layout`.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("name", "name", None),
    ("host", "host", None),
    ("state", "state", 10),
    ("max", "max", 6),
    ("target", "target", 7),
    ("actual", "actual", 7),
    ("used", "used", 6),
    ("bar", "memory", None),
    ("age", "age", 5),
)
SORTS: tuple[str, ...] = ("name", "actual", "used", "max")
BAR_MIN, BAR_MAX = 6, 40
NAME_MIN, NAME_MAX = 8, 32
HOST_MAX = 24


class DomainTable(DataTable[Text]):
    class Selected(Message):
        """The guest under the cursor changed (also when rows moved under it)."""

        def __init__(self, table: DomainTable, key: DomainKey | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> DomainTable:
            return self.table

    def __init__(self, *, show_host: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.show_host = show_host
        self.sort_column = "name"
        self.sort_reverse = False
        self.filter_text = ""
        self.host_filter: str | None = None  # a host URI: show only its guests
        self.selected: DomainKey | None = None
        self._keys: dict[str, DomainKey] = {}
        self._views: dict[str, RowView] = {}
        self._cells: dict[str, dict[str, Any]] = {}
        self._widths: dict[str, int] = {}
        self._rows: list[RowView] = []
        self._sorted_by: tuple[str, bool] | None = None
        self._quiet_rows: set[str] = set()
        # Row render cache: a row's lines are reused while its version and context hold.
        self._row_versions: dict[str, int] = {}
        self._widths_version = 0
        self._rendered_rows: dict[tuple[RowKey, int], tuple[tuple[Any, ...], Any]] = {}
        # (row key, column key) -> (cell value, render context, rendered lines); see _render_cell.
        self._rendered: dict[tuple[RowKey, ColumnKey], tuple[Any, tuple[Any, ...], Any]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            if key == "host" and not self.show_host:
                continue
            self.add_column(self._label(key, label), width=width or NAME_MIN, key=key)
        self._layout()

    # -- public ------------------------------------------------------------------------------
    def show(self, rows: Sequence[RowView]) -> None:
        """Diff `rows` (all guests) into the table; filtered rows are left out."""
        self._rows = list(rows)
        needle = self.filter_text.casefold()
        host = self.host_filter
        wanted = {
            r.key: r
            for r in rows
            if needle in r.domain.name.casefold() and (host is None or r.domain.host_uri == host)
        }
        widths_changed = self._layout()
        reorder = False
        gone = [k for k in self._keys if k not in wanted]
        for key in gone:
            self.remove_row(key)
            del self._keys[key]
            self._views.pop(key, None)
            self._cells.pop(key, None)
        if gone:
            self._rendered = {k: v for k, v in self._rendered.items() if k[0].value in self._keys}
            self._rendered_rows = {
                k: v for k, v in self._rendered_rows.items() if k[0].value in self._keys
            }
            for key in gone:
                self._row_versions.pop(key, None)
        for key, view in wanted.items():
            if key not in self._keys:
                cells = self._cells_for(view)
                self.add_row(*cells.values(), key=key)
                self._keys[key] = view.domain.key
                self._cells[key] = cells
                reorder = True
            elif widths_changed or self._views.get(key) != view:
                reorder = self._update(key, self._cells_for(view), widths_changed) or reorder
            self._views[key] = view
        changed, self._quiet_rows = self._quiet_rows, set()
        # Sorting re-indexes every row: only when the order can have changed.
        if reorder or self._sorted_by != (self.sort_column, self.sort_reverse):
            self._sort()
        elif changed:
            self._update_count += 1
            # Only the changed rows, and only where they are on screen: a tick that moves
            # balloons out of view draws nothing.
            # Every row is one line high, so a row's place is its index (DataTable's own
            # refresh_row sums the heights of all rows above it: O(rows) per row).
            top = self.header_height if self.show_header else 0
            window = self.window_region
            width = self.virtual_size.width
            for key in changed:
                if key in self._keys:
                    region = Region(0, top + self.get_row_index(key), width, 1)
                    if window.overlaps(region):
                        self.refresh(region.translate(-self.scroll_offset))
        self._restore_cursor()

    def redisplay(self) -> None:
        """Apply a new filter or sort to the rows last shown."""
        self.show(self._rows)

    def select_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)
            self._announce()

    def select_key(self, key: DomainKey) -> None:
        self.selected = key
        self._restore_cursor()

    @property
    def sorts(self) -> tuple[str, ...]:
        """The sort keys; with several hosts also "host", which groups guests by host."""
        return (*SORTS, "host") if self.show_host else SORTS

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by one of `sorts`; sizes largest first unless told otherwise."""
        if column not in self.sorts:
            raise ValueError(f"cannot sort by {column!r}; use one of {', '.join(self.sorts)}")
        self.sort_column = column
        self.sort_reverse = column not in ("name", "host") if reverse is None else reverse
        self._relabel()
        self.redisplay()

    def cycle_sort(self) -> str:
        sorts = self.sorts
        self.sort_by(sorts[(sorts.index(self.sort_column) + 1) % len(sorts)])
        return self.sort_column

    def reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._relabel()
        self.redisplay()

    def key_at_cursor(self) -> DomainKey | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self._keys.get(str(row_key.value))

    # -- internals -------------------------------------------------------------------------
    def _label(self, key: str, label: str) -> Text:
        if key != self.sort_column:
            return Text(label)
        return Text(label + ("▼" if self.sort_reverse else "▲"), style="bold")

    def _relabel(self) -> None:
        for key, label, _width in COLUMNS:
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.label = self._label(key, label)
        self.refresh()

    def _cells_for(self, view: RowView) -> dict[str, Any]:
        domain = view.domain
        w = self._widths
        name = render.middle_truncate(render.name_text(view), w.get("name", NAME_MAX))
        cells: dict[str, Any] = {
            "name": sortable(name, (domain.name.casefold(), domain.host_uri)),
        }
        if self.show_host:
            host = Text(domain.host_uri)
            host.truncate(w.get("host", HOST_MAX), overflow="ellipsis")
            cells["host"] = sortable(host, domain.host_uri)
        cells.update({
            "state": render.state_text(domain.state),
            "max": sortable(render.size_text(domain.maximum_kib), domain.maximum_kib),
            "target": render.target_text(view),
            "actual": sortable(render.size_text(domain.actual_kib), domain.actual_kib),
            "used": sortable(render.used_text(view), domain.used_kib or -1),
            "bar": render.row_bar(view, w.get("bar", BAR_MIN)),
            "age": render.age_text(view),
        })
        return render.grey_offline(cells) if view.offline else cells

    def _update(self, key: str, cells: dict[str, Any], resized: bool = False) -> bool:
        """Update the cells that changed; True when a value the rows are sorted by changed."""
        old = self._cells[key]
        reorder = False
        for column, value in cells.items():
            before = old.get(column)
            if resized or before is None or _signature(before) != _signature(value):
                if column in (self.sort_column, "name") and getattr(
                    before, "sort_value", None
                ) != getattr(value, "sort_value", None):
                    reorder = True
                self._row_versions[key] = self._row_versions.get(key, 0) + 1
                self.set_cell(key, column, value, resized)
        self._cells[key] = cells
        return reorder

    def set_cell(self, key: str, column: str, value: Any, resized: bool = False) -> None:
        """Change one cell. After `_layout` the table must re-measure (update_width);
        otherwise this is what update_cell does without a refresh per cell: `show`
        refreshes once for all of them."""
        if resized:
            self.update_cell(key, column, value, update_width=True)
            return
        self._data[RowKey(key)][ColumnKey(column)] = value
        self._quiet_rows.add(key)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Any,
        cursor_location: Any,
        hover_location: Any,
    ) -> Any:
        """Keep the rendered lines of rows that did not change (DataTable drops them all)."""
        row_index = self._row_locations.get(row_key)
        if row_index is None or row_index < 0:
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        context = (
            line_no, row_index, base_style,
            cursor_location.row == row_index, cursor_location.column,
            hover_location.row == row_index, hover_location.column,
            self.cursor_type, self.show_cursor, self._show_hover_cursor,
            self._pseudo_class_state, self.app.theme, self._widths_version,
            self._row_versions.get(str(row_key.value), 0),
        )
        cached = self._rendered_rows.get((row_key, line_no))
        if cached is not None and cached[0] == context:
            return cached[1]
        lines = super()._render_line_in_row(
            row_key, line_no, base_style, cursor_location, hover_location
        )
        self._rendered_rows[(row_key, line_no)] = (context, lines)
        return lines

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """DataTable forgets every rendered cell on any update; keep those that did not change.

        A tick that moves a few balloons would otherwise re-render every visible cell.
        The cache holds the cell value itself, so an identical object means an unchanged cell.
        """
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data.get(row_key, {}).get(column_key)
        context = (
            row_index, base_style, width, cursor, hover, self._show_hover_cursor,
            self._pseudo_class_state, self.app.theme,
        )
        cached = self._rendered.get((row_key, column_key))
        if cached is not None and cached[0] is value and cached[1] == context:
            return cached[2]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._rendered[(row_key, column_key)] = (value, context, lines)
        return lines

    def _sort(self) -> None:
        column = self.sort_column
        self._sorted_by = (column, self.sort_reverse)

        def by_value(cells: tuple[Any, Any]) -> Any:
            primary, name = cells
            return (getattr(primary, "sort_value", 0), getattr(name, "sort_value", ""))

        if column == "name":
            self.sort("name", key=lambda cell: cell.sort_value, reverse=self.sort_reverse)
        else:
            self.sort(column, "name", key=by_value, reverse=self.sort_reverse)

    def _restore_cursor(self) -> None:
        if not self.row_count:
            if self.selected is not None:
                self.selected = None
                self.post_message(self.Selected(self, None))
            return
        index = None
        if self.selected is not None:
            wanted = _row_key(self.selected)
            if wanted in self._keys:
                index = self.get_row_index(wanted)
        if index is not None and index != self.cursor_row:
            self.move_cursor(row=index)
        self._announce()

    def _announce(self) -> None:
        key = self.key_at_cursor()
        if key != self.selected:
            self.selected = key
            self.post_message(self.Selected(self, key))

    def _layout(self) -> bool:
        """Give name, host and bar the width the fixed columns leave; True if changed."""
        total = (self.size.width or 80) - self.styles.scrollbar_size_vertical
        pad = 2 * self.cell_padding
        marks = 2 if any(r.domain.error or r.failed for r in self._rows) else 0
        names = [len(r.domain.name) + marks for r in self._rows] or [NAME_MIN]
        name_need = max(NAME_MIN, min(NAME_MAX, max(names)))
        host_need = 0
        if self.show_host:
            host_need = min(HOST_MAX, max((len(r.domain.host_uri) for r in self._rows),
                                          default=4))
        fixed = sum(w + pad for k, _l, w in COLUMNS if w is not None)
        fixed += 2 * pad + (host_need + pad if self.show_host else 0)
        rest = max(0, total - fixed)
        bar = max(BAR_MIN, min(BAR_MAX, rest - name_need))
        name = max(NAME_MIN, min(name_need, rest - bar))
        widths = {"name": name, "bar": bar}
        if self.show_host:
            widths["host"] = max(4, host_need)
        if widths == self._widths:
            return False
        self._widths = widths
        self._widths_version += 1
        for key, width in widths.items():
            column = self.columns.get(ColumnKey(key))
            if column is not None:
                column.width = width
                column.auto_width = False
        return True

    def on_resize(self) -> None:
        if self._rows and self._layout():
            self.redisplay_all()

    def redisplay_all(self) -> None:
        for key, view in list(self._views.items()):
            self._update(key, self._cells_for(view), resized=True)
        self.refresh(layout=True)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = self._keys.get(str(event.row_key.value))
        if key is not None and key != self.selected:
            self.selected = key
            self.post_message(self.Selected(self, key))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if column == self.sort_column:
            self.reverse_sort()
        elif column in self.sorts:
            self.sort_by(column)


def _row_key(key: DomainKey) -> str:
    return render.row_key(*key)


def _signature(cell: Any) -> Any:
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), tuple(cell.spans), getattr(cell, "sort_value", None))
    return cell


__all__ = ["COLUMNS", "SORTS", "DomainTable", "RowKey"]
