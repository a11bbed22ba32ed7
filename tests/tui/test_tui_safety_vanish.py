"""A guest that vanishes or stops while selected or mid-drag: a clear message, no crash, no
write; a write that reaches a vanished guest is a notification. The guests are destroyed
and undefined on the app's own libvirt connection (each test:/// open has its own state)."""

from __future__ import annotations

import libvirt
from nodefiles import GIB, DomainSpec
from tuihelpers import make_app, on_track, plain, ready, select, until

from balloon_tui.core.writes import WriteSource

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2),
]


def _conn(app, uri):
    return app.fleet.workers[uri].session.connection()


def _notes(app) -> str:
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


async def test_the_selected_guest_vanishes(node, memory_calls):
    uri = node(SPECS)
    app = make_app([uri])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        dom = _conn(app, uri).lookupByName("alpha")
        dom.destroy()
        await until(lambda: "is now shut off" in _notes(app), what="the stop")
        dom.undefine()
        await until(lambda: "alpha vanished" in _notes(app), what="the vanishing")
        assert "alpha is gone from test:" in _notes(app)
        assert app.selected is None  # cleared, not moved to the neighbour
        assert app.is_running
    assert memory_calls.attempted() == []


async def test_a_key_after_the_selected_guest_vanished_writes_nothing(node, memory_calls):
    """Issue 11.6: alpha vanishes under the operator's hands; `=` was meant for alpha, and
    used to grow beta (the cursor's new row) by 512 MiB."""
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        dom = _conn(app, uri).lookupByName("alpha")
        dom.destroy()
        dom.undefine()
        app.fleet.refresh()
        await until(lambda: "alpha vanished" in _notes(app), what="the vanishing")
        await pilot.pause()
        assert app.selected is None and app.table.selected is None
        title = plain(app.query_one("#panel-title"))
        assert "alpha is gone" in title and "choose a guest" in title
        slider = app.panel.slider
        assert slider.disabled and slider.subject is None and slider.maximum == 0
        for key in ("equals_sign", "plus", "minus", "u", "t"):
            await pilot.press(key)
        await pilot.pause(0.3)
        assert "alpha is gone: select a guest first" in _notes(app)
        assert app.selected is None  # a tick does not select the neighbour either
        app.fleet.refresh()
        await pilot.pause(0.3)
        assert app.selected is None
        # The operator chooses again: now a key writes, to the guest chosen.
        await pilot.press("down")
        assert app.rows[app.selected].domain.name == "beta"
        await pilot.press("equals_sign")
        await until(lambda: memory_calls.accepted("beta"), what="the write to beta")
    assert memory_calls.attempted() == [("beta", 3 * GIB + 512 * 1024, LIVE)]


async def test_vanishing_mid_drag_cancels_the_drag(node, memory_calls):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        start = slider.x_of(slider.value)
        await pilot.mouse_down(slider, offset=on_track(slider, start))
        await pilot.hover(slider, offset=on_track(slider, start + 6))
        assert slider.dragging
        dom = _conn(app, uri).lookupByName("alpha")
        dom.destroy()
        dom.undefine()
        app.fleet.refresh()
        await until(lambda: not slider.dragging, what="the drag to end")
        assert "the drag is cancelled, nothing was written" in _notes(app)
        await pilot.mouse_up(slider, offset=on_track(slider, start + 6))
        app.fleet.refresh()
        await pilot.pause(0.2)
        assert app.is_running
    assert memory_calls.attempted() == []


async def test_stopping_mid_drag_cancels_the_drag(node, memory_calls):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "beta")
        slider = app.panel.slider
        start = slider.x_of(slider.value)
        await pilot.mouse_down(slider, offset=on_track(slider, start))
        await pilot.hover(slider, offset=on_track(slider, start + 4))
        _conn(app, uri).lookupByName("beta").destroy()
        app.fleet.refresh()
        await until(lambda: not slider.dragging, what="the drag to end")
        assert "beta is now shut off" in _notes(app)
        assert "drag is cancelled" in _notes(app)
        await pilot.mouse_up(slider, offset=on_track(slider, start + 4))
        await pilot.pause(0.2)
    assert memory_calls.attempted() == []


async def test_a_write_to_a_vanished_guest_is_a_notification(node, memory_calls):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)  # the app has not seen it go yet
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "alpha")
        dom = _conn(app, uri).lookupByName("alpha")
        dom.destroy()
        dom.undefine()
        # In the same turn of the event loop: the app cannot have seen a snapshot since.
        assert app.main.writes.submit_target(key, 3 * GIB, WriteSource.KEY, detail="key +") is True
        await until(lambda: "no longer exists" in _notes(app), what="the refusal")
        assert "alpha: target not set" in _notes(app)
        assert app.is_running
    assert memory_calls.attempted() == []
