"""The top lines: one per host (status, memory) and the apply mode / read-only badges."""

from __future__ import annotations

import posixpath

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.summary import MemorySummary, summarize
from balloon_tui.core.writes import ApplyMode
from balloon_tui.tui import render
from balloon_tui.tui.render import short_size
from balloon_tui.tui.widgets.quiet import update_if_changed

FETCH_SHOWN_SECONDS = 0.1  # the status bar shows a host's poll time from this on

STATUS_SIGNS = {
    HostStatus.OK: ("●", render.STYLE_OK),
    HostStatus.SLOW: ("◐", render.STYLE_CAUTION),
    HostStatus.CONNECTING: ("○", render.STYLE_OFF),
    HostStatus.DISCONNECTED: ("✖", render.STYLE_ERROR),
    HostStatus.SKIPPED: ("✖", render.STYLE_ERROR),
}


def host_name(host: HostSnapshot) -> str:
    """A short, stable name: a test-driver file by its file name, else the hostname."""
    if host.uri.startswith("test://"):
        path = host.uri[len("test://"):]
        return "test:" + (posixpath.basename(path) or "default")
    return host.hostname or host.uri


def host_text(host: HostSnapshot, compact: bool = False) -> Text:
    symbol, style = STATUS_SIGNS[host.status]
    text = Text.assemble((f"{symbol} ", style), (host_name(host), "bold"), " ",
                         (host.status.word, style))
    # The poll time only when it says something (the hosts screen, h, always has it): a few
    # ms that change on every tick are noise, and make recordings of the demo flicker.
    if (host.fetch_seconds is not None and host.fetch_seconds >= FETCH_SHOWN_SECONDS
            and host.status is not HostStatus.DISCONNECTED):
        text.append(f" {host.fetch_seconds * 1000:.0f}ms", render.STYLE_DIM)
    if host.domains or host.memory_total_kib is not None:  # nothing known yet: no zeros
        text.append("  ")
        text.append_text(summary_text(summarize([host]), compact))
    if host.error:
        text.append(f"  {render.MARK_ERROR} {host.error}", render.STYLE_ERROR)
    return text


def summary_text(summary: MemorySummary, compact: bool = False) -> Text:
    """RAM, free, what the guests may grow to, asked for, have; overcommit; reclaimable.

    Compact (narrow terminals): RAM, free, actual and overcommit; `h` shows the rest.
    """
    parts: list[tuple[str, str]] = [
        ("RAM ", short_size(summary.memory_total_kib)),
        ("free ", short_size(summary.memory_free_kib)),
    ]
    if not compact:
        parts.append(("max ", short_size(summary.sum_maximum_kib)))
        if summary.sum_target_kib != summary.sum_actual_kib:
            parts.append(("target ", short_size(summary.sum_target_kib)))
    parts.append(("actual ", short_size(summary.sum_actual_kib)))
    if summary.overcommit is not None:
        parts.append(("over ", f"{summary.overcommit:.2f}x"))
    if not compact:
        parts.append(("reclaim ", short_size(summary.reclaimable_kib)))
    else:
        parts = [(label, value) for label, value in parts if value != short_size(None)]
    text = Text()
    for index, (label, value) in enumerate(parts):
        if index:
            text.append(" · ", render.STYLE_DIM)
        text.append(label, render.STYLE_DIM)
        text.append(value)
    return text


def fleet_text(hosts: list[HostSnapshot], compact: bool = False) -> Text:
    """One line for many hosts: how many answer, the totals, and which ones do not."""
    summary = summarize(hosts)
    down = [h for h in hosts if h.status is HostStatus.DISCONNECTED]
    slow = [h for h in hosts if h.status is HostStatus.SLOW]
    text = Text.assemble(("Σ ", "bold"), (f"{summary.hosts_ok}/{summary.hosts} hosts", "bold"),
                         f" {summary.guests_running}/{summary.guests} guests  ")
    text.append_text(summary_text(summary, compact))
    for label, group, style in (("down", down, render.STYLE_ERROR),
                                ("slow", slow, render.STYLE_WARN)):
        if group:
            names = ", ".join(host_name(h) for h in group[:3])
            more = f" +{len(group) - 3}" if len(group) > 3 else ""
            text.append(f"  {STATUS_SIGNS[group[0].status][0]} {label}: {names}{more}", style)
    return text


# Beyond this many hosts the bar shows the totals only; `h` lists every host.
HOST_LINES_MAX = 3
# Narrower than this, host lines keep only RAM, free, actual and overcommit.
COMPACT_BELOW = 120


def mode_text(mode: ApplyMode) -> Text:
    return Text.assemble(("mode ", render.STYLE_DIM), (mode.label, "bold"), (" (p)", "dim"))


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar { height: auto; }
    StatusBar > #hosts { width: 1fr; height: auto; }
    StatusBar > #mode { width: auto; padding: 0 1; }
    StatusBar > #readonly {
        width: auto; padding: 0 1; display: none;
        background: $warning; color: $background; text-style: bold;
    }
    StatusBar.-readonly > #readonly { display: block; }
    """

    _hosts: list[HostSnapshot] | None = None

    def on_resize(self) -> None:
        if self._hosts is not None:
            self.show_hosts(self._hosts)

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…", style=render.STYLE_DIM), id="hosts")
        yield Static(mode_text(ApplyMode.LIVE), id="mode")
        yield Static("READ-ONLY", id="readonly")

    def show_hosts(self, hosts: list[HostSnapshot]) -> None:
        self._hosts = hosts
        compact = self.size.width < COMPACT_BELOW
        if len(hosts) > HOST_LINES_MAX:
            lines = [fleet_text(hosts, compact)]
        else:
            lines = [host_text(h, compact) for h in hosts]
            if len(hosts) > 1:
                lines.append(fleet_text(hosts, compact))
        content = Text("\n").join(lines) if lines else Text("connecting…", style="dim")
        update_if_changed(self.query_one("#hosts", Static), content)

    def show_mode(self, mode: ApplyMode, readonly: bool) -> None:
        update_if_changed(self.query_one("#mode", Static), mode_text(mode))
        self.set_class(readonly, "-readonly")
