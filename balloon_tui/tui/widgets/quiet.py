"""Updates that cost nothing when nothing changed.

`Static.update` lays out the whole screen again; on every tick, for every label, that is
most of what an idle refresh costs. Rich Text is shown through `render.themed`: its colours
stay the theme's names, looked up when drawn, so a new theme needs no new update.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from balloon_tui.tui.render import themed

# What each Static was last given (as given: Text compares by text and styles).
_shown: WeakKeyDictionary[Static, VisualType] = WeakKeyDictionary()


def update_if_changed(widget: Static, content: VisualType) -> None:
    shown = _shown.get(widget)
    if shown is not None and shown == content:
        return
    _shown[widget] = content
    shape_kept = _same_shape(shown, content)
    widget.update(themed(content) if isinstance(content, Text) else content, layout=not shape_kept)


def _same_shape(before: object, after: object) -> bool:
    """Same lines of the same widths: the widget keeps its size, no layout needed."""
    if not isinstance(before, Text) or not isinstance(after, Text):
        return False
    return [len(line) for line in before.plain.split("\n")] == [
        len(line) for line in after.plain.split("\n")
    ]
