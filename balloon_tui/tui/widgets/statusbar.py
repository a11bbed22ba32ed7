"""The top lines: one per host (status, memory) and the apply mode / read-only badges."""

from __future__ import annotations

import posixpath

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.writes import ApplyMode
from balloon_tui.tui import render
from balloon_tui.tui.render import short_size
from balloon_tui.tui.widgets.quiet import update_if_changed

_STATUS = {
    HostStatus.OK: ("●", "green"),
    HostStatus.SLOW: ("◐", "yellow"),
    HostStatus.CONNECTING: ("○", "bright_black"),
    HostStatus.DISCONNECTED: ("✖", "bold red"),
    HostStatus.SKIPPED: ("✖", "bold red"),
}


def host_name(host: HostSnapshot) -> str:
    """A short, stable name: a test-driver file by its file name, else the hostname."""
    if host.uri.startswith("test://"):
        path = host.uri[len("test://"):]
        return "test:" + (posixpath.basename(path) or "default")
    return host.hostname or host.uri


def host_text(host: HostSnapshot) -> Text:
    symbol, style = _STATUS[host.status]
    text = Text.assemble((f"{symbol} ", style), (host_name(host), "bold"), " ",
                         (host.status.word, style))
    text.append("  host ", render.STYLE_DIM)
    text.append(short_size(host.memory_total_kib))
    text.append(" · guests ", render.STYLE_DIM)
    text.append(short_size(host.sum_actual_kib))
    text.append(" · free ", render.STYLE_DIM)
    text.append(short_size(host.memory_free_kib))
    if host.error:
        text.append(f"  {render.MARK_ERROR} {host.error}", render.STYLE_ERROR)
    return text


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

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…", style=render.STYLE_DIM), id="hosts")
        yield Static(mode_text(ApplyMode.LIVE), id="mode")
        yield Static("READ-ONLY", id="readonly")

    def show_hosts(self, hosts: list[HostSnapshot]) -> None:
        lines = [host_text(h) for h in hosts]
        content = Text("\n").join(lines) if lines else Text("connecting…", style="dim")
        update_if_changed(self.query_one("#hosts", Static), content)

    def show_mode(self, mode: ApplyMode, readonly: bool) -> None:
        update_if_changed(self.query_one("#mode", Static), mode_text(mode))
        self.set_class(readonly, "-readonly")
