"""The log: every write result and every host or domain error, newest at the bottom."""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from balloon_tui.core.display import visible
from balloon_tui.tui import render

MAX_ENTRIES = 1000


class LogPanel(VerticalScroll, can_focus=True):
    """The entries as one Content: not RichLog, whose lines are rendered (colours and all)
    when written, so a new theme would have to write them all again."""

    DEFAULT_CSS = """
    LogPanel {
        height: 8; display: none; border-top: solid $primary-muted;
        background: $surface; color: $foreground; overflow-y: scroll;
        &:focus { background-tint: $foreground 5%; }
    }
    LogPanel.-visible { display: block; }
    LogPanel > Static { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None, clock: bool = True) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._entries: deque[tuple[str, str, str]] = deque(maxlen=MAX_ENTRIES)
        self._show_pending = False

    def compose(self) -> ComposeResult:
        yield Static("", id="log-lines")

    def on_mount(self) -> None:
        self._show()  # what was added before the widget was up

    @property
    def lines_written(self) -> list[str]:
        """The messages in plain text, oldest first (for tests and the help of a reader)."""
        return [message for _stamp, message, _style in self._entries]

    def add(self, message: str, severity: str = "information") -> None:
        """One entry, shown as it is: messages quote names and libvirt's words, so a control
        character (a newline too: it would fake a line of its own) is made visible."""
        message = visible(message)
        style = {"error": render.STYLE_ERROR, "warning": render.STYLE_WARN}.get(severity, "")
        stamp = time.strftime("%H:%M:%S ") if self.clock else ""
        self._entries.append((stamp, message, style))
        self._show_soon()

    def clear(self) -> None:
        self._entries.clear()
        self._show_soon()

    def _show_soon(self) -> None:
        # A burst of entries (a host lost with all its guests) is drawn once, not per entry.
        if not self._show_pending and self.is_mounted:
            self._show_pending = True
            self.call_later(self._show)

    def _show(self) -> None:
        self._show_pending = False
        lines = Text("\n").join(
            Text.assemble((stamp, render.STYLE_DIM), (message, style))
            for stamp, message, style in self._entries
        )
        if self.is_mounted:
            self.query_one("#log-lines", Static).update(render.themed(lines))
            self.call_after_refresh(self.scroll_end, animate=False)
