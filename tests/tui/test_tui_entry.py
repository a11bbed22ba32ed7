"""`t`: the typed entry accepts every parse_size form, shows errors inline, Esc cancels."""

from __future__ import annotations

import libvirt
import pytest
from nodefiles import GIB, MIB, DomainSpec
from textual.widgets import Input, Static
from tuihelpers import make_app, ready, select, shown_target, until

from balloon_tui.core.sizes import SizeError, parse_size
from balloon_tui.tui.screens.entry import TargetEntryScreen

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2)]


async def _open_entry(app, pilot) -> TargetEntryScreen:
    await ready(app, pilot)
    await select(app, pilot, "alpha")
    await pilot.press("t")
    await pilot.pause()
    assert isinstance(app.screen, TargetEntryScreen)
    return app.screen


async def test_typed_1_5g_writes_exactly_that(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_entry(app, pilot)
        await pilot.press(*"1.5G")
        assert "1.5 GiB" in str(screen.query_one("#entry-check", Static).render())
        await pilot.press("enter")
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 1536 * MIB, LIVE)]
        assert not isinstance(app.screen, TargetEntryScreen)
        await until(lambda: shown_target(app, "alpha").endswith("1.50G"), what="1.50G shown")


@pytest.mark.parametrize(
    ("text", "kib"),
    [
        ("1536M", 1536 * MIB),
        ("1572864K", 1536 * MIB),
        ("1.5GiB", 1536 * MIB),
        ("75%", 3 * GIB),
        ("1300", 1300 * MIB),
        (" 2 g ", 2 * GIB),
    ],
)
async def test_every_form_of_parse_size(node, memory_calls, text, kib):
    assert parse_size(text, 4 * GIB) == kib
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_entry(app, pilot)
        app.screen.query_one(Input).value = text
        await pilot.press("enter")
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", kib, LIVE)]


@pytest.mark.parametrize("text", ["lots", "1.5Q", "0", "120%", ""])
async def test_bad_sizes_show_the_size_error_inline(node, memory_calls, text):
    with pytest.raises(SizeError) as caught:
        parse_size(text, 4 * GIB)
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_entry(app, pilot)
        screen.query_one(Input).value = text
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # still open
        shown = str(screen.query_one("#entry-check", Static).render())
        assert str(caught.value) in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TargetEntryScreen)
    assert memory_calls.attempted() == []


async def test_above_the_maximum_is_refused_inline(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_entry(app, pilot)
        await pilot.press(*"5G", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert "5 GiB is above the maximum 4 GiB by 1 GiB" in str(
            screen.query_one("#entry-check").render()
        )
    assert memory_calls.attempted() == []


async def test_escape_cancels_without_a_write(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_entry(app, pilot)
        await pilot.press(*"1G", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, TargetEntryScreen)
        app.fleet.refresh()
        await pilot.pause(0.3)
    assert memory_calls.attempted() == []


async def test_below_the_floor_warns_then_asks_and_is_allowed(node, memory_calls):
    from balloon_tui.tui.screens.confirm import ConfirmFloorScreen

    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open_entry(app, pilot)  # uses 1 GiB: the floor is 1.2 GiB here
        await pilot.press(*"512M")
        assert "below the safety floor" in str(screen.query_one("#entry-check").render())
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        await pilot.press("tab", "enter")  # "set anyway"
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 512 * MIB, LIVE)]


async def test_typed_ahead_keys_land_in_the_entry(node, memory_calls):
    """A paste or a fast typist: `t1.5G⏎` arrives at once and still sets 1.5 GiB."""
    from textual import events

    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        for key, char in (
            ("t", "t"),
            ("1", "1"),
            ("full_stop", "."),
            ("5", "5"),
            ("G", "G"),
            ("enter", "\r"),
        ):
            app.post_message(events.Key(key, char))  # no pause in between
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 1536 * MIB, LIVE)]
