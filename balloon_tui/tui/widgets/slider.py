"""BalloonSlider: the target of one guest's balloon on a 0..maximum track.

Modelled on textual/scrollbar.py: the mouse is captured on mouse-down, followed with
MouseMove and released on mouse-up. `Changed` is posted while the handle moves;
`Committed` only on release, on Enter and on each key step: only `Committed` writes.
Live data is applied with `set_live`, which never posts `Changed`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from balloon_tui.core.model import DomainKey
from balloon_tui.core.sizes import MIB, MINIMUM_KIB
from balloon_tui.tui import render
from balloon_tui.tui.keys import LARGE_STEP_KIB, SMALL_STEP_KIB

# Drag resolution: the largest of these not coarser than one cell of the track.
_GRAINS_KIB = (1024 * MIB, 256 * MIB, 64 * MIB, 16 * MIB, 4 * MIB, 1 * MIB)
HANDLE = "◆"
DRAG_HOLDS = "the mouse holds the slider: let go to set the target (key ignored)"
TRACK = "─"


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class BalloonSlider(Widget, can_focus=True):
    """Two lines: the track with the handle (the target), and markers under it."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", f"step({-SMALL_STEP_KIB})", "−64M", show=False),
        Binding("right", f"step({SMALL_STEP_KIB})", "+64M", show=False),
        Binding("shift+left", f"step({-LARGE_STEP_KIB})", "−512M", show=False),
        Binding("shift+right", f"step({LARGE_STEP_KIB})", "+512M", show=False),
        Binding("home", "to_floor", "floor", show=False),
        Binding("end", "to_maximum", "max", show=False),
        Binding("enter", "commit", "apply", show=False),
    ]

    DEFAULT_CSS = """
    BalloonSlider {
        height: 2;
        padding: 0 1;
    }
    BalloonSlider:focus {
        background-tint: $foreground 8%;
    }
    BalloonSlider:disabled {
        text-style: dim;
    }
    """

    value: reactive[int] = reactive(0, init=False)
    """The target in KiB: where the handle is."""
    maximum: reactive[int] = reactive(0, init=False)
    actual: reactive[int | None] = reactive(None, init=False)
    used: reactive[int | None] = reactive(None, init=False)
    floor: reactive[int | None] = reactive(None, init=False)
    proposal: reactive[int | None] = reactive(None, init=False)
    """The regulator's proposed target, marked on the track (under the handle)."""

    class Changed(Message):
        """The handle moved (dragging or a key); nothing is written."""

        def __init__(self, slider: BalloonSlider, value: int) -> None:
            super().__init__()
            self.slider = slider
            self.value = value

        @property
        def control(self) -> BalloonSlider:
            return self.slider

    class Committed(Message):
        """The operator let go (`released`) or pressed a key: write this target."""

        def __init__(self, slider: BalloonSlider, value: int, *, released: bool = False) -> None:
            super().__init__()
            self.slider = slider
            self.value = value
            self.subject = slider.subject  # the guest it was for when the operator acted
            self.device = slider.device  # and the virtio-mem device (None: the balloon)
            self.released = released

        @property
        def control(self) -> BalloonSlider:
            return self.slider

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.subject: DomainKey | None = None  # the guest the value belongs to
        # A virtio-mem device's alias (`v`): the value is its request, 0..size in blocks.
        self.device: str | None = None
        self.block_kib = 0
        self._dragging = False
        self._live_value = 0

    # -- values ---------------------------------------------------------------------------
    @property
    def minimum(self) -> int:
        if self.device is not None:
            return 0
        return min(MINIMUM_KIB, self.maximum) if self.maximum > 0 else 0

    @property
    def dragging(self) -> bool:
        return self._dragging

    def validate_value(self, value: int) -> int:
        value = _clamp(int(value), self.minimum, max(self.minimum, self.maximum))
        if self.block_kib > 0:  # whole blocks, never above the size
            value = min(
                (value + self.block_kib // 2) // self.block_kib, self.maximum // self.block_kib
            )
            value *= self.block_kib
        return value

    def validate_maximum(self, maximum: int) -> int:
        return max(0, int(maximum))

    def watch_value(self, value: int) -> None:
        self.post_message(self.Changed(self, value))

    def set_live(
        self,
        *,
        subject: DomainKey | None,
        maximum: int,
        target: int,
        actual: int | None,
        used: int | None,
        floor: int | None,
        proposal: int | None = None,
        device: str | None = None,
        block_kib: int = 0,
    ) -> None:
        """Show live data; during a drag of the same subject the handle stays put.

        `proposal`: the regulator's proposed target, marked ◇ on the track (None: no mark)."""
        dragging_this = self._dragging and subject == self.subject and device == self.device
        if self._dragging and not dragging_this:
            self._cancel_drag()
        # Everything drawn is reactive: an unchanged guest's tick draws nothing.
        with self.prevent(BalloonSlider.Changed):
            self.subject = subject
            self.device, self.block_kib = device, max(0, block_kib)
            self.actual = actual
            self.used = used
            self.floor = floor
            self.proposal = proposal
            self._live_value = target
            if not dragging_this:
                self.maximum = maximum
                self.value = target

    def clear(self) -> None:
        """No guest: an empty track, bound to nothing (no key or drag can reach a guest)."""
        self.cancel_drag()
        with self.prevent(BalloonSlider.Changed):
            self.subject = None
            self.device, self.block_kib = None, 0
            self._live_value = 0
            self.actual = self.used = self.floor = self.proposal = None
            self.maximum = 0
            self.value = 0

    # -- geometry ---------------------------------------------------------------------------
    @property
    def track_width(self) -> int:
        return max(2, self.content_size.width)

    def grain(self) -> int:
        cell = self.maximum / (self.track_width - 1) if self.maximum else 0
        return next((g for g in _GRAINS_KIB if g <= cell), MIB)

    def x_of(self, value: int) -> int:
        if self.maximum <= 0:
            return 0
        return _clamp(round(value * (self.track_width - 1) / self.maximum), 0, self.track_width - 1)

    def value_at(self, x: int) -> int:
        """The target a click at content column `x` asks for (the last column: the maximum)."""
        last = self.track_width - 1
        x = _clamp(x, 0, last)
        if x == last:
            return self.maximum
        raw = x * self.maximum / last
        grain = self.grain()
        return self.validate_value(round(raw / grain) * grain)

    # -- rendering --------------------------------------------------------------------------
    def render(self) -> Content:
        # Content on the theme's variables: Textual resolves them each time it draws.
        return render.themed(self._text())

    def handle_style(self) -> str:
        """The theme's target colour; reversed while the keys or the mouse hold the handle."""
        if self.disabled:
            return render.STYLE_DIM
        if self.has_focus or self._dragging:
            return f"{render.STYLE_TARGET} reverse"
        return render.STYLE_TARGET

    def _text(self) -> Text:
        width = self.track_width
        if self.maximum <= 0:
            return Text(TRACK * width + "\n", style=render.STYLE_DIM)
        actual = self.actual if self.actual is not None else self.value
        track = render.bar_text(self.maximum, actual, self.used, None, width)
        track = Text(
            track.plain.replace(render.GLYPH_BALLOONED, TRACK), no_wrap=True, spans=track.spans
        )
        if self.proposal is not None:
            spot = self.x_of(self.proposal)
            track = (
                track[:spot] + Text(render.MARK_PROPOSAL, render.STYLE_PROPOSAL) + track[spot + 1 :]
            )
        at = self.x_of(self.value)  # drawn last: the handle covers the proposal's mark
        track = track[:at] + Text(HANDLE, self.handle_style()) + track[at + 1 :]
        marks = [" "] * width
        styles: list[str] = [""] * width
        # Lowest priority first: later marks overwrite earlier ones at the same column.
        for value, mark, style in (
            (self.used, "u", render.STYLE_USED),
            (self.floor, "f", render.STYLE_FLOOR),
            (self.actual, "a", render.STYLE_FREE),
            (self.value, "▲", render.STYLE_TARGET),
        ):
            if value is not None:
                x = self.x_of(value)
                marks[x], styles[x] = mark, style
        marker_line = Text(no_wrap=True)
        for mark, style in zip(marks, styles, strict=True):
            marker_line.append(mark, style)
        return Text("\n", no_wrap=True).join([track, marker_line])

    # -- mouse --------------------------------------------------------------------------------
    def _value_from_mouse(self, event: events.MouseEvent) -> int:
        return self.value_at(event.get_content_offset_capture(self).x)

    async def _on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        if self.disabled or self.maximum <= 0:
            return
        self.focus()
        self.capture_mouse()
        self._dragging = True
        self.value = self._value_from_mouse(event)
        self.refresh()

    async def _on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            event.stop()
            self.value = self._value_from_mouse(event)

    async def _on_mouse_up(self, event: events.MouseUp) -> None:
        event.stop()
        if not self._dragging:
            return
        self._dragging = False
        self.release_mouse()
        self.value = self._value_from_mouse(event)
        self.post_message(self.Committed(self, self.value, released=True))
        self.refresh()

    def _on_mouse_release(self, event: events.MouseRelease) -> None:
        # The capture ended without a mouse-up here (e.g. the widget was hidden): no write.
        if self._dragging:
            self._cancel_drag()

    def _on_hide(self, event: events.Hide) -> None:
        if self._dragging:
            self.release_mouse()
            self._cancel_drag()

    async def _on_click(self, event: events.Click) -> None:
        event.stop()

    def cancel_drag(self) -> None:
        """Drop a drag in progress (its guest vanished or stopped): nothing is committed."""
        if self._dragging:
            self.release_mouse()
            self._cancel_drag()

    def _cancel_drag(self) -> None:
        self._dragging = False
        with self.prevent(BalloonSlider.Changed):
            self.value = self._live_value
        self.refresh()

    # -- keys -----------------------------------------------------------------------------------
    def _usable(self) -> bool:
        """Keys write only with a guest shown and no drag in progress (the mouse decides)."""
        if self.disabled or self.maximum <= 0:
            return False
        if self._dragging:
            self.notify(DRAG_HOLDS, severity="warning")
            return False
        return True

    def _commit_value(self, value: int, *, already: str | None = None) -> None:
        """Move the handle and write; `already`: what to say when it would not move."""
        if not self._usable():
            return
        value = self.validate_value(value)
        if already is not None and value == self.value:
            self.notify(f"already at the {already}: nothing to send")
            return
        self.value = value
        self.post_message(self.Committed(self, self.value))

    def action_step(self, delta_kib: int) -> None:
        self._commit_value(
            self.value + delta_kib, already="maximum" if delta_kib > 0 else "minimum"
        )

    def action_to_floor(self) -> None:
        if self.floor is None:
            if not self.disabled:
                self.notify(
                    "no safety floor known (no fresh guest stats): arm them with a, "
                    "or type a target with t",
                    severity="warning",
                )
            return
        self._commit_value(self.floor, already="safety floor")

    def action_to_maximum(self) -> None:
        self._commit_value(self.maximum, already="maximum")

    def action_commit(self) -> None:
        self._commit_value(self.value)
