"""Pictures of the main screen (bundled demo), the help and the typed entry.

Deterministic: the demo is a test-driver node (no stats clock), one poll only (refresh of
an hour), the first snapshot is applied before the picture, the input cursor does not
blink. Update with `pytest tests/tui --snapshot-update` after looking at the report.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input
from tuihelpers import until

import balloon_tui
import screenshots
from balloon_tui.tui import BalloonApp

DEMO = Path(balloon_tui.__file__).resolve().parent / "demo" / "demo.xml"


def demo_app() -> BalloonApp:
    return screenshots.demo_app()  # the pictures' demo: the same data, its poll time pinned


async def _ready(pilot) -> None:
    app = pilot.app
    await asyncio.wait_for(app.ready.wait(), 10)
    await pilot.pause()


def _select(app: BalloonApp, name: str) -> None:
    index = next(
        i for i, key in enumerate(app.table.ordered_keys) if app.rows[key].domain.name == name
    )
    app.table.move_cursor(row=index)


def test_main_screen_80x24(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_ready)


def test_main_screen_120x40_after_a_step(snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await _ready(pilot)
        _select(app, "web-frontend-02")
        await pilot.pause()
        await pilot.press("underscore")  # 4 GiB -> 3.5 GiB, written to the test driver
        key = app.selected
        await until(
            lambda: app.rows[key].domain.target_kib == 3584 * 1024 and not app.pending.target(key),
            what="the write to come back",
        )
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def test_main_screen_wide_160x48(snap_compare):
    async def run_before(pilot) -> None:
        await _ready(pilot)
        _select(pilot.app, "db-primary")
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(160, 48), run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot) -> None:
        await _ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(100, 40), run_before=run_before)


def _typing_a_target(text: str):
    """web-frontend-01 selected, `t` pressed, `text` typed into the entry dialog."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await _ready(pilot)
        _select(app, "web-frontend-01")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*text)
        await pilot.pause()

    return run_before


def test_typed_entry_dialog_with_an_error(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_typing_a_target("1.5Q"))


def test_typed_entry_dialog_with_a_value(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=_typing_a_target("1.5G"))
