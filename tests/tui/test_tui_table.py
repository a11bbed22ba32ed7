"""The domain table: keyed in-place updates, numeric sorts, the name filter."""

from __future__ import annotations

from nodefiles import GIB, MIB
from textual.widgets import Input
from tuihelpers import dom, emit, host, table_names

from balloon_tui.core.model import GuestStats
from balloon_tui.tui import create_app
from balloon_tui.tui.render import row_key
from balloon_tui.tui.widgets import table as table_module


def on_screen(table) -> str:
    """The table's lines as drawn now."""
    lines = range(table.scrollable_content_region.height)
    return "\n".join(table.render_line(y).text for y in lines)


def _fleet_of(n: int, **kwargs):
    return [dom(f"guest-{i:02d}", i, maximum=(1 + i % 5) * GIB, **kwargs) for i in range(n)]


async def test_updates_in_place_keep_cursor_scroll_and_selection(fake, monkeypatch):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        domains = _fleet_of(40)
        await emit(app, pilot, host(*domains))
        table = app.table
        table.move_cursor(row=25)
        await pilot.pause()
        selected = app.selected
        scroll = table.scroll_y
        assert scroll > 0
        built: list[str] = []
        original = table_module.cells_for

        def spy(view, *args):
            built.append(view.domain.name)
            return original(view, *args)

        monkeypatch.setattr(table_module, "cells_for", spy)
        # A guest scrolled out of view changes its actual size: nothing is drawn.
        changed = list(domains)
        changed[3] = dom("guest-03", 3, maximum=4 * GIB, actual=3 * GIB)
        await emit(app, pilot, host(*changed, taken_at=1002.0))
        assert built == []
        assert table.get_cell(row_key(*changed[3].key), "actual").plain.strip() == "3.00G"
        built.clear()
        # One on screen changes: that row, and only that row, is built again.
        changed[25] = dom("guest-25", 25, maximum=1 * GIB, actual=512 * MIB)
        await emit(app, pilot, host(*changed, taken_at=1004.0))
        assert built == ["guest-25"]
        assert app.selected == selected
        assert table.cursor_row == 25
        assert table.scroll_y == scroll
        # Scrolled away with the wheel: the next tick leaves the view where the operator put it.
        table.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        await emit(app, pilot, host(*changed, taken_at=1006.0))
        assert table.scroll_y == 0
        assert table.cursor_row == 25


