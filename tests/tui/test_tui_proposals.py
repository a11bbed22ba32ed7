"""The regulator's proposals as drawn: the table's prop column, the slider's mark, the panel's
line and the status line; from hand-built Proposals and HostPlans (tui/regulation.py, which
computes them, has its own tests)."""

from __future__ import annotations

from nodefiles import GIB, MIB
from textual.app import App, ComposeResult
from tuihelpers import FAKE_URI, dom, emit, host

from balloon_tui.core.model import DomainKey
from balloon_tui.core.regulator import HostPlan, Proposal
from balloon_tui.tui import create_app, render
from balloon_tui.tui.render import HostRegulation, RowView, row_key
from balloon_tui.tui.state import FleetView
from balloon_tui.tui.widgets.proposalline import ProposalLine, cut_words, fit_line, proposal_parts
from balloon_tui.tui.widgets.slider import BalloonSlider
from balloon_tui.tui.widgets.statusbar import StatusBar
from balloon_tui.tui.widgets.table import DomainTable
from balloon_tui.tui.widgets.tablerows import cells_for, column_widths, sort_value, table_columns

GROW_REASON = "grow to 3.00 GiB: swapping 12.0 MiB/s"
SHRINK_REASON = "shrink to 2.00 GiB: 1.80 GiB idle (p95 of 5 min), host over budget by 3.20 GiB"
OTHER_URI = "test:///other.xml"


def _proposal(domain, target: int | None, reason: str = "", **fields) -> Proposal:
    return Proposal(domain.key, target, reason or f"reason for {domain.name}", **fields)


def _plan(*proposals: Proposal, change: int = -GIB, short: int = 0) -> HostPlan:
    return HostPlan(
        budget_kib=12 * GIB,
        actual_kib=10 * GIB,
        need_kib=9 * GIB,
        change_kib=change,
        short_kib=short,
        proposals={p.key: p for p in proposals},
    )


# -- the cell -----------------------------------------------------------------------------------
def test_the_cell_says_which_way_and_where_with_a_glyph_for_every_signal():
    guest = dom("a", 1, maximum=4 * GIB, actual=3 * GIB)

    def cell(proposal: Proposal | None) -> str:
        return render.proposal_text(RowView(guest, None, proposal=proposal)).plain

    assert cell(None) == ""
    assert cell(_proposal(guest, 1536 * MIB)) == "↓1.50G"
    assert cell(_proposal(guest, 3 * GIB + 100 * MIB)) == "↑3.10G"
    assert cell(_proposal(guest, None)) == "–"
    assert cell(_proposal(guest, None, not_responding=True)) == "! stuck"
    assert cell(_proposal(guest, 3584 * MIB, not_responding=True)) == "!↑3.50G"
    styled = render.proposal_text(RowView(guest, None, proposal=_proposal(guest, GIB)))
    assert [span.style for span in styled.spans] == [render.STYLE_PROPOSAL]


def test_an_offline_hosts_proposal_is_greyed_like_the_rest_of_its_row():
    guest = dom("a", 1, actual=3 * GIB)
    view = RowView(guest, None, offline=True, proposal=_proposal(guest, GIB))
    widths = column_widths([view], 119, False)
    cell = cells_for(view, widths, False)["prop"]
    assert cell.plain == "↓1.00G" and cell.spans == [] and cell.style == render.STYLE_DIM


def test_the_column_is_there_with_proposals_where_name_and_bar_keep_room_and_not_at_80():
    guest = dom("analytics-warehouse-etl-nightly-batch-worker", 1)
    rows = [RowView(guest, None, proposal=_proposal(guest, GIB))]
    wide = column_widths(rows, 119, False)
    assert wide["prop"] == 7 and wide["name"] >= 16 and wide["bar"] >= 12
    keys = [key for key, _label, _width in table_columns(wide, False)]
    assert keys[keys.index("target") + 1] == "prop"
    # Beside the wide screen's panel (a 160-column terminal) the bar would shrink to a
    # sliver: no column there (the panel beside it says the proposal).
    beside = column_widths(rows, 88, False)
    assert "prop" not in beside and beside["name"] >= 16 and beside["bar"] >= 12
    roomy = column_widths(rows, 108, False)
    assert roomy["prop"] == 7 and roomy["bar"] >= 12
    narrow = column_widths(rows, 79, False)
    assert "prop" not in narrow
    assert "prop" not in [key for key, _label, _width in table_columns(narrow, False)]
    assert narrow["name"] == 16  # as before the column existed
    # No plan anywhere: no column, the table as it was before the regulator.
    assert column_widths([RowView(guest, None)], 119, False) == {"name": 32, "bar": 30}
    for total, widths in ((119, wide), (88, beside), (108, roomy), (79, narrow)):
        assert sum(w + 2 for _k, _l, w in table_columns(widths, False)) <= total


