"""`v` on a guest with several virtio-mem devices: which one the slider and the keys move.

A small list: the balloon first, then each device (alias, node, requested of size).
Dismisses with the chosen alias, "" for the balloon, or None when cancelled.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from balloon_tui.core.display import shown
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.tui import render

BALLOON = ""  # the answer for "the balloon"
TITLE_NAME_CELLS = 36
ALIAS_CELLS = 24


def device_line(alias: str, node: int | None, requested_kib: int, size_kib: int) -> Text:
    where = "" if node is None else f" · node {node}"
    return Text.assemble(
        ("virtio-mem ", render.STYLE_DIM),
        (shown(alias, ALIAS_CELLS), "bold"),
        (where, render.STYLE_DIM),
        f"  {render.short_size(requested_kib)} of {render.short_size(size_kib)}",
    )


class DeviceChoiceScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = """
    DeviceChoiceScreen { align: center middle; }
    DeviceChoiceScreen > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    DeviceChoiceScreen OptionList { height: auto; max-height: 16; border: none; }
    """

    def __init__(self, domain: DomainSnapshot, active: str | None) -> None:
        super().__init__()
        self.domain = domain
        self.active = active

    def compose(self) -> ComposeResult:
        options = [Option(Text("balloon", style="bold"), id="balloon")]
        options += [
            Option(device_line(d.alias, d.node, d.requested_kib, d.size_kib), id=f"device-{index}")
            for index, d in enumerate(self.domain.memory_devices)
        ]
        with Vertical() as box:
            box.border_title = Text("slider for ") + Text(shown(self.domain.name, TITLE_NAME_CELLS))
            box.border_subtitle = "enter chooses · esc cancels"
            yield OptionList(*options, id="device-choice")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        aliases = [d.alias for d in self.domain.memory_devices]
        option_list.highlighted = aliases.index(self.active) + 1 if self.active in aliases else 0
        self.set_focus(option_list)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = event.option_index
        self.dismiss(BALLOON if index == 0 else self.domain.memory_devices[index - 1].alias)

    def action_cancel(self) -> None:
        self.dismiss(None)
