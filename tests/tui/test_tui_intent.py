"""Intent is bound to a guest: a write goes to the guest the operator acted on, as it was
then, or nowhere (with a note). No key writes while a drag holds the slider; a key that
would not move the target sends nothing. Real test-driver connections; guests are changed
on the app's own connection (each test:/// open has its own state)."""

from __future__ import annotations

import libvirt
import pytest
from nodefiles import GIB, MIB, DomainSpec, domain_xml
from textual import events
from textual.widgets import Input
from tuihelpers import TRUSTING, dom, emit, host, make_app, on_track, plain, ready, select, until

from balloon_tui.core.model import HostStatus
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen
from balloon_tui.tui.widgets.slider import HANDLE, BalloonSlider

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=8 * GIB, current_kib=8 * GIB),
    DomainSpec("tiny", max_kib=GIB, current_kib=MIB),
]


def _conn(app, uri):
    return app.fleet.workers[uri].session.connection()


def _notes(app) -> str:
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


async def _open_entry(app, pilot, value: str) -> None:
    await pilot.press("t")
    await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
    app.screen.query_one(Input).value = value


# -- no write while a drag is in progress ------------------------------------------------------
DURING_DRAG = [
    "right",
    "shift+right",
    "end",
    "home",
    "enter",
    "minus",
    "plus",
    "underscore",
    "equals_sign",
    "u",
    "t",
]


async def test_keys_during_a_drag_write_nothing_the_release_writes_once(node, memory_calls):
    """Issue 11.7: `→` while holding the handle used to write at once, then again on release."""
    app = make_app([node(SPECS)], floor=TRUSTING, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        requests = []
        original = app.fleet.request_target
        app.fleet.request_target = lambda r: (requests.append(r), original(r))[1]
        start = slider.x_of(slider.value)
        end = start + 5
        await pilot.mouse_down(slider, offset=on_track(slider, start))
        await pilot.hover(slider, offset=on_track(slider, end))
        for key in DURING_DRAG:
            await pilot.press(key)
            assert slider.dragging, key
            assert not isinstance(app.screen, TargetEntryScreen)
            assert slider.value == slider.value_at(end), key  # the mouse stays in control
        await pilot.pause(0.3)
        assert requests == [] and memory_calls.attempted() == []
        assert "the mouse holds the slider: let go to set the target" in _notes(app)
        await pilot.mouse_up(slider, offset=on_track(slider, end))
        await until(lambda: memory_calls.accepted("alpha"), what="the release's write")
        await pilot.pause(0.3)
        assert memory_calls.attempted() == [("alpha", slider.value_at(end), LIVE)]
        assert len(requests) == 1


# -- keys that would not move the target ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "keys", "where"),
    [
        (
            "beta",
            ["plus", "equals_sign", "slider:end", "slider:right", "slider:shift+right"],
            "maximum",
        ),
        ("tiny", ["minus", "underscore", "slider:left", "slider:shift+left"], "minimum"),
    ],
)
async def test_a_step_past_the_end_sends_nothing(node, memory_calls, name, keys, where):
    app = make_app([node(SPECS)], floor=TRUSTING, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, name)
        for key in keys:
            if key.startswith("slider:"):
                app.panel.slider.focus()
                key = key.removeprefix("slider:")
            else:
                app.table.focus()
            await pilot.press(key)
            await pilot.pause()
            last = list(app._notifications)[-1].message
            assert f"already at the {where}: nothing to send" in last, key
        app.panel.slider.focus()
        await pilot.press("enter")  # Enter applies the target under the handle, as asked
        await until(lambda: memory_calls.accepted(name), what="enter's write")
        await pilot.pause(0.2)
        assert len(memory_calls.attempted()) == 1


async def test_maximum_from_the_palette_at_the_maximum_sends_nothing(node, memory_calls):
    app = make_app([node(SPECS)], floor=TRUSTING, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "beta")
        await app.run_action("target_maximum", app.main)
        await pilot.pause(0.2)
        assert "beta: already at the maximum" in _notes(app)
    assert memory_calls.attempted() == []


