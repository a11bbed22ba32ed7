"""The safety floor: every write path below it asks first, Cancel is the default, and a
confirmed write goes out forced (and is audited so). Real test-driver connections.

alpha: 256 MiB of 2 GiB, the test driver says it uses half (128 MiB): floor 256 MiB.
"""

from __future__ import annotations

import json

import libvirt
import pytest
from nodefiles import GIB, MIB, DomainSpec
from textual.widgets import Button, Input, Static
from tuihelpers import make_app, on_track, plain, ready, select, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [
    DomainSpec("alpha", max_kib=2 * GIB, current_kib=256 * MIB, stats_period=2),
    DomainSpec("nostats", max_kib=2 * GIB, current_kib=GIB),
]
FLOOR = 256 * MIB  # 128 MiB used + the 128 MiB minimum margin


async def _trigger(app, pilot, path: str) -> int | None:
    """Ask for a target below alpha's floor through `path`; the KiB it asks for."""
    slider = app.panel.slider
    if path == "minus":
        await pilot.press("minus")
        return 192 * MIB
    if path == "underscore":
        await pilot.press("underscore")
        return MIB  # clamped to the slider's minimum
    if path == "slider-left":
        slider.focus()
        await pilot.press("left")
        return 192 * MIB
    if path == "typed":
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        app.screen.query_one(Input).value = "100M"
        await pilot.press("enter")
        return 100 * MIB
    if path in ("drag", "click"):
        start = slider.x_of(slider.value) if path == "drag" else 1
        await pilot.mouse_down(slider, offset=on_track(slider, start))
        if path == "drag":
            for x in (start - 1, start // 2, 1):
                await pilot.hover(slider, offset=on_track(slider, x))
        value = slider.value_at(1)
        await pilot.mouse_up(slider, offset=on_track(slider, 1))
        return value
    if path == "palette":
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one(Input).value = "lower the target by 64"
        await until(
            lambda: (
                "64 MiB" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
            ),
            what="the hit",
        )
        await pilot.press("enter")
        return 192 * MIB
    raise AssertionError(path)


PATHS = ["minus", "underscore", "slider-left", "typed", "drag", "click", "palette"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_path_below_the_floor_asks_first(node, memory_calls, tmp_path, path):
    audit = tmp_path / "audit.jsonl"
    app = make_app([node(SPECS)], fleet_options={"audit": AuditLog(audit)})
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        assert app.panel.slider.floor == FLOOR  # the slider draws the policy's floor

        # 1. Asked; Cancel has the focus, so Enter (or Escape) cancels; nothing is written.
        wanted = await _trigger(app, pilot, path)
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        screen = app.screen
        assert screen.query_one("#cancel", Button).has_focus
        reason = plain(screen.query_one("#confirm-reason", Static))
        assert "alpha uses 128 MiB; its safety floor is 256 MiB" in reason
        assert "swap" in reason or "OOM" in reason
        assert screen.target_kib == wanted
        await pilot.press("enter" if PATHS.index(path) % 2 else "escape")
        await until(lambda: not isinstance(app.screen, ConfirmFloorScreen), what="cancel")
        assert app.panel.slider.value == 256 * MIB  # snapped back to the target in force
        assert not app.panel.slider.dragging
        app.fleet.refresh()
        await pilot.pause(0.1)
        assert memory_calls.attempted() == []
        assert any("cancelled" in line for line in app.log_panel.lines_written)

        # 2. Asked again; "set anyway" sends it, forced.
        app.table.focus()
        wanted = await _trigger(app, pilot, path)
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        await pilot.press("tab", "enter")
        await until(lambda: memory_calls.accepted("alpha"), what="the forced write")
        assert memory_calls.attempted() == [("alpha", wanted, LIVE)]
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["phase"], r["forced"], r["target_kib"]) for r in records] == [
        ("attempt", True, wanted),
        ("result", True, wanted),
    ]


async def test_above_the_floor_nothing_asks(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("plus")
        await until(lambda: memory_calls.accepted("alpha"), what="+64M")
        app.panel.slider.focus()
        await pilot.press("end")
        await until(lambda: len(memory_calls.accepted("alpha")) == 2, what="end")
        assert not isinstance(app.screen, ConfirmFloorScreen)
        assert memory_calls.attempted() == [("alpha", 320 * MIB, LIVE), ("alpha", 2 * GIB, LIVE)]


async def test_without_guest_stats_any_shrink_asks_and_says_why(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "nostats")
        assert app.panel.slider.floor is None
        assert "guest stats off" in plain(app.query_one("#panel-title"))
        await pilot.press("minus")  # 64 MiB down: the smallest shrink still asks
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        screen = app.screen
        assert "no safety floor known for nostats" in str(screen.query_one("Vertical").border_title)
        reason = plain(screen.query_one("#confirm-reason", Static))
        assert "guest stats are off" in reason and "unknown" in reason
        await pilot.press("escape")
        await pilot.pause()
        # Home goes to the floor: there is none, so it says so and writes nothing.
        app.panel.slider.focus()
        await pilot.press("home")
        await pilot.pause()
        assert any("no safety floor known" in n.message for n in app._notifications)
        # Growing never asks.
        await pilot.press("plus")
        await until(lambda: memory_calls.accepted("nostats"), what="+64M")
        assert memory_calls.attempted() == [("nostats", GIB + 64 * MIB, LIVE)]


async def test_undo_goes_back_through_the_same_checks(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "alpha")
        await pilot.press("u")
        await pilot.pause()
        assert any("nothing to undo" in n.message for n in app._notifications)
        await pilot.press("plus", "plus")  # 256M -> 320M -> 384M (our own targets)
        await until(lambda: len(memory_calls.accepted("alpha")) == 2, what="two steps")
        await until(lambda: app.rows[key].domain.actual_kib == 384 * MIB, what="actual 384M")
        await pilot.press("u")  # back to 320M: above the floor (now 320M), no question
        await until(lambda: len(memory_calls.accepted("alpha")) == 3, what="undo 1")
        assert memory_calls.accepted("alpha")[-1] == (320 * MIB, LIVE)
        # Grow far, then undo a long way down: below the floor, so it asks.
        app.query_one("#filter").value = ""
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        app.screen.query_one(Input).value = "1G"
        await pilot.press("enter")
        await until(lambda: app.rows[key].domain.actual_kib == GIB, what="actual 1G")
        await pilot.press("u")  # 1G -> 320M: the floor at 1 GiB is 640 MiB
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        await pilot.press("escape")  # cancelled: the undo stays possible
        await pilot.pause()
        assert len(memory_calls.accepted("alpha")) == 4
        await pilot.press("u")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="asked again")
        await pilot.press("tab", "enter")
        await until(lambda: len(memory_calls.accepted("alpha")) == 5, what="undo 2")
        assert memory_calls.accepted("alpha")[-1] == (320 * MIB, LIVE)
        await pilot.press("u")  # 320M -> 256M, the first target: below the floor again
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="asked")
        await pilot.press("tab", "enter")
        await until(lambda: len(memory_calls.accepted("alpha")) == 6, what="undo 3")
        assert memory_calls.accepted("alpha")[-1] == (256 * MIB, LIVE)
        await pilot.press("u")
        await pilot.pause()
        assert len(memory_calls.accepted("alpha")) == 6  # the stack is empty now