def test_sorting_by_proposal_puts_the_biggest_moves_first():
    a, b, c, d, e = (dom(name, i, actual=4 * GIB) for i, name in enumerate("abcde"))
    views = [
        RowView(a, None, proposal=_proposal(a, 3 * GIB)),  # 1 GiB down
        RowView(b, None, proposal=_proposal(b, 4 * GIB + 512 * MIB)),  # 512 MiB up
        RowView(c, None, proposal=_proposal(c, None)),
        RowView(d, None, proposal=_proposal(d, None, not_responding=True)),
        RowView(e, None),
    ]
    ranked = sorted(views, key=lambda v: sort_value(v, "prop"), reverse=True)
    assert [v.domain.name for v in ranked] == ["a", "b", "d", "c", "e"]


# -- the row cache ------------------------------------------------------------------------------
def test_build_rows_rebuilds_a_row_only_when_its_proposal_object_changed():
    view = FleetView(600.0, lambda: 1000.0)
    guest, other = dom("a", 1), dom("b", 2)
    view.apply(host(guest, other))
    first = view.build_rows()
    assert all(row.proposal is None for row in first)
    proposal = _proposal(guest, GIB)
    second = view.build_rows({guest.key: proposal})
    by_name = {row.domain.name: row for row in second}
    assert by_name["a"].proposal is proposal and by_name["a"] is not first[0]
    assert by_name["b"] is first[1]  # no proposal before or now: the same object
    third = view.build_rows({guest.key: proposal})
    assert third[0] is by_name["a"]
    # The next plan's proposal: a new object, even with the same words, is a new row.
    again = _proposal(guest, GIB)
    fourth = view.build_rows({guest.key: again})
    assert fourth[0] is not third[0] and fourth[0].proposal is again
    assert view.build_rows()[0].proposal is None  # the plan gone: the row says nothing


# -- in the app ---------------------------------------------------------------------------------
async def _show(app, pilot, proposals: dict[DomainKey, Proposal]) -> None:
    """What the lead's Regulation does each round: rows with proposals, the panel redrawn."""
    app.table.show(app.main.view.build_rows(proposals))
    app.main.show_panel()
    await pilot.pause()


async def test_the_table_draws_the_proposals_and_sorts_by_them(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(120, 40)) as pilot:
        idle = dom("idle", 1, maximum=8 * GIB, actual=6 * GIB)
        busy = dom("busy", 2, maximum=8 * GIB, actual=2 * GIB)
        quiet = dom("quiet", 3, maximum=8 * GIB, actual=4 * GIB)
        await emit(app, pilot, host(idle, busy, quiet))
        table = app.table
        assert "prop" not in table.column_keys and "prop" not in table.sorts
        await _show(
            app,
            pilot,
            {
                idle.key: _proposal(idle, 5 * GIB),
                busy.key: _proposal(busy, 3 * GIB, pressure=True),
                quiet.key: _proposal(quiet, None, "at its share, 4.00 GiB"),
            },
        )

        assert "prop" in table.column_keys and "prop" in table.sorts  # the first plan came
        assert "prop" in table.render_line(0).text

        def cell(domain) -> str:
            return table.get_cell(row_key(*domain.key), "prop").plain

        assert (cell(idle), cell(busy), cell(quiet)) == ("↓5.00G", "↑3.00G", "–")
        lines = [table.render_line(y).text for y in range(1, 4)]
        assert any("idle" in line and "↓5.00G" in line for line in lines)
        # A click on its header sorts by it, the biggest moves first, as the other sizes.
        await pilot.click(DomainTable, offset=(table.column_x("prop") + 3, 0))
        await pilot.pause()
        assert table.sort_column == "prop" and table.sort_reverse
        assert [app.rows[k].domain.name for k in table.ordered_keys] == ["idle", "busy", "quiet"]
        assert "prop▼" in table.render_line(0).text
        # Narrowed to 80 columns the column goes, and so does sorting by it.
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "prop" not in table.column_keys and "prop" not in table.sorts
        assert table.sort_column == "name"
        assert [app.rows[k].domain.name for k in table.ordered_keys] == ["busy", "idle", "quiet"]
        assert "↓5.00G" not in "\n".join(table.render_line(y).text for y in range(4))


