"""Help lists every key; the command palette offers every action; the keyboard is enough."""

from __future__ import annotations

import libvirt
from nodefiles import GIB, DomainSpec
from textual.command import CommandPalette
from tuihelpers import make_app, plain, ready, select, until

from balloon_tui.tui.app import BalloonApp
from balloon_tui.tui.commands import BalloonCommands, palette_commands
from balloon_tui.tui.keys import APP_KEYS, SLIDER_KEYS
from balloon_tui.tui.screens.help import HelpScreen
from balloon_tui.tui.screens.main import MainScreen
from balloon_tui.tui.widgets.slider import BalloonSlider

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=2 * GIB, stats_period=2),
]


def test_every_app_binding_comes_from_the_key_table_and_has_an_action():
    # "app." keys are the App's (every screen); the rest are the main screen's, whose
    # actions the command palette runs too.
    bound = {b.key: b for b in [*BalloonApp.BINDINGS, *MainScreen.BINDINGS]}  # type: ignore[union-attr]
    for key in APP_KEYS:
        assert key.key in bound
        assert bound[key.key].action == key.action
        owner = BalloonApp if key.action.startswith("app.") else MainScreen
        name = key.action.split("(")[0].removeprefix("app.")
        assert callable(getattr(owner, f"action_{name}", None)), key.action
    for _display, action in ((d, a) for _t, a, d in palette_commands()):
        owner = BalloonApp if action.startswith("app.") else MainScreen
        name = action.split("(")[0].removeprefix("app.")
        assert callable(getattr(owner, f"action_{name}", None)), action
    # The keys the brief names, with Textual's names for them.
    assert {
        "minus",
        "plus",
        "underscore",
        "equals_sign",
        "t",
        "p",
        "l",
        "q",
        "question_mark",
        "slash",
    } <= set(bound)
    slider_keys = {b.key for b in BalloonSlider.BINDINGS}  # type: ignore[union-attr]
    assert {"left", "right", "home", "end", "enter"} <= slider_keys


async def test_help_lists_every_key(node):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 60)) as pilot:
        await ready(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("Static"), width=90)
        for key in APP_KEYS:
            assert key.description in text, key.description
        for display, what in SLIDER_KEYS:
            assert display in text and what in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_offers_every_action_and_runs_it(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        provider = BalloonCommands(app.screen)
        found = [hit.text async for hit in provider.discover()]
        assert len(found) == len(palette_commands()) >= len(APP_KEYS)
        hits = [hit async for hit in provider.search("maximum")]
        [to_max] = [h for h in hits if h.text == "Set the target to the maximum"]
        await to_max.command()
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 4 * GIB, LIVE)]
        # And through the real palette, by typing.
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"show or hide the log")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(lambda: app.log_panel.display, what="the log to open")


async def test_keyboard_only_session(node, memory_calls):
    """Choose a guest, go to its slider, step it, come back, type a target: no mouse."""
    app = make_app([node(SPECS)])
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        assert app.focused is app.table
        await pilot.press("down")
        assert app.rows[app.selected].domain.name == "beta"
        await pilot.press("enter")
        assert app.focused is app.panel.slider
        await pilot.press("left")
        await until(lambda: memory_calls.accepted("beta"), what="the slider step")
        await pilot.press("shift+tab")
        assert app.focused is app.table
        await pilot.press("tab")
        assert app.focused is app.panel.slider
        await pilot.press("shift+tab", "up")
        assert app.rows[app.selected].domain.name == "alpha"
        await pilot.press("t", *"3G", "enter")
        await until(lambda: memory_calls.accepted("alpha"), what="the typed target")
        assert memory_calls.attempted() == [
            ("beta", 2 * GIB - 64 * 1024, LIVE),
            ("alpha", 3 * GIB, LIVE),
        ]
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
