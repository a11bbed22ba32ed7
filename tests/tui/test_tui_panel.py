"""The memory panel, host line, log and notifications, from hand-built snapshots."""

from __future__ import annotations

from nodefiles import GIB, MIB
from tuihelpers import FAKE_URI, dom, emit, host, plain

from balloon_tui.core.model import (
    NO_BALLOON,
    BalloonDevice,
    Convergence,
    DomainState,
    GuestStats,
    HostStatus,
    Progress,
)
from balloon_tui.core.writes import TargetRequest, WriteResult
from balloon_tui.tui import create_app
from balloon_tui.tui.widgets.history import ScaledSparkline


def _text(app, selector: str) -> str:
    return plain(app.query_one(selector))


async def test_pending_inflate_shows_direction_progress_and_distance(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        moving = Progress(Convergence.PENDING, start_kib=4 * GIB, since=990.0)
        await emit(app, pilot, host(dom("a", 1, maximum=4 * GIB, actual=3 * GIB,
                                        target_kib=2 * GIB, progress=moving)))
        text = _text(app, "#panel-progress")
        assert "↓ inflating: the guest gives memory back" in text
        assert "50%" in text and "4.00G → 2.00G" in text and "1.00G to go" in text
        assert "↓" in app.table.get_cell_at((0, 3)).plain  # the target cell carries the sign


async def test_pending_deflate_and_stalled_warning(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        stalled = Progress(Convergence.STALLED, start_kib=GIB, message="stalled 512 MiB below "
                           "the target for 12 s — the guest is not taking the memory back")
        await emit(app, pilot, host(dom("a", 1, maximum=4 * GIB, actual=1536 * MIB,
                                        target_kib=2 * GIB, progress=stalled)))
        text = _text(app, "#panel-progress")
        assert "↑ deflating: the guest gets memory" in text
        assert "⚠ stalled 512 MiB below the target" in text
        assert app.table.get_cell_at((0, 3)).plain.startswith("⚠")


async def test_guest_stats_and_the_words_when_there_are_none(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 34)) as pilot:
        stats = GuestStats(unused=100 * MIB, available=2 * GIB, usable=512 * MIB,
                           disk_caches=300 * MIB, rss=GIB, swap_in=8, swap_out=16,
                           major_fault=12, minor_fault=3456)
        device = BalloonDevice("virtio", autodeflate=True, free_page_reporting=True,
                               stats_period=5)
        domains = [
            dom("full", 1, maximum=2 * GIB, stats=stats, device=device),
            dom("period-off", 2, device=BalloonDevice("virtio", stats_period=0)),
            dom("no-balloon", 3, device=NO_BALLOON),
            dom("off", 4, state=DomainState.SHUTOFF),
        ]
        await emit(app, pilot, host(*domains))
        expected = {
            "full": ["unused", "100M", "available", "usable", "512M", "caches", "300M", "rss",
                     "swap in", "8K", "swap out", "16K", "major faults", "12", "3,456",
                     "autodeflate on", "free page reporting on", "stats every 5 s"],
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
        domains = [dom("a", 1, actual=GIB), dom("b", 2, actual=2 * GIB),
                   dom("off", 3, actual=4 * GIB, state=DomainState.SHUTOFF)]
        await emit(app, pilot, host(*domains, memory_total_kib=64 * GIB,
                                    memory_free_kib=10 * GIB))
        line = _text(app, "#hosts")
        assert "test:fake.xml ok" in line
        assert "RAM 64.0G" in line and "actual 3.00G" in line and "free 10.0G" in line
        await emit(app, pilot, host(*domains, status=HostStatus.DISCONNECTED,
                                    error="end of file from server", taken_at=1002.0))
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
        assert request == TargetRequest(FAKE_URI, request.uuid, "a", 2 * GIB - 64 * MIB,
                                        previous_kib=None)
        assert app.table.get_cell_at((0, 3)).plain.startswith("…")  # on its way
        fake.fleet.on_write(WriteResult(request, False, "Requested operation is not valid",
                                        55))
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
            await emit(app, pilot, host(dom("a", 1, actual=actual, target_kib=GIB),
                                        taken_at=10_000.0 + tick))
        samples = app.history.samples(app.selected)
        assert samples[-1].at - samples[0].at <= 600
        assert len(samples) == 21
        spark = app.query_one("#spark-actual", ScaledSparkline)
        assert spark.scale_max == 4 * GIB
        assert len(spark.data) > 0 and max(v for v in spark.data if v == v) <= 4 * GIB
        before = spark.data
        await emit(app, pilot, host(dom("a", 1, actual=3 * GIB, target_kib=GIB),
                                    taken_at=11_200.0))
        assert spark.data is not before  # reassigned: that is what redraws a Sparkline
