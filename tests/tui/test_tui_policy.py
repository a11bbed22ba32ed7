"""`o`: a guest's regulator policy typed in a dialog lands in its domain metadata (read back
through the next snapshot), or nowhere with a reason: bad values, escape, read-only, a guest
that vanished, was replaced or went offline while the dialog was open. Real test-driver
connections, guests changed on the app's own connection (each test:/// open has its own state).
"""

from __future__ import annotations

import json

import libvirt
import pytest
from nodefiles import GIB, MIB, SHUTOFF, DomainSpec, domain_xml
from textual.widgets import Input
from tuihelpers import dom, emit, host, make_app, plain, ready, select, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.guestpolicy import PolicyRequest
from balloon_tui.core.model import DEFAULT_GUEST_POLICY, GuestPolicy, HostStatus
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.policy import PolicyScreen

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=8 * GIB, current_kib=8 * GIB),
]


def _conn(app, uri):
    return app.fleet.workers[uri].session.connection()


def _notes(app) -> str:
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


def _spy(app) -> list[PolicyRequest]:
    """Every request that reaches the Fleet (and is still sent on)."""
    sent: list[PolicyRequest] = []
    original = app.fleet.set_policy
    app.fleet.set_policy = lambda request, done: (sent.append(request), original(request, done))
    return sent


def _policy(app, name: str) -> GuestPolicy:
    return next(r.domain.policy for r in app.rows.values() if r.domain.name == name)


async def _open(app, pilot) -> PolicyScreen:
    await pilot.press("o")
    await until(lambda: isinstance(app.screen, PolicyScreen), what="the policy dialog")
    assert isinstance(app.screen, PolicyScreen)
    return app.screen


def _fill(screen: PolicyScreen, **values: str) -> None:
    for field, value in values.items():
        screen.query_one(f"#policy-{field}", Input).value = value


async def test_the_typed_policy_lands_in_the_metadata_and_the_log(node):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        # Typed at once after `o`: the keys land in the dialog's first input (min).
        await pilot.press("o", "1", "G", "tab", "3", ".", "5", "G", "tab", "5", "0", "0")
        await until(lambda: isinstance(app.screen, PolicyScreen), what="the policy dialog")
        await pilot.pause()
        check = plain(app.screen.query_one("#policy-check"))
        assert check.splitlines() == [
            "= min 1.00G · max 3.50G · shares 500",
            "min is below the safety floor 1.20G: the floor holds",
        ]
        await pilot.press("enter")
        await until(lambda: len(sent) == 1, what="the request")
        wanted = GuestPolicy(GIB, 3584 * MIB, 500)
        assert (sent[0].policy, sent[0].previous, sent[0].name) == (
            wanted,
            DEFAULT_GUEST_POLICY,
            "alpha",
        )
        stored = "alpha: policy stored (live + config): min 1.00G · max 3.50G · shares 500"
        await until(lambda: stored in app.log_panel.lines_written, what="the result in the log")
        assert "regulator policy: alpha: policy stored (live + config)" in _notes(app)
        app.fleet.refresh()  # the poller reads it back from the XML
        await until(lambda: _policy(app, "alpha") == wanted, what="the policy in the snapshot")
        await pilot.pause()
        assert "policy: min 1.00G · max 3.50G · shares 500" in plain(
            app.panel.query_one("#panel-title")
        )
        # In the config too: a fresh look at the inactive XML through libvirt.
        xml = _conn(app, uri).lookupByName("alpha").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert f"min-kib='{GIB}'" in xml.replace('"', "'") and "shares='500'" in xml.replace(
            '"', "'"
        )


async def test_the_dialog_shows_the_stored_values_and_their_defaults(node):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        screen = await _open(app, pilot)
        _fill(screen, max="3G", shares="0")
        await pilot.press("enter")
        app.fleet.refresh()
        await until(lambda: _policy(app, "alpha") == GuestPolicy(None, 3 * GIB, 0), what="it")
        screen = await _open(app, pilot)
        values = [screen.query_one(f"#policy-{f}", Input).value for f in ("min", "max", "shares")]
        assert values == ["", "3 GiB", "0"]
        stored = plain(screen.query_one("#policy-stored"))
        assert stored == "stored: min floor · max 3.00G · shares 0 (left alone)"
        notes = [plain(s) for s in screen.query(".policy-default")]
        assert notes[0].startswith("blank: the safety floor (") and notes[0].endswith(" now)")
        assert notes[1:] == ["blank: the maximum 4.00G", "blank: 1000 · 0: leave the guest alone"]
        # Enter without a change stores nothing again.
        sent = _spy(app)
        await pilot.press("enter")
        await until(lambda: "nothing to store" in _notes(app), what="the note")
        assert sent == []


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"min": "lots"}, "min: not a size: 'lots'"),
        ({"max": "8G"}, "max 8.00 GiB is above the maximum 4.00 GiB"),
        ({"min": "3G", "max": "1G"}, "min 3.00 GiB is above max 1.00 GiB"),
        ({"min": "512K"}, "min 512 KiB is below the minimum 1.00 MiB"),
        ({"shares": "-1"}, "shares: '-1' is not a whole number from 0 to 100000"),
        ({"shares": "100001"}, "shares must be 0 to 100000, not 100001"),
        ({"shares": "1.5"}, "shares: '1.5' is not a whole number"),
    ],
    ids=[
        "not-a-size",
        "above-maximum",
        "min-above-max",
        "below-minimum",
        "negative",
        "too-many",
        "fraction",
    ],
)
async def test_a_bad_value_is_refused_in_the_dialog_and_nothing_is_sent(node, values, said):
    app = make_app([node(SPECS)], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        _fill(screen, **values)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is screen  # still open, saying why
        assert said in plain(screen.query_one("#policy-check"))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PolicyScreen)
        app.fleet.refresh()
        await pilot.pause(0.3)
        assert sent == [] and _policy(app, "alpha") == DEFAULT_GUEST_POLICY