# -- a filter that leaves no guest ---------------------------------------------------------------
async def test_a_filter_leaving_no_guest_empties_the_slider(node, memory_calls):
    app = make_app([node(SPECS)], floor=TRUSTING, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        assert HANDLE in plain(slider)
        await pilot.press("slash", *"zzz")
        await pilot.pause()
        assert app.table.row_count == 0 and app.selected is None
        assert HANDLE not in plain(slider) and "▲" not in plain(slider)
        assert slider.subject is None and slider.disabled
        assert "no guest selected" in plain(app.query_one("#panel-title"))
        await pilot.press("enter")  # back to the table: still no guest
        for key in ("equals_sign", "minus"):
            await pilot.press(key)
        slider.focus()
        await pilot.press("right", "end")
        await pilot.pause(0.2)
        assert "select a guest first" in _notes(app)
    assert memory_calls.attempted() == []


# -- a dialog's answer is for the guest it was opened on, as it was then ---------------------------
def _vanish(app, uri, name) -> None:
    dom = _conn(app, uri).lookupByName(name)
    dom.destroy()
    dom.undefine()


def _stop(app, uri, name) -> None:
    _conn(app, uri).lookupByName(name).destroy()


def _replace(app, uri, name) -> None:
    """Another guest under the same UUID (the same key), running."""
    conn = _conn(app, uri)
    old = conn.lookupByName(name)
    uuid = old.UUIDString()
    old.destroy()
    old.undefine()
    conn.defineXML(
        domain_xml(
            DomainSpec("impostor", max_kib=4 * GIB, current_kib=2 * GIB), uuid, runstate=False
        )
    ).create()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_vanish, "alpha is gone (undefined or migrated): nothing was written"),
        (_stop, "alpha is now shut off: nothing was written"),
        (_replace, "alpha is now called impostor: nothing was written"),
    ],
)
async def test_typed_entry_for_a_guest_that_changed_writes_nothing(
    node, memory_calls, change, said
):
    uri = node(SPECS)
    app = make_app([uri], floor=TRUSTING, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await _open_entry(app, pilot, "3G")
        before = len(app._notifications)
        change(app, uri, "alpha")
        app.fleet.refresh()
        await until(lambda: len(app._notifications) > before, what="the app to see it")
        await pilot.press("enter")
        await until(lambda: said in _notes(app), what="the refusal")
        assert any(said in line for line in app.log_panel.lines_written)
        app.fleet.refresh()
        await pilot.pause(0.3)
    assert memory_calls.attempted() == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_vanish, "alpha is gone (undefined or migrated): nothing was written"),
        (_stop, "alpha is now shut off: nothing was written"),
    ],
)
async def test_confirming_for_a_guest_that_changed_writes_nothing(node, memory_calls, change, said):
    uri = node([DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB)])  # no stats: asks
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("minus")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        before = len(app._notifications)
        change(app, uri, "alpha")
        app.fleet.refresh()
        await until(lambda: len(app._notifications) > before, what="the app to see it")
        await pilot.press("tab", "enter")  # "set anyway"
        await until(lambda: said in _notes(app), what="the refusal")
        app.fleet.refresh()
        await pilot.pause(0.3)
    assert memory_calls.attempted() == []


async def test_typed_entry_for_a_guest_whose_host_went_away_writes_nothing(fake):
    app = create_app(fake.factory, log_clock=False, floor=TRUSTING)
    async with app.run_test(size=(100, 30)) as pilot:
        alpha = dom("alpha", 1, actual=2 * GIB)
        await emit(app, pilot, host(alpha, dom("beta", 2)))
        await select(app, pilot, "alpha")
        await _open_entry(app, pilot, "3G")
        await emit(
            app,
            pilot,
            host(
                alpha, dom("beta", 2), taken_at=1001.0, status=HostStatus.DISCONNECTED, error="lost"
            ),
        )
        await pilot.press("enter")
        await pilot.pause()
        assert "alpha: its host is disconnected" in _notes(app)
        assert "nothing can be set now" in _notes(app)
        assert app.selected == alpha.key  # its guests are unknown, not gone
        assert fake.fleet.requests == []


# -- a key or a release right after the cursor moved, before the panel caught up ------------------
async def test_a_key_right_after_a_cursor_move_is_for_the_new_guest(fake):
    app = create_app(fake.factory, log_clock=False, floor=TRUSTING)
    async with app.run_test(size=(100, 30)) as pilot:
        a, b = dom("a", 1, actual=2 * GIB), dom("b", 2, actual=2 * GIB)
        await emit(app, pilot, host(a, b))
        assert app.selected == a.key
        # Both keys queued at once (a fast typist): `=` used to reach `a`, whose Selected
        # message had not yet been replaced by b's.
        app.post_message(events.Key("down", None))
        app.post_message(events.Key("equals_sign", "="))
        await pilot.pause(0.2)
        assert [r.key for r in fake.fleet.requests] == [b.key]
        assert app.panel.slider.subject == b.key


async def test_a_slider_commit_for_a_guest_no_longer_chosen_writes_nothing(fake):
    app = create_app(fake.factory, log_clock=False, floor=TRUSTING)
    async with app.run_test(size=(100, 30)) as pilot:
        a, b = dom("a", 1, actual=2 * GIB), dom("b", 2, actual=2 * GIB)
        await emit(app, pilot, host(a, b))
        slider = app.panel.slider
        assert slider.subject == a.key
        app.table.move_cursor(row=1)  # b chosen; the panel has not caught up yet
        slider.post_message(BalloonSlider.Committed(slider, 3 * GIB, released=True))
        await pilot.pause(0.2)
        assert fake.fleet.requests == []
        assert "another guest was chosen in the table meanwhile" in _notes(app)
        assert app.selected == b.key and slider.subject == b.key
