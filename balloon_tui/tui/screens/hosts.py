"""`h`: every host with its memory sums and state; choose one to show only its guests."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from balloon_tui.core.display import fit_cells, shown
from balloon_tui.core.hostwords import cache_kib, host_memory_lines, ksm_saved_kib
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.summary import MemorySummary, summarize
from balloon_tui.tui.render import short_size
from balloon_tui.tui.widgets.statusbar import STATUS_SIGNS, host_labels

ALL_HOSTS = "*"

# Every column fits at 120 terminal columns: a long host name keeps both ends in this many
# cells, and the state is one word (the status bar has the whole story, "— retrying").
HOST_CELLS = 22

COLUMNS = (
    "host",
    "state",
    "poll",
    "guests",
    "RAM",
    "free",
    "max",
    "target",
    "actual",
    "over",
    "reclaim",
    "cache",
    "ksm",
)
UNKNOWN_CELL = "?"  # the driver does not say (never 0: that would be a claim)


def _known_sum(values: list[int | None]) -> int | None:
    """Unknown on any host makes the sum unknown: a partial sum would mislead."""
    return None if not values or None in values else sum(v for v in values if v is not None)


def _size_or_unknown(kib: int | None) -> str:
    return UNKNOWN_CELL if kib is None else short_size(kib)


def _row(
    label: Text, state: Text, poll: str, summary: MemorySummary, hosts: list[HostSnapshot]
) -> list[Text | str]:
    over = f"{summary.overcommit:.2f}x" if summary.overcommit is not None else "–"
    return [
        label,
        state,
        poll,
        f"{summary.guests_running}/{summary.guests}",
        short_size(summary.memory_total_kib),
        short_size(summary.memory_free_kib),
        short_size(summary.sum_maximum_kib),
        short_size(summary.sum_target_kib),
        short_size(summary.sum_actual_kib),
        over,
        short_size(summary.reclaimable_kib),
        _size_or_unknown(_known_sum([cache_kib(h.node_memory) for h in hosts])),
        _size_or_unknown(_known_sum([ksm_saved_kib(h.ksm) for h in hosts])),
    ]


def host_rows(hosts: list[HostSnapshot]) -> list[tuple[str, list[Text | str]]]:
    """(key, cells): the fleet total first (key ALL_HOSTS), then one row per host."""
    rows: list[tuple[str, list[Text | str]]] = [
        (ALL_HOSTS, _row(Text("all hosts", style="bold"), Text(""), "", summarize(hosts), hosts))
    ]
    labels = host_labels(hosts)
    for host in hosts:
        symbol, style = STATUS_SIGNS[host.status]
        state = Text(f"{symbol} {host.status.value}", style=style)
        poll = (
            f"{host.fetch_seconds * 1000:.0f} ms"
            if host.fetch_seconds is not None and host.status is not HostStatus.DISCONNECTED
            else "–"
        )
        label = Text(fit_cells(labels[host.uri], HOST_CELLS))
        rows.append((host.uri, _row(label, state, poll, summarize([host]), [host])))
    return rows


def memory_text(hosts: list[HostSnapshot], key: str | None) -> Text:
    host = next((h for h in hosts if h.uri == key), None)
    if host is None:
        return Text("cache: host buffers + page cache · ksm: memory KSM saves (? unknown)")
    lines = host_memory_lines(host)
    return Text(f"{shown(host.label, HOST_CELLS * 2)}\n{lines[0]}\n{lines[1]}")


class HostsScreen(ModalScreen[str | None]):
    """Returns the chosen host's URI, ALL_HOSTS for every host, or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "close"),
        Binding("h", "dismiss(None)", "close", show=False),
    ]
    DEFAULT_CSS = """
    HostsScreen { align: center middle; }
    HostsScreen > Vertical {
        width: 100%; max-width: 130; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HostsScreen DataTable { height: auto; max-height: 30; }
    HostsScreen #hosts-hint, HostsScreen #hosts-memory { color: $text-muted; }
    """

    def __init__(self, hosts: list[HostSnapshot], current: str | None) -> None:
        super().__init__()
        self.hosts = hosts
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Hosts", style="bold"))
            yield DataTable(cursor_type="row", id="hosts-table")
            yield Static("", id="hosts-memory")
            yield Static(
                "enter: show only this host's guests · first row: all hosts · esc: close",
                id="hosts-hint",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        for key, cells in host_rows(self.hosts):
            table.add_row(*cells, key=key)
        if self.current is not None and self.current in table.rows:
            table.move_cursor(row=table.get_row_index(self.current))
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Under the table: the highlighted host's own memory and KSM, value by value."""
        event.stop()
        self.query_one("#hosts-memory", Static).update(memory_text(self.hosts, event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(str(event.row_key.value))
