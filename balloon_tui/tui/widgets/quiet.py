"""Updates that cost nothing when nothing changed.

`Static.update` lays out the whole screen again; on every tick, for every label, that is
most of what an idle refresh costs.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


def update_if_changed(widget: Static, content: Any) -> None:
    shown = getattr(widget, "_balloon_shown", None)
    if shown == content:
        return
    widget._balloon_shown = content  # type: ignore[attr-defined]
    widget.update(content, layout=not _same_shape(shown, content))


def _same_shape(before: Any, after: Any) -> bool:
    """Same lines of the same widths: the widget keeps its size, no layout needed."""
    if not isinstance(before, Text) or not isinstance(after, Text):
        return False
    return [len(line) for line in before.plain.split("\n")] == [
        len(line) for line in after.plain.split("\n")
    ]
