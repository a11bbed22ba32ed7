"""The `/` filter box: Enter goes back to the table, Escape clears it."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "clear filter")]

    class Cleared(Message):
        pass

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Cleared())
