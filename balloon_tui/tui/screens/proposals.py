"""`Y`: every proposal of one host, listed with its reason, applied after one answer.

The focused button is "Apply": the operator pressed Y to apply, and the list is the
question. Escape (or Cancel) applies nothing. Dismisses with True only for "Apply".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from balloon_tui.core.display import counted, shown
from balloon_tui.core.model import DomainKey, DomainSnapshot
from balloon_tui.tui import render

NAME_CELLS = 24


@dataclass(frozen=True, slots=True)
class ProposalLine:
    """One proposal as the operator is shown it: for this guest, as it was then."""

    key: DomainKey
    seen: DomainSnapshot
    target_kib: int
    reason: str


def line_text(line: ProposalLine) -> Text:
    actual = line.seen.actual_kib
    arrow = "↓" if line.target_kib < actual else "↑"
    return Text.assemble(
        (shown(line.seen.name, NAME_CELLS), "bold"),
        "  ",
        (render.short_size(actual), render.STYLE_DIM),
        f" {arrow} ",
        (render.short_size(line.target_kib), "bold"),
        "\n  ",
        (line.reason, render.STYLE_DIM),
    )


class ConfirmProposalsScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("left,right", "switch", "switch", show=False),
    ]

    DEFAULT_CSS = """
    ConfirmProposalsScreen { align: center middle; }
    ConfirmProposalsScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ConfirmProposalsScreen #proposals-summary { margin: 1 0 0 0; color: $text-muted; }
    ConfirmProposalsScreen VerticalScroll { height: auto; max-height: 16; margin: 1 0 0 0; }
    ConfirmProposalsScreen Horizontal { height: auto; margin: 1 0 0 0; align-horizontal: right; }
    ConfirmProposalsScreen Button { margin: 0 0 0 2; min-width: 12; }
    """

    def __init__(self, host_label: str, summary: str, lines: list[ProposalLine]) -> None:
        super().__init__()
        self.host_label = host_label
        self.summary = summary
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text(f"apply {counted(len(self.lines), 'proposal')} on ") + Text(
                shown(self.host_label, 32)
            )
            box.border_subtitle = "enter: apply · esc: cancel"
            yield Static(Text(self.summary), id="proposals-summary")
            with VerticalScroll(id="proposals-list"):
                for line in self.lines:
                    yield Static(render.themed(line_text(line)), classes="proposal")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(f"Apply {len(self.lines)}", id="apply", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#apply", Button))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "apply")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch(self) -> None:
        apply = self.query_one("#apply", Button)
        self.set_focus(self.query_one("#cancel", Button) if apply.has_focus else apply)