async def test_escape_sends_nothing(node):
    app = make_app([node(SPECS)], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        _fill(screen, min="1G", shares="5")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, PolicyScreen)
        assert sent == [] and not any("policy" in line for line in app.log_panel.lines_written)


async def test_read_only_refuses_once_without_a_dialog(node):
    app = make_app([node(SPECS)], readonly=True, refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("o")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, PolicyScreen)
        said = "read-only: balloon-tui does not change regulator policies here"
        assert _notes(app).count(said) == 1
        refused = [line for line in app.log_panel.lines_written if line.startswith("refused")]
        assert refused == ["refused (policy): the connection is read-only"]


def _vanish(app, uri, name) -> None:
    domain = _conn(app, uri).lookupByName(name)
    domain.destroy()
    domain.undefine()


def _replace(app, uri, name) -> None:
    """Another guest under the same UUID (the same key), running."""
    conn = _conn(app, uri)
    old = conn.lookupByName(name)
    uuid = old.UUIDString()
    old.destroy()
    old.undefine()
    spec = DomainSpec("impostor", max_kib=4 * GIB, current_kib=2 * GIB)
    conn.defineXML(domain_xml(spec, uuid, runstate=False)).create()


def _stop(app, uri, name) -> None:
    _conn(app, uri).lookupByName(name).destroy()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_vanish, "alpha is gone (undefined or migrated): nothing was written"),
        (_replace, "alpha is now called impostor: nothing was written"),
        (_stop, "alpha is now shut off: nothing was written"),
    ],
)
async def test_a_guest_that_changed_while_the_dialog_was_open_is_not_written(node, change, said):
    uri = node(SPECS)
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        sent = _spy(app)
        screen = await _open(app, pilot)
        _fill(screen, min="1G")
        before = len(app._notifications)
        change(app, uri, "alpha")
        app.fleet.refresh()
        await until(lambda: len(app._notifications) > before, what="the app to see it")
        await pilot.press("enter")
        await until(lambda: f"alpha: policy not set: {said}" in _notes(app), what="the refusal")
        assert f"refused (policy): {said}" in app.log_panel.lines_written
        await pilot.pause(0.2)
        assert sent == []
        assert all(r.domain.policy == DEFAULT_GUEST_POLICY for r in app.rows.values())


async def test_a_guest_whose_host_went_offline_is_not_written(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        alpha = dom("alpha", 1, actual=2 * GIB)
        await emit(app, pilot, host(alpha))
        await select(app, pilot, "alpha")
        screen = await _open(app, pilot)
        _fill(screen, shares="10")
        lost = host(alpha, taken_at=1001.0, status=HostStatus.DISCONNECTED, error="lost")
        await emit(app, pilot, lost)
        await pilot.press("enter")
        await pilot.pause()
        assert "alpha: its host is disconnected — retrying; nothing can be set now" in _notes(app)
        assert not any("storing policy" in line for line in app.log_panel.lines_written)


async def test_a_fleet_that_cannot_store_policies_says_so(fake):
    """The protocol's default (a fleet without set_policy): the error is logged and shown."""
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1, actual=2 * GIB)))
        await select(app, pilot, "alpha")
        screen = await _open(app, pilot)
        _fill(screen, shares="10")
        await pilot.press("enter")
        said = "this connection cannot store regulator policies"
        await until(lambda: f"alpha: policy not stored: {said}" in _notes(app), what="the error")
        assert app.log_panel.lines_written[-2:] == [
            "alpha: storing policy min floor · max 4.00G · shares 10",
            f"alpha: policy not stored: {said}",
        ]


async def test_no_guest_selected_opens_no_dialog(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host())
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, PolicyScreen)
        assert "select a guest first" in _notes(app)


async def test_a_shut_off_guest_keeps_it_in_its_config_audited_from_the_palette(node, tmp_path):
    path = tmp_path / "audit.jsonl"
    specs = [DomainSpec("off", max_kib=4 * GIB, current_kib=2 * GIB, runstate=SHUTOFF)]
    app = make_app([node(specs)], refresh=3600.0, fleet_options={"audit": AuditLog(path)})
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "off")
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one(Input).value = "regulator options"
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, PolicyScreen), what="the dialog")
        _fill(app.screen, max="2G")
        await pilot.press("enter")
        stored = "off: policy stored (config): min floor · max 2.00G · shares 1000"
        await until(lambda: stored in app.log_panel.lines_written, what="the result")
        app.fleet.refresh()
        await until(lambda: _policy(app, "off") == GuestPolicy(None, 2 * GIB), what="read back")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    policy = [r for r in lines if r["action"] == "policy"]
    assert [(r["phase"], r["source"], r["max_kib"]) for r in policy] == [
        ("attempt", "typed", 2 * GIB),
        ("result", "typed", 2 * GIB),
    ]
    assert policy[1]["ok"] is True and policy[1]["flags"] == libvirt.VIR_DOMAIN_AFFECT_CONFIG


async def test_a_host_offline_when_the_key_is_pressed_opens_no_dialog(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        alpha = dom("alpha", 1, actual=2 * GIB)
        await emit(app, pilot, host(alpha))
        await select(app, pilot, "alpha")
        await emit(app, pilot, host(alpha, taken_at=1001.0, status=HostStatus.DISCONNECTED))
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, PolicyScreen)
        assert "refused (policy): alpha's host is disconnected — retrying" in (
            app.log_panel.lines_written
        )
