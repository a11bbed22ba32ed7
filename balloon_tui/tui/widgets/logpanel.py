"""The log: every write result and every host or domain error, newest at the bottom."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from balloon_tui.tui import render


class LogPanel(RichLog):
    DEFAULT_CSS = """
    LogPanel { height: 8; display: none; border-top: solid $primary-muted; }
    LogPanel.-visible { display: block; }
    """

    def __init__(self, *, id: str | None = None, clock: bool = True) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, max_lines=1000)
        self.clock = clock
        self.lines_written: list[str] = []  # plain text, for tests and the help of a reader

    def add(self, message: str, severity: str = "information") -> None:
        style = {"error": render.STYLE_ERROR, "warning": render.STYLE_WARN}.get(severity, "")
        stamp = time.strftime("%H:%M:%S ") if self.clock else ""
        self.lines_written.append(message)
        del self.lines_written[:-1000]
        self.write(Text.assemble((stamp, render.STYLE_DIM), (message, style)))
