"""The memory panel, host line, log and notifications: from hand-built snapshots, and a
shut-off guest written through the real test driver."""

from __future__ import annotations

import json

import libvirt
from nodefiles import GIB, MIB, SHUTOFF, DomainSpec
from tuihelpers import FAKE_URI, dom, emit, host, make_app, plain, ready, select, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import (
    NO_BALLOON,
    BalloonDevice,
    Convergence,
    DomainState,
    GuestStats,
    HostStatus,
    Progress,
)
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource
from balloon_tui.tui import create_app
from balloon_tui.tui.widgets.history import ScaledSparkline

CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


def _text(app, selector: str) -> str:
    return plain(app.query_one(selector))


async def test_pending_inflate_shows_direction_progress_and_distance(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        moving = Progress(Convergence.PENDING, start_kib=4 * GIB, since=990.0)
        await emit(
            app,
            pilot,
            host(dom("a", 1, maximum=4 * GIB, actual=3 * GIB, target_kib=2 * GIB, progress=moving)),
        )
        text = _text(app, "#panel-progress")
        assert "↓ inflating: the guest gives memory back" in text
        assert "50%" in text and "4.00G → 2.00G" in text and "1.00G to go" in text
        assert "↓" in app.table.get_cell_at((0, 3)).plain  # the target cell carries the sign


async def test_pending_deflate_and_stalled_warning(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        stalled = Progress(
            Convergence.STALLED,
            start_kib=GIB,
            message="stalled 512 MiB below "
            "the target for 12 s — the guest is not taking the memory back",
        )
        await emit(
            app,
            pilot,
            host(
                dom(
                    "a", 1, maximum=4 * GIB, actual=1536 * MIB, target_kib=2 * GIB, progress=stalled
                )
            ),
        )
        text = _text(app, "#panel-progress")
        assert "↑ deflating: the guest gets memory" in text
        assert "⚠ stalled 512 MiB below the target" in text
        assert app.table.get_cell_at((0, 3)).plain.startswith("⚠")


async def test_guest_stats_and_the_words_when_there_are_none(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        stats = GuestStats(
            unused=100 * MIB,
            available=2 * GIB,
            usable=512 * MIB,
            disk_caches=300 * MIB,
            rss=GIB,
            swap_in=8,
            swap_out=16,
            major_fault=12,
            minor_fault=3456,
        )
        device = BalloonDevice("virtio", autodeflate=True, free_page_reporting=True, stats_period=5)
        domains = [
            dom("full", 1, maximum=2 * GIB, stats=stats, device=device),
            dom("period-off", 2, device=BalloonDevice("virtio", stats_period=0)),
            dom("no-balloon", 3, device=NO_BALLOON),
            dom("off", 4, state=DomainState.SHUTOFF),
        ]
        await emit(app, pilot, host(*domains))
        expected = {
            "full": [
                "unused",
                "100M",
                "available",
                "usable",
                "512M",
                "caches",
                "300M",
                "rss",
                "swap in",
                "8K",
                "swap out",
                "16K",
                "major faults",
                "12",
                "3,456",
                "autodeflate on",
                "free page reporting on",
                "stats every 5 s",
            ],
            "no-balloon": ["no guest stats: no balloon device", "no balloon device"],
            "off": ["no guest stats: the guest is shut off"],
            "period-off": ["no guest stats: stats period is off", "stats off"],
        }
        for row, name in enumerate(sorted(expected)):
            app.table.move_cursor(row=row)
            await pilot.pause()
            assert app.rows[app.selected].domain.name == name
            shown = _text(app, "#panel-stats")
            for word in expected[name]:
                assert word in shown, (name, word, shown)
        assert app.panel.slider.disabled is False
        app.table.move_cursor(row=1)  # no-balloon
        await pilot.pause()
        assert app.panel.slider.disabled is True


async def test_host_line_memory_and_status_word(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        domains = [
            dom("a", 1, actual=GIB),
            dom("b", 2, actual=2 * GIB),
            dom("off", 3, actual=4 * GIB, state=DomainState.SHUTOFF),
        ]
        await emit(app, pilot, host(*domains, memory_total_kib=64 * GIB, memory_free_kib=10 * GIB))
        line = _text(app, "#hosts")
        assert "test:fake.xml ok" in line
        assert "RAM 64.0G" in line and "actual 3.00G" in line and "free 10.0G" in line
        await emit(
            app,
            pilot,
            host(
                *domains,
                status=HostStatus.DISCONNECTED,
                error="end of file from server",
                taken_at=1002.0,
            ),
        )
        line = _text(app, "#hosts")
        assert "✖ test:fake.xml disconnected — retrying" in line
        assert "end of file from server" in line
        assert any("end of file from server" in n.message for n in app._notifications)
        assert any("disconnected" in line for line in app.log_panel.lines_written)
        assert app.is_running  # a libvirt error never ends the app


async def test_failed_write_is_a_notification_a_log_line_and_a_mark(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        # Guest stats (used 1 GiB): the floor is known and −64M stays above it.
        await emit(app, pilot, host(dom("a", 1, actual=2 * GIB, stats=GuestStats(usable=GIB))))
        await pilot.press("minus")
        [request] = fake.fleet.requests
        assert request == TargetRequest(
            FAKE_URI,
            request.uuid,
            "a",
            2 * GIB - 64 * MIB,
            previous_kib=None,
            source=WriteSource.KEY,
        )
        assert app.table.get_cell_at((0, 3)).plain.startswith("…")  # on its way
        fake.fleet.on_write(WriteResult(request, False, "Requested operation is not valid", 55))
        await pilot.pause()
        assert any("not valid" in n.message for n in app._notifications)
        assert any("not set to" in line for line in app.log_panel.lines_written)
        assert app.table.get_cell_at((0, 0)).plain.startswith("✖")
        assert "not set: Requested operation is not valid" in _text(app, "#panel-progress")
        # Toggle the log panel.
        assert not app.log_panel.display
        await pilot.press("l")
        assert app.log_panel.display
        await pilot.press("l")
        assert not app.log_panel.display
        assert app.is_running


async def test_history_sparklines_cover_ten_minutes_and_are_bounded(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        for tick in range(0, 1200, 30):  # 20 minutes of ticks, 30 s apart
            actual = GIB + (tick // 30 % 4) * 256 * MIB
            await emit(
                app,
                pilot,
                host(dom("a", 1, actual=actual, target_kib=GIB), taken_at=10_000.0 + tick),
            )
        samples = app.main.history.samples(app.selected)
        assert samples[-1].at - samples[0].at <= 600
        assert len(samples) == 21
        spark = app.query_one("#spark-actual", ScaledSparkline)
        assert spark.scale_max == 4 * GIB
        assert len(spark.data) > 0 and max(v for v in spark.data if v == v) <= 4 * GIB
        before = spark.data
        await emit(app, pilot, host(dom("a", 1, actual=3 * GIB, target_kib=GIB), taken_at=11_200.0))
        assert spark.data is not before  # reassigned: that is what redraws a Sparkline


async def test_foreign_metadata_note_and_the_configured_size_of_a_shut_off_guest(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        note = "remembered target 8.00 GiB in metadata ignored: above the maximum 4.00 GiB"
        await emit(
            app,
            pilot,
            host(
                dom("a", 1, maximum=4 * GIB, actual=3 * GIB, metadata_note=note),
                dom("off", 2, maximum=4 * GIB, actual=2 * GIB, state=DomainState.SHUTOFF),
            ),
        )
        assert _text(app, "#panel-progress") == (
            f"no target set from here: the balloon stays where it is\n⚠ {note}"
        )
        assert "▲ target –" in _text(app, "#panel-legend")
        app.table.move_cursor(row=1)
        await pilot.pause()
        # libvirt's current size of a shut-off guest is its configured one: that is its target.
        assert _text(app, "#panel-progress") == (
            "shut off: 2.00G configured, used at the next boot; a change is config only"
        )
        assert "▲ target 2.00G" in _text(app, "#panel-legend")
        assert app.table.get_cell_at((1, 3)).plain.strip() == "–"  # the table is unchanged


async def test_a_write_to_a_shut_off_guest_is_config_in_the_log_the_audit_and_the_flags(
    node, memory_calls, tmp_path
):
    audit = tmp_path / "audit.jsonl"
    uri = node([DomainSpec("off", max_kib=4 * GIB, current_kib=2 * GIB, runstate=SHUTOFF)])
    app = make_app([uri], fleet_options={"audit": AuditLog(audit)})
    async with app.run_test(size=(100, 34)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "off")
        assert app.main.mode is ApplyMode.LIVE  # the operator's mode; the guest has only a config
        await pilot.press("plus")
        wanted = 2 * GIB + 64 * MIB
        await until(lambda: memory_calls.accepted("off"), what="the write")
        assert memory_calls.attempted() == [("off", wanted, CONFIG)]
        await until(lambda: app.rows[key].domain.actual_kib == wanted, what="the new config")
        assert app.log_panel.lines_written[-2:] == [
            "off: target 2.06 GiB requested (key +64.0 MiB, config only)",
            "off: target 2.06 GiB (config only)",
        ]
        await until(lambda: "2.06G configured" in _text(app, "#panel-progress"), what="the panel")
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["phase"], r["mode"], r["flags"], r["target_kib"]) for r in records] == [
        ("attempt", "config", CONFIG, wanted),
        ("result", "config", CONFIG, wanted),
    ]
    assert records[1]["ok"] is True


async def test_a_burst_of_log_entries_is_drawn_once_newest_in_view(fake, monkeypatch):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await emit(app, pilot, host(dom("a", 1)))
        await pilot.press("l")
        log = app.log_panel
        lines = log.query_one("#log-lines")
        updates: list[object] = []
        original = lines.update
        monkeypatch.setattr(
            lines,
            "update",
            lambda content, **kw: (updates.append(content), original(content, **kw))[1],
        )
        for i in range(300):  # e.g. a host lost with all its guests
            log.add(f"entry {i}", "warning")
        await pilot.pause()
        await pilot.pause()
        assert len(updates) == 1
        shown = plain(lines).splitlines()
        assert shown[-1] == "entry 299" and len(log.lines_written) >= 300
        assert log.scroll_y == log.max_scroll_y > 0  # the newest entry is in view
