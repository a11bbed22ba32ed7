"""`D`: the balloon device's settings for the selected guest, read from libvirt, changed in a
dialog, confirmed, written (config: next boot; the stats period live too) and audited; or
nowhere with a reason: read-only, escape, a bad period, a guest that vanished or stopped while
the dialog was open. Real test-driver connections, changed on the app's own connection."""

from __future__ import annotations

import json

import libvirt
import pytest
from nodefiles import GIB, SHUTOFF, DomainSpec
from textual.widgets import Checkbox, Input
from tuihelpers import dom, emit, host, make_app, plain, ready, select, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.balloonknobs import BalloonKnobs
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.knobs import BalloonKnobsScreen, ConfirmKnobsScreen
from balloon_tui.virt import domainxml

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("off", max_kib=4 * GIB, runstate=SHUTOFF, free_page_reporting=True),
    DomainSpec("bare", balloon="none"),
]
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE


def _conn(app, uri):
    return app.fleet.workers[uri].session.connection()


def _knobs(app, uri, name, flags) -> BalloonKnobs:
    xml = _conn(app, uri).lookupByName(name).XMLDesc(flags)
    return BalloonKnobs.of(domainxml.balloon_device(domainxml.parse(xml)))


def _notes(app) -> str:
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


def _spy(app) -> list[object]:
    sent: list[object] = []
    original = app.fleet.set_knobs
    app.fleet.set_knobs = lambda request, done: (sent.append(request), original(request, done))
    return sent


async def _open(app, pilot) -> BalloonKnobsScreen:
    await pilot.press("D")
    await until(lambda: isinstance(app.screen, BalloonKnobsScreen), what="the settings dialog")
    await pilot.pause()
    assert isinstance(app.screen, BalloonKnobsScreen)
    return app.screen


async def test_the_dialog_confirms_and_stores_in_the_config_and_live(node, tmp_path):
    uri = node(SPECS)
    path = tmp_path / "audit.jsonl"
    app = make_app([uri], refresh=3600.0, fleet_options={"audit": AuditLog(path)})
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        screen = await _open(app, pilot)
        facts = plain(screen.query_one("#knobs-facts")).splitlines()
        assert facts == [
            "virtio balloon · running · persistent",
            "now:    autodeflate off · free page reporting off · stats 2 s",
            "config: autodeflate off · free page reporting off · stats 2 s",
        ]
        assert "takes effect at the next boot" in plain(screen.query_one("#knobs-note"))
        await pilot.press("space")  # autodeflate has the focus
        screen.query_one("#knobs-fpr", Checkbox).value = True
        screen.query_one("#knobs-period", Input).value = "5"
        await pilot.pause()
        await pilot.click("#knobs-store")
        await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), what="the confirmation")
        await pilot.pause()
        assert plain(app.screen.query_one("#knobs-changes")).splitlines() == [
            "autodeflate: off → on (config: takes effect at the next boot)",
            "free page reporting: off → on (config: takes effect at the next boot)",
            "stats: every 2 s → every 5 s (config: takes effect at the next boot)",
            "stats: every 2 s → every 5 s (live: now)",
        ]
        await pilot.press("enter")
        stored = "alpha: balloon settings stored (config: next boot + live)"
        await until(lambda: stored in app.log_panel.lines_written, what="the result in the log")
        assert f"balloon settings: {stored}" in _notes(app)
        assert _knobs(app, uri, "alpha", INACTIVE) == BalloonKnobs(True, True, 5)
        assert _knobs(app, uri, "alpha", 0) == BalloonKnobs(False, False, 5)  # live: the period
        app.fleet.refresh()
        await until(
            lambda: (
                next(
                    r for r in app.rows.values() if r.domain.name == "alpha"
                ).domain.device.stats_period
                == 5
            ),
            what="the poller to read the new period",
        )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    knobs = [r for r in lines if r.get("action") == "balloon-settings"]
    assert [(r["phase"], r["source"], r["live_period"]) for r in knobs] == [
        ("attempt", "typed", 5),
        ("result", "typed", 5),
    ]
    assert knobs[1]["ok"] is True and knobs[1]["config"]["autodeflate"] is True


async def test_a_shut_off_guest_has_only_its_config(node):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "off")
        screen = await _open(app, pilot)
        assert not screen.query("#knobs-live")  # nothing runs: no live period to set
        assert screen.query_one("#knobs-fpr", Checkbox).value is True
        screen.query_one("#knobs-fpr", Checkbox).value = False
        await pilot.press("enter")  # the focused checkbox toggles; the input's enter stores
        screen.query_one("#knobs-period", Input).focus()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), what="the confirmation")
        await pilot.press("enter")
        stored = "off: balloon settings stored (config: next boot)"
        await until(lambda: stored in app.log_panel.lines_written, what="the result")
        assert _knobs(app, uri, "off", INACTIVE) == BalloonKnobs(True, False, 0)


