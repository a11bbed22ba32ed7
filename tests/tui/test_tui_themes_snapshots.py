"""Snapshots of the demo in every bundled theme, on a 16-colour terminal and with NO_COLOR.

The demo app is built as `make screenshots` builds it (scripts/screenshots.py: demo_app):
fixed theme, none of ~/.config. 16 colours: every colour cut down the way Rich does for
TERM=xterm. NO_COLOR=1: set while the app is made (Textual reads it then).
Update with `pytest tests/tui --snapshot-update` after looking at the report.
"""

from __future__ import annotations

import pytest
from tuihelpers import ready, select

from balloon_tui.tui.themefiles import bundled_theme_files, parse_theme
from screenshots import demo_app

THEMES = [parse_theme(f.read_text(encoding="utf-8")).name for f in bundled_theme_files()]


async def _guest_selected(pilot) -> None:
    await ready(pilot.app, pilot)
    await select(pilot.app, pilot, "web-frontend-01")


@pytest.mark.parametrize("theme", THEMES)
def test_theme(snap_compare, theme):
    assert snap_compare(demo_app(theme), terminal_size=(100, 30), run_before=_guest_selected)


def test_sixteen_colour_terminal(snap_compare):
    """What TERM=xterm shows: balloon-16 (picked by itself there), cut to 16 colours."""
    assert snap_compare(
        demo_app("balloon-16", colours="16"), terminal_size=(80, 24), run_before=_guest_selected
    )


def test_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # as the operator's shell would have it
    app = demo_app("balloon-dark", colours="none")
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=_guest_selected)


def test_sixteen_colour_help(snap_compare):
    async def run_before(pilot) -> None:
        await ready(pilot.app, pilot)
        await pilot.press("question_mark")

    assert snap_compare(
        demo_app("balloon-16", colours="16"), terminal_size=(80, 24), run_before=run_before
    )
