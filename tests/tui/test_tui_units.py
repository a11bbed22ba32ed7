"""Pure parts of the tui: text, the bar, pending writes, history, sparkline buckets."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from nodefiles import GIB, MIB
from tuihelpers import FAKE_URI, dom

from balloon_tui.core.model import Convergence, DomainState, GuestStats, Progress
from balloon_tui.core.writes import TargetRequest, WriteResult, WriteSource
from balloon_tui.tui import render
from balloon_tui.tui.history import History
from balloon_tui.tui.pending import CONFIRM_TICKS, PendingWrites
from balloon_tui.tui.render import RowView, bar_text, name_text, short_size
from balloon_tui.tui.widgets.gueststats import no_stats_reason
from balloon_tui.tui.widgets.history import buckets, resample


def test_short_sizes():
    assert short_size(1536 * MIB) == "1.50G"
    assert short_size(512 * MIB) == "512M"
    assert short_size(64 * GIB) == "64.0G"
    assert short_size(100) == "100K"
    assert short_size(None) == "–"


def test_name_cells_keep_both_ends_by_cell_width():
    def row(name: str) -> RowView:
        return RowView(dom(name, 1), None)

    text = name_text(row("web-frontend-01"), 10)
    assert text.plain == "web-f…d-01" and text.cell_len == 10
    assert name_text(row("short"), 10).plain == "short"
    wide = name_text(row("数据库-主-01"), 8)  # CJK takes two cells each
    assert wide.cell_len <= 8 and wide.plain.startswith("数") and wide.plain.endswith("01")
    assert name_text(row("tab\there"), None).plain == "tab\\x09here"


def test_bar_has_the_regions_and_the_target_mark():
    bar = bar_text(4 * GIB, 2 * GIB, 1 * GIB, 3 * GIB, 8).plain
    assert bar == "██▒▒··┃·"
    assert bar_text(4 * GIB, 2 * GIB, None, None, 8).plain == "▓▓▓▓····"
    assert bar_text(4 * GIB, 4 * GIB, 0, 4 * GIB, 4).plain == "▒▒▒┃"


@given(
    maximum=st.integers(1, 2**40),
    width=st.integers(1, 80),
    actual=st.integers(0, 2**40),
    used=st.none() | st.integers(0, 2**40),
    target=st.none() | st.integers(0, 2**40),
)
def test_bar_is_always_width_cells(maximum, width, actual, used, target):
    actual, used = min(actual, maximum), None if used is None else min(used, maximum)
    target = None if target is None else min(target, maximum)
    bar = bar_text(maximum, actual, used, target, width)
    assert bar.cell_len == width
    assert bar.plain.count(render.GLYPH_TARGET) == (target is not None)


def test_target_marks_say_what_happens():
    base = dom("a", 1, maximum=4 * GIB, actual=2 * GIB)
    assert render.target_mark(RowView(base, 1 * GIB))[0] == render.MARK_INFLATE
    assert render.target_mark(RowView(base, 3 * GIB))[0] == render.MARK_DEFLATE
    assert render.target_mark(RowView(base, 2 * GIB))[0] == " "
    assert render.target_mark(RowView(base, 3 * GIB, writing=True))[0] == render.MARK_WRITING
    assert render.target_mark(RowView(base, 3 * GIB, failed="no"))[0] == render.MARK_ERROR
    stalled = dom("a", 1, actual=2 * GIB, progress=Progress(Convergence.STALLED))
    assert render.target_mark(RowView(stalled, 1 * GIB))[0] == render.MARK_STALLED
    outside = dom("a", 1, actual=2 * GIB, target_outside=True)
    assert render.target_mark(RowView(outside, 1 * GIB))[0] == render.MARK_OUTSIDE


def test_every_state_has_a_symbol_and_a_word():
    for state in DomainState:
        text = render.state_text(state).plain
        assert text == f"{state.symbol} {state.word}" and state.word


def test_stale_stats_say_stale_in_the_age_column():
    row = RowView(
        dom("a", 1, stats=GuestStats(usable=GIB, last_update=100)), None, stale=True, age=60.0
    )
    assert render.age_text(row).plain == "stale"
    assert render.age_text(RowView(row.domain, None, age=3.2)).plain == "3s"
    assert render.age_text(RowView(row.domain, None)).plain == "–"


def _request(kib: int) -> TargetRequest:
    d = dom("a", 1)
    return TargetRequest(d.host_uri, d.uuid, d.name, kib, source=WriteSource.KEY)


def test_pending_shows_ours_until_a_snapshot_confirms():
    pending = PendingWrites()
    d = dom("a", 1, actual=2 * GIB)
    first, second = _request(GIB), _request(3 * GIB)
    pending.sent(first)
    pending.sent(second)
    assert pending.shown_target(d) == 3 * GIB and pending.writing(d.key)
    # The older request's result does not decide anything.
    assert pending.result(WriteResult(first, True, "live")) is False
    assert pending.writing(d.key)
    assert pending.result(WriteResult(second, True, "live")) is True
    assert not pending.writing(d.key) and pending.shown_target(d) == 3 * GIB
    pending.observe(dom("a", 1, actual=2 * GIB, target_kib=3 * GIB))
    assert pending.target(d.key) is None


def test_pending_gives_up_after_a_few_ticks_and_remembers_failures():
    pending = PendingWrites()
    d = dom("a", 1, actual=2 * GIB)
    request = _request(GIB)
    pending.sent(request)
    pending.result(WriteResult(request, True, "live"))
    for _ in range(CONFIRM_TICKS):
        pending.observe(d)
    assert pending.target(d.key) is None
    failing = _request(GIB // 2)
    pending.sent(failing)
    pending.result(WriteResult(failing, False, "denied"))
    assert pending.failed(d.key) == "denied" and pending.shown_target(d) is None
    pending.sent(_request(GIB))
    assert pending.failed(d.key) is None
    pending.forget_missing(FAKE_URI, set())
    assert pending.target(d.key) is None


def test_history_keeps_the_window_and_drops_gone_domains():
    history = History(window=600.0, max_samples=50)
    d = dom("a", 1, actual=GIB)
    for t in range(0, 2000, 10):
        history.add(d, float(t))
    samples = history.samples(d.key)
    assert len(samples) == 50  # the hard bound
    history = History(window=600.0)
    for t in range(0, 2000, 10):
        history.add(d, float(t))
    samples = history.samples(d.key)
    assert samples[-1].at - samples[0].at <= 600 and len(samples) == 61
    history.add(d, samples[-1].at)  # the same tick again: ignored
    assert len(history.samples(d.key)) == 61
    history.forget_missing(FAKE_URI, set())
    assert history.samples(d.key) == [] and len(history) == 0


def test_history_keeps_change_points_and_gives_one_sample_per_poll():
    history = History(window=600.0)
    still = dom("still", 1, actual=GIB)
    moving = dom("moving", 2, actual=2 * GIB)
    history.add_all(FAKE_URI, [still, moving], 10.0)
    history.add_all(FAKE_URI, [still, moving], 20.0)  # the same objects: nothing moved
    moved = dom("moving", 2, actual=GIB)
    history.add_all(FAKE_URI, [still, moved], 30.0, {moved.key: GIB // 2})  # ours in flight
    # The host was not polled from 30 to 100 (disconnected): no samples there.
    history.add_all(FAKE_URI, [still, moved], 100.0)
    assert [(s.at, s.actual_kib) for s in history.samples(still.key)] == [
        (10.0, GIB),
        (20.0, GIB),
        (30.0, GIB),
        (100.0, GIB),
    ]
    assert [(s.at, s.actual_kib, s.target_kib) for s in history.samples(moved.key)] == [
        (10.0, 2 * GIB, 2 * GIB),
        (20.0, 2 * GIB, 2 * GIB),
        (30.0, GIB, GIB // 2),
        (100.0, GIB, GIB),
    ]
    # A guest first seen later has samples from then on; the window drops old polls but
    # keeps the value the window starts with.
    late = dom("late", 3, actual=GIB)
    history.add_all(FAKE_URI, [still, moved, late], 700.0)
    assert [s.at for s in history.samples(late.key)] == [700.0]
    assert [s.at for s in history.samples(still.key)] == [100.0, 700.0]


def test_buckets_put_time_on_the_x_axis():
    cells = buckets([(0.0, 1.0), (300.0, 2.0), (600.0, 3.0)], now=600.0, window=600.0, width=6)
    assert cells[0] == 1.0 and cells[3] == 2.0 and cells[5] == 3.0
    assert math.isnan(cells[1])
    assert resample([1.0, 2.0, 3.0, 4.0], 2) == [2.0, 4.0]
    stretched = resample([1.0, 2.0], 4)
    assert stretched == [1.0, 1.0, 2.0, 2.0]
    assert all(math.isnan(v) for v in resample([], 3))


def test_no_stats_words():
    from balloon_tui.core.model import NO_BALLOON, BalloonDevice

    assert no_stats_reason(dom("a", 1, device=NO_BALLOON)) == "no guest stats: no balloon device"
    period_off = dom("a", 1, device=BalloonDevice("virtio", stats_period=0))
    assert no_stats_reason(period_off) == "no guest stats: stats period is off"
    assert no_stats_reason(dom("a", 1, stats=GuestStats(usable=1))) is None