async def test_cancel_in_the_confirmation_writes_nothing(node):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        screen.query_one("#knobs-autodeflate", Checkbox).value = True
        await pilot.click("#knobs-store")
        await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), what="the confirmation")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert sent == []
        assert "alpha: balloon settings cancelled; nothing written" in app.log_panel.lines_written
        assert _knobs(app, uri, "alpha", INACTIVE) == BalloonKnobs(False, False, 2)


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("x", "stats period: 'x' is not whole seconds (0: off)"),
        ("3601", "the stats period must be 0 (off) to 3600 seconds, not 3601"),
        ("2", "nothing to change"),
    ],
    ids=["not-a-number", "too-long", "unchanged"],
)
async def test_a_bad_or_unchanged_period_stays_in_the_dialog(node, period, said):
    app = make_app([node(SPECS)], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        screen.query_one("#knobs-period", Input).value = period
        await pilot.click("#knobs-store")
        await pilot.pause(0.2)
        assert app.screen is screen and sent == []
        assert said in plain(screen.query_one("#knobs-check"))


async def test_read_only_refuses_without_a_dialog(node):
    app = make_app([node(SPECS)], readonly=True, refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("D")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, BalloonKnobsScreen)
        assert "read-only: balloon-tui does not change balloon settings here" in _notes(app)
        assert "refused (balloon settings): the connection is read-only" in (
            app.log_panel.lines_written
        )


async def test_a_guest_without_a_balloon_opens_no_dialog(node):
    app = make_app([node(SPECS)], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "bare")
        await pilot.press("D")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, BalloonKnobsScreen)
        assert "bare: balloon settings not set: bare has no balloon device" in _notes(app)


def _vanish(conn, name) -> None:
    domain = conn.lookupByName(name)
    domain.destroy()
    domain.undefine()


def _stop(conn, name) -> None:
    conn.lookupByName(name).destroy()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_vanish, "alpha is gone (undefined or migrated): nothing was written"),
        (_stop, "alpha is now shut off: nothing was written"),
    ],
    ids=["vanished", "stopped"],
)
async def test_a_guest_that_changed_while_the_dialog_was_open_is_not_written(node, change, said):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        screen.query_one("#knobs-autodeflate", Checkbox).value = True
        await pilot.click("#knobs-store")
        await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), what="the confirmation")
        before = len(app._notifications)
        change(_conn(app, uri), "alpha")
        app.fleet.refresh()
        await until(lambda: len(app._notifications) > before, what="the app to see it")
        await pilot.press("enter")
        await until(
            lambda: f"alpha: balloon settings not set: {said}" in _notes(app), what="the refusal"
        )
        assert f"refused (balloon settings): {said}" in app.log_panel.lines_written
        assert sent == []


async def test_a_fleet_that_cannot_read_settings_says_so(fake):
    """The protocol's default (a fleet without read_knobs): the reason, and no dialog."""
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1, actual=2 * GIB)))
        await select(app, pilot, "alpha")
        await pilot.press("D")
        said = "this connection cannot read balloon settings"
        await until(lambda: said in _notes(app), what="the reason")
        assert not isinstance(app.screen, BalloonKnobsScreen)


async def test_a_transient_guest_sets_only_its_live_period(node):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        conn = _conn(app, uri)
        xml = conn.lookupByName("off").XMLDesc(INACTIVE)
        conn.lookupByName("off").undefine()
        conn.createXML(xml, 0)  # running now, and transient: no config
        app.fleet.refresh()
        await until(
            lambda: any(
                r.domain.name == "off" and r.domain.state.is_active for r in app.rows.values()
            ),
            what="the guest running",
        )
        await select(app, pilot, "off")
        screen = await _open(app, pilot)
        assert screen.query_one("#knobs-autodeflate", Checkbox).disabled
        assert screen.query_one("#knobs-fpr", Checkbox).disabled
        assert "transient (no config)" in plain(screen.query_one("#knobs-facts"))
        assert "a transient guest has no config" in plain(screen.query_one("#knobs-note"))
        await pilot.press("backspace", "3", "enter")  # the period has the focus
        await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), what="the confirmation")
        assert plain(app.screen.query_one("#knobs-changes")) == "stats: off → every 3 s (live: now)"
        await pilot.press("enter")
        stored = "off: balloon settings stored (live)"
        await until(lambda: stored in app.log_panel.lines_written, what="the result")
        assert _knobs(app, uri, "off", 0) == BalloonKnobs(False, True, 3)
