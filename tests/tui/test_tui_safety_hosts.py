"""A disconnected host: its guests stay in the table, greyed, with a word; the host line says
"disconnected — retrying" (or "authentication skipped"); nothing can be set on them."""

from __future__ import annotations

import pytest
from nodefiles import GIB
from tuihelpers import dom, emit, host, plain

from balloon_tui.core.model import HostStatus
from balloon_tui.tui import create_app
from balloon_tui.tui.render import row_key


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (HostStatus.DISCONNECTED, "disconnected — retrying"),
        (HostStatus.SKIPPED, "disconnected — authentication skipped"),
    ],
)
async def test_a_disconnected_hosts_guests_are_grey_with_a_word(fake, status, word):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        a = dom("a", 1, actual=2 * GIB)
        await emit(app, pilot, host(a))
        cell = app.table.get_cell(row_key(*a.key), "state")
        assert cell.plain == "▶ running"
        assert not app.panel.slider.disabled

        await emit(app, pilot, host(a, status=status, taken_at=1002.0))
        assert f"✖ test:fake.xml {word}" in plain(app.query_one("#hosts"))
        assert list(app.rows) == [a.key]  # still shown: unknown, not gone
        cells = {
            column: app.table.get_cell(row_key(*a.key), column)
            for column in ("name", "state", "max", "actual", "bar")
        }
        assert cells["state"].plain == "✖ offline"
        for column, text in cells.items():
            assert str(text.style) == "dim" and not text.spans, column
        assert f"host {word}: last known values" in plain(app.query_one("#panel-title"))
        assert app.panel.slider.disabled
        await pilot.press("plus")  # nothing is sent to a host that is not there
        assert fake.fleet.requests == []

        await emit(app, pilot, host(a, taken_at=1004.0))  # back
        assert app.table.get_cell(row_key(*a.key), "state").plain == "▶ running"
        assert not app.panel.slider.disabled
        assert "last known" not in plain(app.query_one("#panel-title"))
