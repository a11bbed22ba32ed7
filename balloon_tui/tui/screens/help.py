"""`?`: every key, from the same table the bindings are made of."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from balloon_tui.tui import keys, render

LEGEND: tuple[tuple[str, str, str], ...] = (
    (render.GLYPH_USED, render.STYLE_USED, "used by the guest (actual − usable)"),
    (render.GLYPH_FREE, render.STYLE_FREE, "in the guest, not used: it could give it back"),
    (render.GLYPH_ACTUAL, render.STYLE_FREE, "in the guest (no guest stats to tell use)"),
    (render.GLYPH_BALLOONED, render.STYLE_BALLOONED, "taken by the balloon (up to max)"),
    (render.GLYPH_TARGET, render.STYLE_TARGET, "target (the slider's ◆ handle)"),
    (render.MARK_INFLATE, render.STYLE_TARGET, "inflating: the guest gives memory back"),
    (render.MARK_DEFLATE, render.STYLE_TARGET, "deflating: the guest gets memory"),
    (render.MARK_WRITING, render.STYLE_TARGET, "target sent, waiting for libvirt"),
    (render.MARK_STALLED, render.STYLE_WARN, "stalled: the balloon stopped short"),
    (render.MARK_OUTSIDE, render.STYLE_WARN, "changed outside balloon-tui"),
    (render.MARK_ERROR, render.STYLE_ERROR, "error (details in the panel and the log, l)"),
    (render.MARK_VIRTIO_MEM, render.STYLE_FREE, "after a name: virtio-mem devices (the panel)"),
    ("stale", render.STYLE_WARN, "guest stats older than three stats periods"),
)


def help_table() -> Group:
    """Every key, section by section, then the signs the table and the panel use."""
    parts: list[Table | Text] = []

    def section(title: str, rows: list[tuple[Text | str, str]]) -> None:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(justify="right", style="bold", no_wrap=True, min_width=11)
        grid.add_column()
        for key, what in rows:
            # Text, not str: a Rich table reads a str cell as markup, and a key can be `[`.
            grid.add_row(Text(key) if isinstance(key, str) else key, Text(what))
        if parts:
            parts.append(Text(""))
        parts.append(Text(title, style="bold underline"))
        parts.append(grid)

    titles = {
        "Target": "The selected guest (from the table or the slider)",
        "Regulator": "The regulator: proposed targets and the autopilot",
        "View": "View",
        "App": "App",
    }
    groups: dict[str, list[tuple[Text | str, str]]] = {}
    for key in keys.APP_KEYS:
        groups.setdefault(key.group, []).append((key.display, key.description))
    for group, rows in groups.items():
        section(titles[group], rows)
    for title, pairs in (
        ("Slider (when focused)", keys.SLIDER_KEYS),
        ("Table", keys.TABLE_KEYS),
        ("Filter (after /)", keys.FILTER_KEYS),
        ("Dialogs", keys.MODAL_KEYS),
    ):
        section(title, list(pairs))
    section("Signs", [(Text(glyph, style=style), what) for glyph, style, what in LEGEND])
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    HelpScreen Static { width: 100%; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "balloon-tui keys"
            scroll.border_subtitle = "esc closes"
            yield Static(help_table())
