"""Guest stats off: the panel offers to arm them (`a`, the palette); --arm-stats does it for
every running balloon once; a driver that cannot says so. Real test-driver connections."""

from __future__ import annotations

import json

import libvirt
import pytest
from nodefiles import GIB, PAUSED, SHUTOFF, DomainSpec
from tuihelpers import make_app, plain, ready, select, until

from balloon_tui.core.audit import AuditLog

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [
    DomainSpec("quiet", max_kib=2 * GIB, stats_period=0),
    DomainSpec("chatty", max_kib=2 * GIB, stats_period=2),
    DomainSpec("off", max_kib=2 * GIB, runstate=SHUTOFF),
    DomainSpec("no-balloon", max_kib=GIB, balloon="none"),
    DomainSpec("napping", max_kib=GIB, runstate=PAUSED),
    DomainSpec("quiet-too", max_kib=GIB),
]


def _messages(app) -> str:
    return " | ".join(n.message for n in app._notifications)


async def test_a_arms_the_selected_guest_and_its_floor_appears(node, periods, tmp_path):
    audit = tmp_path / "audit.jsonl"
    app = make_app([node(SPECS)], fleet_options={"audit": AuditLog(audit)})
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "quiet")
        title = plain(app.query_one("#panel-title"))
        assert "guest stats off" in title and "a: arm them" in title
        assert app.panel.slider.floor is None
        await pilot.press("a")
        await until(lambda: app.rows[key].domain.used_kib is not None, what="guest stats")
        assert periods == [("quiet", 2, LIVE)]
        assert "quiet: guest stats armed (every 2 s)" in _messages(app)
        assert app.rows[key].domain.device.stats_period == 2
        await until(lambda: app.panel.slider.floor is not None, what="the floor")
        assert "guest stats off" not in plain(app.query_one("#panel-title"))
        # Once on, `a` just says so.
        await pilot.press("a")
        await pilot.pause()
        assert "on already (every 2 s)" in _messages(app)
        assert len(periods) == 1
    [attempt, result] = [json.loads(line) for line in audit.read_text().splitlines()]
    assert attempt["action"] == result["action"] == "stats-period"
    assert result["ok"] is True and result["automatic"] is False


@pytest.mark.parametrize(
    ("name", "words"), [("off", "shut off"), ("no-balloon", "no balloon device")]
)
async def test_a_where_it_cannot_work_says_why(node, periods, name, words):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, name)
        await pilot.press("a")
        await pilot.pause()
        assert words in _messages(app)
    assert periods == []


async def test_the_palette_has_it(node, periods):
    from textual.widgets import Input

    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "quiet")
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one(Input).value = "arm guest stats"
        await until(
            lambda: (
                "Arm guest stats"
                in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
            ),
            what="the command",
        )
        await pilot.press("enter")
        await until(lambda: app.rows[key].domain.device.stats_period == 2, what="armed")
    assert periods == [("quiet", 2, LIVE)]


async def test_a_driver_that_cannot_gets_a_clear_message(node, periods_unsupported):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "quiet")
        await pilot.press("a")
        await until(lambda: "cannot set a stats period" in _messages(app), what="the message")
        assert any("guest stats not armed" in n.title for n in app._notifications)
        assert app.is_running


async def test_arm_stats_option_arms_every_running_balloon_once(node, periods):
    uri = node(SPECS)
    app = make_app([uri], arm_stats=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await until(lambda: len(periods) == 2, what="both quiet guests")
        # Running, a balloon and no period: yes; a period already, shut off, no balloon
        # or paused: no.
        assert sorted(periods) == [("quiet", 3, LIVE), ("quiet-too", 3, LIVE)]
        await until(
            lambda: all(
                r.domain.device.stats_period == 3
                for r in app.rows.values()
                if r.domain.name.startswith("quiet")
            ),
            what="the new period",
        )
        # Later ticks (and a period put back to 0 behind our back) do not arm again.
        conn = app.fleet.workers[uri].session.connection()
        conn.lookupByName("quiet").setMemoryStatsPeriod(0, LIVE)
        for _ in range(3):
            app.fleet.refresh()
            await pilot.pause(0.1)
        assert len(periods) == 3  # ours two, and the test's own reset
        assert any("--arm-stats" in line for line in app.log_panel.lines_written)
