"""The log: every write result and every host or domain error, newest at the bottom."""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text
from textual.widgets import RichLog

from balloon_tui.core.display import visible
from balloon_tui.tui import render


class LogPanel(RichLog):
    DEFAULT_CSS = """
    LogPanel { height: 8; display: none; border-top: solid $primary-muted; }
    LogPanel.-visible { display: block; }
    """

    def __init__(self, *, id: str | None = None, clock: bool = True) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, max_lines=1000)
        self.clock = clock
        # (stamp, message, style name): RichLog keeps rendered lines, whose colours are the
        # theme's of the moment they were written; a new theme writes them all again.
        self._entries: deque[tuple[str, str, str]] = deque(maxlen=1000)

    @property
    def lines_written(self) -> list[str]:
        """The messages in plain text, oldest first (for tests and the help of a reader)."""
        return [message for _stamp, message, _style in self._entries]

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._recolour, init=False)

    def add(self, message: str, severity: str = "information") -> None:
        """One entry, shown as it is: messages quote names and libvirt's words, so a control
        character (a newline too: it would fake a line of its own) is made visible."""
        message = visible(message)
        style = {"error": render.STYLE_ERROR, "warning": render.STYLE_WARN}.get(severity, "")
        stamp = time.strftime("%H:%M:%S ") if self.clock else ""
        self._entries.append((stamp, message, style))
        self.write(_line(stamp, message, style))

    def _recolour(self) -> None:
        # After the refresh: the app's console takes the new theme's text styles when the
        # CSS variables are worked out again.
        self.call_after_refresh(self._write_again)

    def _write_again(self) -> None:
        self.clear()
        for stamp, message, style in self._entries:
            self.write(_line(stamp, message, style))


def _line(stamp: str, message: str, style: str) -> Text:
    return Text.assemble((stamp, render.STYLE_DIM), (message, style))
