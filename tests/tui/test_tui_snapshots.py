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
from balloon_tui.core.regulator import HostPlan, Proposal
from balloon_tui.tui import BalloonApp
from balloon_tui.tui.render import HostRegulation
from balloon_tui.tui.widgets.statusbar import StatusBar

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


# The regulator's word on the demo's guests, by name: (target GiB or None, reason, not
# responding). Hand-written: these pictures are about how proposals are drawn.
DEMO_PROPOSALS: dict[str, tuple[float | None, str, bool]] = {
    "analytics-warehouse-etl-nightly-batch-worker": (
        19.0,
        "shrink to 19.0 GiB: 10.0 GiB idle (p95 of 5 min), host over budget by 14.5 GiB; "
        "1.00 GiB this round",
        False,
    ),
    "build-runner": (
        5.7,
        "shrink to 5.70 GiB: 3.00 GiB idle (p95 of 5 min), host over budget "
        "by 14.5 GiB; 307 MiB this round",
        False,
    ),
    "cache-redis": (None, "no guest stats (is its virtio_balloon driver loaded?)", False),
    "db-primary": (None, "at its share, 48.0 GiB", False),
    "db-replica": (None, "paused: its balloon cannot move", False),
    "dns-small": (None, "at its share, 384 MiB", False),
    "legacy-no-balloon": (None, "no balloon device", False),
    "monitoring": (
        None,
        "not responding: asked 1.00 GiB, still at 1.50 GiB after 12 s; no further shrink",
        True,
    ),
    "staging-api": (None, "shut off: nothing to balloon", False),
    "web-frontend-01": (3.4, "grow to 3.40 GiB: swapping 12.0 MiB/s", False),
    "windows-desktop": (None, "no guest stats (is its virtio_balloon driver loaded?)", False),
}


def _show_proposals(app: BalloonApp, *, autopilot: bool) -> None:
    """What the regulator shows after a round: the table's column, the panel, the status."""
    proposals = {}
    for row in app.rows.values():
        target, reason, stuck = DEMO_PROPOSALS.get(row.domain.name, (None, "", False))
        if reason:
            kib = round(target * 1024 * 1024) if target is not None else None
            proposals[row.domain.key] = Proposal(row.domain.key, kib, reason, not_responding=stuck)
    uri = next(iter(app.main.hosts))
    actual = sum(r.domain.actual_kib for r in app.rows.values() if r.domain.state.is_active)
    change = sum(
        p.target_kib - app.rows[k].domain.actual_kib
        for k, p in proposals.items()
        if p.target_kib is not None
    )
    plan = HostPlan(120 * 1024 * 1024, actual, actual + change, change, 0, proposals)
    app.table.show(app.main.view.build_rows(proposals))
    app.main.show_panel()
    app.main.query_one(StatusBar).show_regulation(
        {uri: HostRegulation(plan, autopilot=autopilot, next_round_s=6.2 if autopilot else None)}
    )


def test_main_screen_80x24_with_proposals(snap_compare):
    async def run_before(pilot) -> None:
        await _ready(pilot)
        _show_proposals(pilot.app, autopilot=False)
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_120x40_with_proposals_and_the_autopilot(snap_compare):
    async def run_before(pilot) -> None:
        await _ready(pilot)
        _select(pilot.app, "web-frontend-01")
        _show_proposals(pilot.app, autopilot=True)
        await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)
