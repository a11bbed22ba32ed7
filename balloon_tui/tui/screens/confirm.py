"""Below the safety floor (or with no floor known): say what will likely happen, then ask.

The focused button is "Cancel": Enter and Escape both cancel; setting the target anyway
takes Tab (or →) and Enter, or a click. Dismisses with True only for "set anyway".
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.safety import Assessment
from balloon_tui.tui import render

# The name's share of the title line (the box is 72 cells, the words take 28, the corners 4).
TITLE_NAME_CELLS = 36


class ConfirmFloorScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("left,right", "switch", "switch", show=False),
    ]

    DEFAULT_CSS = """
    ConfirmFloorScreen { align: center middle; }
    ConfirmFloorScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    ConfirmFloorScreen #confirm-change { margin: 1 0 0 0; }
    ConfirmFloorScreen #confirm-reason { margin: 1 0 0 0; }
    ConfirmFloorScreen #confirm-facts { color: $text-muted; }
    ConfirmFloorScreen Horizontal { height: auto; margin: 1 0 0 0; align-horizontal: right; }
    ConfirmFloorScreen Button { margin: 0 0 0 2; min-width: 12; }
    """

    def __init__(
        self,
        domain: DomainSnapshot,
        target_kib: int,
        current_kib: int,
        assessment: Assessment,
        source: str = "",
    ) -> None:
        super().__init__()
        self.domain = domain
        self.target_kib = target_kib
        self.current_kib = current_kib
        self.assessment = assessment
        self.source = source

    def compose(self) -> ComposeResult:
        domain = self.domain
        floor = self.assessment.floor_kib
        with Vertical() as box:
            box.border_title = Text(
                f"{render.MARK_STALLED} below the safety floor of "
                if floor is not None
                else f"{render.MARK_STALLED} no safety floor known for "
            ) + Text(shown(domain.name, TITLE_NAME_CELLS))
            box.border_subtitle = "enter/esc: cancel · tab, enter: set anyway"
            yield Static(
                render.themed(
                    Text.assemble(
                        ("shrink the target ", render.STYLE_DIM),
                        (render.short_size(self.current_kib), "bold"),
                        " → ",
                        (render.short_size(self.target_kib), "bold"),
                        (f"  ({self.source})" if self.source else "", render.STYLE_DIM),
                    )
                ),
                id="confirm-change",
            )
            yield Static(
                render.themed(Text(visible(self.assessment.reason), style=render.STYLE_WARN)),
                id="confirm-reason",
            )
            yield Static(
                render.themed(
                    render.sizes_line(
                        ("used", domain.used_kib),
                        ("floor", floor),
                        ("actual", domain.actual_kib),
                        ("max", domain.maximum_kib),
                    )
                ),
                id="confirm-facts",
            )
            with Horizontal():
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(
                    f"Set {render.short_size(self.target_kib)} anyway",
                    id="confirm",
                    variant="error",
                )

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))  # now: Enter must mean Cancel

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch(self) -> None:
        cancel = self.query_one("#cancel", Button)
        self.set_focus(self.query_one("#confirm", Button) if cancel.has_focus else cancel)