async def test_rows_come_and_go_and_the_selection_follows_its_guest(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        a, b, c = dom("a", 1), dom("b", 2), dom("c", 3)
        await emit(app, pilot, host(a, b, c))
        app.table.move_cursor(row=2)
        await pilot.pause()
        assert app.selected == c.key
        await emit(app, pilot, host(b, c, taken_at=1001.0))  # "a" went away
        assert table_names(app) == ["b", "c"]
        assert app.selected == c.key and app.table.cursor_row == 1
        await emit(app, pilot, host(dom("0-new", 4), b, c, taken_at=1002.0))
        assert table_names(app) == ["0-new", "b", "c"]
        assert app.selected == c.key and app.table.cursor_row == 2
        await emit(app, pilot, host(b, taken_at=1003.0))  # the selected guest went away
        assert app.selected is None  # cleared: the neighbour is not selected in its place
        assert "c is gone" in str(app.query_one("#panel-title").render())
        await emit(app, pilot, host(b, dom("d", 5), taken_at=1004.0))
        assert app.selected is None  # nor a newcomer
        await pilot.press("down")  # the operator chooses again
        assert app.selected == b.key
        assert "gone" not in str(app.query_one("#panel-title").render())


async def test_numeric_sorts_and_their_keys(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        stats = GuestStats(usable=0)
        domains = [
            dom("small", 1, maximum=512 * MIB, actual=512 * MIB, stats=stats),
            dom("big", 2, maximum=16 * GIB, actual=2 * GIB, stats=stats),
            dom("mid", 3, maximum=2 * GIB, actual=1536 * MIB, stats=stats),
        ]
        await emit(app, pilot, host(*domains))
        assert table_names(app) == ["big", "mid", "small"]  # by name
        await pilot.press("s")  # actual, largest first
        assert app.table.sort_column == "actual"
        assert table_names(app) == ["big", "mid", "small"]
        await pilot.press("r")
        assert table_names(app) == ["small", "mid", "big"]
        await pilot.press("s")  # used (= actual here, no usable memory)
        assert table_names(app) == ["big", "mid", "small"]
        await pilot.press("s")  # max
        assert app.table.sort_column == "max"
        assert table_names(app) == ["big", "mid", "small"]
        await pilot.press("s")  # back to name
        assert app.table.sort_column == "name"
        assert table_names(app) == ["big", "mid", "small"]
        # "512M" < "1.50G" < "2.00G" as numbers, though not as text.
        await app.run_action("sort('actual')", app.main)
        await pilot.pause()
        assert table_names(app) == ["big", "mid", "small"]
        # The selection stays on its guest through a re-sort.
        app.table.move_cursor(row=2)
        await pilot.pause()
        assert app.selected == domains[0].key
        await pilot.press("r")
        assert app.selected == domains[0].key and app.table.cursor_row == 0


async def test_filter_narrows_enter_selects_first_escape_clears(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        names = ["web-1", "db-1", "web-2", "cache", "db-2"]
        await emit(app, pilot, host(*[dom(n, i) for i, n in enumerate(names)]))
        await pilot.press("slash")
        box = app.query_one("#filter", Input)
        assert app.focused is box and box.display
        await pilot.press(*"db")
        assert table_names(app) == ["db-1", "db-2"]
        await pilot.press("q")  # typed into the filter, not quit
        assert box.value == "dbq" and table_names(app) == []
        assert "no guest selected" in str(app.query_one("#panel-title").render())
        await pilot.press("backspace", "backspace", "backspace", *"WEB")
        assert table_names(app) == ["web-1", "web-2"]
        await pilot.press("enter")
        assert app.focused is app.table
        assert app.rows[app.selected].domain.name == "web-1"
        # Refreshes keep the filter.
        await emit(app, pilot, host(*[dom(n, i) for i, n in enumerate(names)], taken_at=1001))
        assert table_names(app) == ["web-1", "web-2"]
        await pilot.press("slash", "escape")
        assert box.value == "" and not box.display
        assert app.focused is app.table
        assert table_names(app) == ["cache", "db-1", "db-2", "web-1", "web-2"]
        assert app.rows[app.selected].domain.name == "web-1"


async def test_host_column_only_with_several_connections(node):
    from nodefiles import DomainSpec

    one = create_app([node([DomainSpec("x")])], log_clock=False)
    two = create_app([node([DomainSpec("x")]), node([DomainSpec("y")])], log_clock=False)
    for app, has_host in ((one, False), (two, True)):
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert ("host" in app.table.column_keys) is has_host


async def test_keys_typed_right_after_slash_go_into_the_filter(fake):
    """A terminal delivers `/web` at once; the box must have focus before `w` is handled."""
    from textual import events

    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        names = ["web-1", "db-1", "web-2"]
        await emit(app, pilot, host(*[dom(n, i) for i, n in enumerate(names)]))
        for key, char in (("slash", "/"), ("w", "w"), ("e", "e"), ("b", "b")):
            app.post_message(events.Key(key, char))  # no pause in between
        await pilot.pause()
        assert app.query_one("#filter", Input).value == "web"
        assert table_names(app) == ["web-1", "web-2"]


async def test_clicking_a_header_sorts_by_it(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        stats = GuestStats(usable=0)
        await emit(
            app,
            pilot,
            host(
                dom("a-small", 1, maximum=512 * MIB, stats=stats),
                dom("b-big", 2, maximum=16 * GIB, stats=stats),
                dom("c-mid", 3, maximum=2 * GIB, stats=stats),
            ),
        )
        table = app.table
        x = table.column_x("max")
        await pilot.click(table, offset=(x + 2, 0))
        assert table.sort_column == "max"
        assert table_names(app) == ["b-big", "c-mid", "a-small"]
        await pilot.click(table, offset=(x + 2, 0))
        assert table_names(app) == ["a-small", "c-mid", "b-big"]
        await pilot.click(table, offset=(2, 0))  # the name header
        assert table.sort_column == "name"
        assert table_names(app) == ["a-small", "b-big", "c-mid"]


async def test_a_click_selects_a_row_and_a_second_click_goes_to_the_slider(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await emit(app, pilot, host(*_fleet_of(5)))
        table = app.table
        await pilot.click(table, offset=(3, 1 + 2))  # the header is line 0
        assert table.cursor_row == 2
        assert app.rows[app.selected].domain.name == "guest-02"
        assert table.has_focus
        await pilot.click(table, offset=(3, 1 + 2))
        assert app.focused is app.panel.slider


async def test_page_and_end_keys_move_the_cursor_and_scroll_it_into_view(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await emit(app, pilot, host(*_fleet_of(60)))
        table = app.table
        await pilot.press("end")
        assert table.cursor_row == 59
        assert app.rows[app.selected].domain.name == "guest-59"
        assert table.scroll_y > 0
        assert "guest-59" in on_screen(table)
        await pilot.press("home", "pagedown")
        assert 5 < table.cursor_row < 59
        assert f"guest-{table.cursor_row:02d}" in on_screen(table)
        await pilot.press("home")
        assert table.cursor_row == 0
        assert table.scroll_y == 0


async def test_filter_finds_a_name_by_what_the_table_shows(fake):
    """A TAB in a name is drawn as \\x09: typing what is on screen finds it, so does the raw."""
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await emit(app, pilot, host(dom("tab\there", 0), dom("plain", 1)))
        await pilot.press("slash", *"b\\x09h")
        assert table_names(app) == ["tab\there"]
        app.query_one("#filter", Input).value = "b\th"
        await pilot.pause()
        assert table_names(app) == ["tab\there"]
