"""The command palette (ctrl+p): every action by name, from the key table and a few more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from balloon_tui.tui import keys
from balloon_tui.tui.screens.main import MainScreen

# Actions without a key of their own (the slider's are keys only while it has focus).
EXTRA: tuple[tuple[str, str], ...] = (
    ("target_floor", "set the target to the safety floor"),
    ("target_maximum", "set the target to the maximum"),
    ("focus_slider", "focus the slider of the selected guest"),
    ("sort('name')", "sort by name"),
    ("sort('actual')", "sort by actual size"),
    ("sort('used')", "sort by used memory"),
    ("sort('max')", "sort by maximum"),
)


def palette_commands() -> list[tuple[str, str, str]]:
    """(title, action, help) for every command."""
    # One entry per thing to do: "quit" has two keys (q and ctrl+c).
    displays: dict[str, list[str]] = {}
    actions: dict[str, str] = {}
    for key in keys.APP_KEYS:
        displays.setdefault(key.description, []).append(key.display)
        actions.setdefault(key.description, key.action)
    commands = [
        (text[:1].upper() + text[1:], actions[text], "key " + " or ".join(shown))
        for text, shown in displays.items()
    ]
    commands += [(text[:1].upper() + text[1:], action, "") for action, text in EXTRA]
    return commands


class BalloonCommands(Provider):
    def _run(self, action: str) -> Callable[[], Awaitable[bool]]:
        # The actions are the main screen's ("app.quit" finds the app from there), whichever
        # screen the palette was opened on.
        main = next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)
        return partial(self.app.run_action, action, main or self.app)

    async def discover(self) -> Hits:
        for title, action, help_text in palette_commands():
            yield DiscoveryHit(title, self._run(action), help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in palette_commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    self._run(action),
                    text=title,
                    help=help_text or None,
                )