async def test_the_panel_says_the_proposal_and_the_slider_marks_it(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(200, 40)) as pilot:
        guest = dom("a", 1, maximum=8 * GIB, actual=6 * GIB)
        await emit(app, pilot, host(guest))
        line = app.query_one(ProposalLine)
        # The app's own first plan: no stats, so no proposal, and the panel says why.
        assert line.display
        assert line.text.plain.startswith("regulator: no guest stats")
        await _show(app, pilot, {guest.key: _proposal(guest, 7 * GIB, GROW_REASON)})
        assert line.display
        assert line.text.plain == f"◇ proposal: {GROW_REASON} · y to apply"
        slider = app.panel.slider
        assert slider.proposal == 7 * GIB
        track = render.themed(slider._text()).plain.splitlines()[0]
        assert track[slider.x_of(7 * GIB)] == render.MARK_PROPOSAL
        assert track.count(render.MARK_PROPOSAL) == 1
        # No target: the reason only, dimmed; not responding: a ! and the warning colour.
        await _show(app, pilot, {guest.key: _proposal(guest, None, "at its share, 6.00 GiB")})
        assert line.text.plain == "regulator: at its share, 6.00 GiB"
        assert slider.proposal is None
        assert render.MARK_PROPOSAL not in render.themed(slider._text()).plain
        stuck = "not responding: asked 3.00 GiB, still at 6.00 GiB after 12 s"
        await _show(app, pilot, {guest.key: _proposal(guest, None, stuck, not_responding=True)})
        assert line.text.plain == f"! regulator: {stuck}"
        assert line.text.spans[0].style == render.STYLE_WARN
        await _show(app, pilot, {})
        assert not line.display


async def test_read_only_the_panel_does_not_offer_y(fake):
    fake.readonly = True
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(200, 40)) as pilot:
        guest = dom("a", 1, maximum=8 * GIB, actual=6 * GIB)
        await emit(app, pilot, host(guest))
        await _show(app, pilot, {guest.key: _proposal(guest, 7 * GIB, GROW_REASON)})
        assert app.query_one(ProposalLine).text.plain == f"◇ proposal: {GROW_REASON}"


