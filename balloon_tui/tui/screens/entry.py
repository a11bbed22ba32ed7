"""`t`: type a target in any form `parse_size` reads; errors show inline, as you type."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.sizes import MINIMUM_KIB, SizeError, format_compact, format_size, parse_size
from balloon_tui.tui import render


def is_zero(text: str) -> bool:
    """ "0", "0M", "0.0 GiB": nothing, in any unit parse_size knows."""
    number = text.strip().rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ").strip()
    unit = text.strip()[len(number) :].strip() if number else ""
    try:
        parse_size(f"1{unit}")
    except SizeError:
        return False
    return bool(number) and set(number) <= {"0", "."} and "0" in number


def check_target(
    text: str, domain: DomainSnapshot, floor_kib: int | None, smallest: int | None = None
) -> tuple[int | None, Text]:
    """Parse `text` for `domain`: (KiB or None, the line to show under the input).

    The KiB are what will be asked for: below the smallest target the app sets, that
    smallest target, so the line here and a confirmation dialog name the same size.
    """
    try:
        kib = parse_size(text, domain.maximum_kib)
    except SizeError as exc:
        if not (smallest == 0 and is_zero(text)):
            return None, Text(f"{render.MARK_ERROR} {visible(str(exc))}", style=render.STYLE_ERROR)
        kib = 0  # a virtio-mem device may be asked to unplug everything
    if kib > domain.maximum_kib:
        # Exact sizes: rounded ones would read "4.00 GiB is above the maximum 4.00 GiB".
        return None, Text(
            f"{render.MARK_ERROR} {format_size(kib)} is above the maximum "
            f"{format_size(domain.maximum_kib)} by {format_size(kib - domain.maximum_kib)}",
            style=render.STYLE_ERROR,
        )
    if smallest is None:  # the balloon (a virtio-mem device's request may be 0)
        ceiling = domain.balloon_ceiling_kib
        if kib > ceiling:
            # The maximum counts virtio-mem devices whole; the balloon gives back only what
            # is plugged (docs/virtio-mem.md).
            return None, Text(
                f"{render.MARK_ERROR} {format_size(kib)} is above what the balloon can give, "
                f"{format_size(ceiling)}: {format_size(domain.maximum_kib - ceiling)} of the "
                "maximum is virtio-mem memory not plugged",
                style=render.STYLE_ERROR,
            )
        smallest = min(MINIMUM_KIB, domain.maximum_kib)
    raised = kib < smallest
    kib = max(kib, smallest)
    line = Text.assemble(
        ("= ", render.STYLE_DIM), (format_size(kib), "bold"), (f"  ({kib:,} KiB)", render.STYLE_DIM)
    )
    if raised:
        line.append(
            f"\nthe smallest target balloon-tui sets is {format_size(smallest)}", render.STYLE_DIM
        )
    if floor_kib is not None and kib < floor_kib:
        line.append(
            f"\n{render.MARK_STALLED} below the safety floor {format_compact(floor_kib)}: "
            "the guest may swap or stall",
            render.STYLE_WARN,
        )
    return kib, line


# The name's share of the title line (the box is 64 cells).
TITLE_NAME_CELLS = 44


class TargetEntryScreen(ModalScreen[int | None]):
    """Dismisses with the target in KiB, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = """
    TargetEntryScreen { align: center middle; }
    TargetEntryScreen > Vertical {
        width: 64; max-width: 95%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    TargetEntryScreen #entry-facts { color: $text-muted; }
    TargetEntryScreen #entry-input { margin: 1 0 0 0; }
    TargetEntryScreen #entry-check { height: auto; min-height: 1; }
    TargetEntryScreen #entry-hint { color: $text-muted; margin: 1 0 0 0; }
    """

    def __init__(
        self,
        domain: DomainSnapshot,
        current_kib: int,
        floor_kib: int | None = None,
        *,
        smallest: int | None = None,
    ) -> None:
        super().__init__()
        self.smallest = smallest
        self.domain = domain
        self.current_kib = current_kib
        self.floor_kib = floor_kib

    def compose(self) -> ComposeResult:
        domain = self.domain
        with Vertical() as box:
            box.border_title = Text("target for ") + Text(shown(domain.name, TITLE_NAME_CELLS))
            box.border_subtitle = "enter applies · esc cancels"
            yield Static(
                render.themed(
                    render.sizes_line(
                        ("target", self.current_kib),
                        ("actual", domain.actual_kib),
                        ("used", domain.used_kib),
                        ("max", domain.maximum_kib),
                    )
                ),
                id="entry-facts",
            )
            yield Input(
                value="",
                placeholder="1.5G, 1536M, 1572864K, 75% (of max), or MiB",
                id="entry-input",
            )
            yield Static("", id="entry-check")
            yield Static("a plain number is MiB; a percentage is of the maximum", id="entry-hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))  # now, not after a refresh

    @on(Input.Changed, "#entry-input")
    def _check(self, event: Input.Changed) -> None:
        check = self.query_one("#entry-check", Static)
        if not event.value.strip():
            check.update("")
            return
        _kib, line = check_target(event.value, self.domain, self.floor_kib, self.smallest)
        check.update(render.themed(line))

    @on(Input.Submitted, "#entry-input")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        kib, line = check_target(event.value, self.domain, self.floor_kib, self.smallest)
        if kib is None:
            self.query_one("#entry-check", Static).update(render.themed(line))
            return
        self.dismiss(kib)

    def action_cancel(self) -> None:
        self.dismiss(None)
