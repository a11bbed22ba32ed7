"""Sparklines of actual, used and target over the last minutes, on one fixed scale.

Textual's Sparkline scales each series to its own minimum and maximum, which makes
a 1 MiB wobble look like a cliff. `ScaledSparkline` keeps the widget (redrawn when `data`
is reassigned) but draws every series on 0..scale_max, newest on the right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Label, Sparkline

from balloon_tui.tui import render
from balloon_tui.tui.history import Sample
from balloon_tui.tui.widgets.quiet import update_if_changed

BARS = "▁▂▃▄▅▆▇█"
RESOLUTION = 240  # time buckets over the window; resampled to the widget's width
EMPTY = float("nan")


class _FixedScale:
    """One cell per value; NaN (no sample yet) is blank."""

    def __init__(self, data: Sequence[float], scale_max: float, height: int, style: Style):
        self.data = data
        self.scale_max = scale_max or 1.0
        self.height = max(1, height)
        self.style = style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        levels = len(BARS) * self.height
        heights = [
            -1 if math.isnan(v) else max(1, min(levels, round(v / self.scale_max * levels)))
            for v in self.data
        ]
        for row in reversed(range(self.height)):
            low = row * len(BARS)
            line = []
            for h in heights:
                if h <= low:
                    line.append(" ")
                elif h >= low + len(BARS):
                    line.append(BARS[-1])
                else:
                    line.append(BARS[h - low - 1])
            yield Segment("".join(line), self.style)
            if row:
                yield Segment.line()


class ScaledSparkline(Sparkline):
    scale_max = reactive(1.0)

    def render(self) -> _FixedScale:
        data = resample(list(self.data or []), self.size.width)
        style = Style.from_color(self.get_component_styles("sparkline--max-color").rich_style.color)
        return _FixedScale(data, self.scale_max, self.size.height, style)


def resample(data: Sequence[float], width: int) -> list[float]:
    """Fit `data` to `width` cells: the last known value of each group (stretch if short)."""
    if width <= 0 or not data:
        return [EMPTY] * max(0, width)
    cells = []
    for j in range(width):
        start = j * len(data) // width
        end = max(start + 1, (j + 1) * len(data) // width)
        known = [v for v in data[start:end] if not math.isnan(v)]
        cells.append(known[-1] if known else EMPTY)
    return cells


def buckets(
    values: Sequence[tuple[float, float | None]], now: float, window: float, width: int
) -> list[float]:
    """Time-bucket (at, value) pairs into `width` cells covering [now - window, now]."""
    cells = [EMPTY] * max(0, width)
    if width <= 0:
        return cells
    span = window / width
    for at, value in values:
        if value is None:
            continue
        index = int((at - (now - window)) / span)
        if 0 <= index < width:
            cells[index] = float(value)
        elif index == width:
            cells[-1] = float(value)
    return cells


# Their colours: `.sparkline--max-color` on $balloon-* in app.tcss.
SERIES = (("actual", "actual"), ("used", "used"), ("target", "target"))


class HistoryView(Vertical):
    """Three labelled sparklines; `show` reassigns their data (that is what redraws)."""

    DEFAULT_CSS = """
    HistoryView { height: auto; }
    HistoryView > Horizontal { height: auto; }
    HistoryView .series-label { width: 7; height: 100%; color: $text-muted;
                                content-align: left bottom; }
    HistoryView .series-value { width: 7; height: 100%; content-align: right bottom; }
    HistoryView ScaledSparkline { width: 1fr; height: 1; }
    """

    def __init__(self, window: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = window
        self._samples: list[Sample] = []
        self._now = 0.0
        self._scale = 1.0

    def compose(self) -> ComposeResult:
        for key, label in SERIES:
            with Horizontal():
                yield Label(label, classes="series-label")
                yield ScaledSparkline([], id=f"spark-{key}")
                yield Label("", id=f"value-{key}", classes="series-value")

    def show(self, samples: list[Sample], now: float, scale_max: int) -> None:
        self._samples, self._now, self._scale = samples, now, float(scale_max or 1)
        self._redraw()

    def _redraw(self) -> None:
        last = self._samples[-1] if self._samples else None
        for key, _label in SERIES:
            spark = self.query_one(f"#spark-{key}", ScaledSparkline)
            pairs = [(s.at, getattr(s, f"{key}_kib")) for s in self._samples]
            spark.scale_max = self._scale
            spark.data = buckets(pairs, self._now, self.window, RESOLUTION)
            current = getattr(last, f"{key}_kib") if last else None
            update_if_changed(
                self.query_one(f"#value-{key}", Label),
                Text(render.short_size(current), justify="right"),
            )