async def test_at_80_columns_the_panel_line_is_cut_to_one_line(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        guest = dom("a", 1, maximum=8 * GIB, actual=6 * GIB)
        await emit(app, pilot, host(guest))
        reason = SHRINK_REASON + "; 410 MiB this round"
        await _show(app, pilot, {guest.key: _proposal(guest, 2 * GIB, reason)})
        line = app.query_one(ProposalLine)
        assert line.size.height == 1
        text = line.text.plain
        assert len(text) <= line.content_size.width
        assert text.startswith("◇ proposal: shrink to 2.00 GiB")
        assert "…" in text and text.endswith(" · y to apply")


# -- the line, cut ------------------------------------------------------------------------------
def test_the_line_is_cut_after_a_word_and_the_hint_goes_before_the_reason_does():
    guest = dom("a", 1, actual=6 * GIB)
    parts = proposal_parts(_proposal(guest, 2 * GIB, SHRINK_REASON), can_apply=True)
    assert parts is not None
    full = fit_line(parts, 200).plain
    assert full == f"◇ proposal: {SHRINK_REASON} · y to apply"
    for width in range(10, len(full) + 1):
        text = fit_line(parts, width).plain
        assert len(text) <= width, width
        assert text.startswith("◇ ")
    assert (
        fit_line(parts, 60).plain == "◇ proposal: shrink to 2.00 GiB: 1.80 GiB idle… · y to apply"
    )
    assert fit_line(parts, 30).plain == "◇ proposal: shrink to 2.00…"
    assert cut_words("one two three", 9) == "one two…"
    assert cut_words("one two three", 20) == "one two three"
    assert proposal_parts(None, can_apply=True) is None


# -- the status line ----------------------------------------------------------------------------
class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


def _status(app) -> str:
    return str(app.query_one("#regulation").content.plain)


async def test_the_status_line_says_the_plan_and_the_autopilot_wide_and_narrow():
    guest = dom("a", 1)
    plan = _plan(_proposal(guest, GIB), change=-1229 * MIB)
    on = HostRegulation(plan, autopilot=True, next_round_s=6.2)
    app = BarApp()
    async with app.run_test(size=(160, 5)) as pilot:
        bar = app.query_one(StatusBar)
        assert not app.query_one("#regulation").display
        bar.show_hosts([host(guest)])
        bar.show_regulation({FAKE_URI: on})
        await pilot.pause()
        assert app.query_one("#regulation").display
        assert _status(app) == (f"regulator {plan.summary} · ◇ autopilot on · next round in 7 s")
        assert plan.summary.startswith("budget 12.0 GiB · actual 10.0 GiB · proposals free")
        await pilot.resize_terminal(80, 5)
        await pilot.pause()
        assert _status(app) == (
            "regulator budget 12.0G · proposals free 1.20G · ◇ autopilot on · next 7 s"
        )
        short = HostRegulation(_plan(change=GIB, short=2 * GIB))
        bar.show_regulation({FAKE_URI: short})
        await pilot.pause()
        assert _status(app) == ("regulator ⚠ budget 12.0G · proposals need 1.00G · short by 2.00G")
        bar.show_regulation({FAKE_URI: HostRegulation(None, note="host RAM unknown\x1b[2J")})
        await pilot.pause()
        assert _status(app) == "regulator host RAM unknown\\x1b[2J"
        bar.show_regulation({})
        await pilot.pause()
        assert not app.query_one("#regulation").display


async def test_with_several_hosts_the_status_line_names_one_and_counts_the_others():
    here, there = dom("a", 1), dom("b", 2, uri=OTHER_URI)
    regulation = {
        FAKE_URI: HostRegulation(_plan(change=-GIB)),
        OTHER_URI: HostRegulation(_plan(change=GIB), autopilot=True, next_round_s=3.0),
    }
    app = BarApp()
    async with app.run_test(size=(80, 8)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show_hosts([host(here), host(there, uri=OTHER_URI)])
        bar.show_regulation(regulation)
        await pilot.pause()
        assert _status(app) == (
            "regulator test:fake.xml: budget 12.0G · proposals free 1.00G"
            " · +1 host (1 on autopilot)"
        )
        bar.show_regulation(regulation, selected=OTHER_URI)
        await pilot.pause()
        line = _status(app)
        assert line.startswith("regulator test:other.xml: budget 12.0G · proposals need 1.00G")
        assert line.endswith("· ◇ autopilot on · next 3 s · +1 host")
        widget = app.query_one("#regulation")
        drawn = widget.render_line(0).text
        assert widget.size.height == 1  # one line: cut, not wrapped
        assert drawn.startswith("regulator test:other.xml: budget") and drawn.endswith("…")
        assert len(drawn) == widget.size.width


async def test_a_slider_mark_under_the_handle_when_they_coincide():
    class SliderApp(App[None]):
        def compose(self) -> ComposeResult:
            yield BalloonSlider()

    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        live = dict(
            subject=("test:///h", "a"), maximum=4 * GIB, actual=3 * GIB, used=GIB, floor=GIB
        )
        slider.set_live(target=2 * GIB, proposal=2 * GIB, **live)
        await pilot.pause()
        track = slider._text().plain.splitlines()[0]
        assert track[slider.x_of(2 * GIB)] == "◆" and render.MARK_PROPOSAL not in track
        slider.set_live(target=2 * GIB, proposal=GIB, **live)
        await pilot.pause()
        track = slider._text().plain.splitlines()[0]
        assert track[slider.x_of(GIB)] == render.MARK_PROPOSAL
        assert track[slider.x_of(2 * GIB)] == "◆"
        slider.clear()
        assert slider.proposal is None
