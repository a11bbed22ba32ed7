"""The guest's own memory figures (from the balloon driver) and the balloon device facts."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from balloon_tui.core.display import visible
from balloon_tui.core.model import BalloonDevice, DomainSnapshot
from balloon_tui.tui import render

_SIZES = (
    ("unused", "unused"),
    ("available", "available"),
    ("usable", "usable"),
    ("caches", "disk_caches"),
    ("rss", "rss"),
    ("swap in", "swap_in"),
    ("swap out", "swap_out"),
)
_COUNTS = (("major faults", "major_fault"), ("minor faults", "minor_fault"))
_CELL_WIDTH = 24  # one "label value" pair


def no_stats_reason(domain: DomainSnapshot) -> str | None:
    """Why there are no guest stats, in words; None when there are some."""
    if not domain.device.present:
        return "no guest stats: no balloon device"
    if not domain.stats.empty:
        return None
    if not domain.state.is_active:
        return f"no guest stats: the guest is {domain.state.word}"
    if domain.device.stats_period <= 0:
        return "no guest stats: stats period is off"
    return f"no guest stats yet (the guest reports every {domain.device.stats_period} s)"


def device_text(device: BalloonDevice) -> Text:
    if not device.present:
        return Text.assemble(
            ("no balloon device", render.STYLE_WARN),
            (" (memballoon model='none'): the target cannot be set", render.STYLE_DIM),
        )

    def flag(name: str, on: bool) -> Text:
        return Text.assemble((name + " ", render.STYLE_DIM), ("on" if on else "off"))

    period = f"every {device.stats_period} s" if device.stats_period > 0 else "off"
    return Text(" · ", style=render.STYLE_DIM).join(
        [
            Text.assemble(("balloon ", render.STYLE_DIM), visible(device.model)),
            flag("autodeflate", device.autodeflate),
            flag("free page reporting", device.free_page_reporting),
            Text.assemble(("stats ", render.STYLE_DIM), period),
        ]
    )


class GuestStatsView(Widget):
    """A grid of label/value pairs that reflows to the width; a sentence when empty."""

    DEFAULT_CSS = """
    GuestStatsView { height: auto; }
    """

    domain: reactive[DomainSnapshot | None] = reactive(None, layout=True)

    def render(self) -> RenderableType:
        domain = self.domain
        if domain is None:
            return Text("")
        reason = no_stats_reason(domain)
        if reason is not None:
            return render.themed(
                Text.assemble(
                    (reason, render.STYLE_WARN if domain.device.present else ""),
                    "\n",
                    device_text(domain.device),
                )
            )
        # A Rich table is drawn through the app's console, which has the theme's styles.
        stats = domain.stats
        pairs: list[tuple[str, str]] = [
            (label, render.short_size(getattr(stats, field))) for label, field in _SIZES
        ]
        pairs += [
            (label, "–" if getattr(stats, field) is None else f"{getattr(stats, field):,}")
            for label, field in _COUNTS
        ]
        widest = max(1, min(len(pairs), self.size.width // _CELL_WIDTH))
        rows = -(-len(pairs) // widest)
        per_row = -(-len(pairs) // rows)  # as even as the rows allow
        grid = Table.grid(padding=(0, 2), expand=False)
        for _ in range(per_row):
            grid.add_column(style=render.STYLE_DIM, no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
        for start in range(0, len(pairs), per_row):
            chunk = pairs[start : start + per_row]
            cells: list[str] = []
            for label, value in chunk:
                cells += [label, value]
            cells += [""] * (2 * per_row - len(cells))
            grid.add_row(*cells)
        outer = Table.grid()
        outer.add_row(grid)
        outer.add_row(device_text(domain.device))
        return outer
