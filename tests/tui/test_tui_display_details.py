"""The small things found with the names: "(1 guest)", hosts that share a name told apart,
the hosts screen and the table at the widths where columns fell off, the typed entry that
agrees with the dialog on `1K` and says by how much a size is above the maximum."""

from __future__ import annotations

import os

import pytest
from foreign_names import screen_lines
from nodefiles import GIB, MIB, DomainSpec
from textual.widgets import Static
from tuihelpers import FakeFleetHandle, dom, emit, host, make_app, plain, ready, select

from balloon_tui.core.display import counted, plural
from balloon_tui.core.model import DomainSnapshot, DomainState, HostSnapshot, HostStatus
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen, check_target
from balloon_tui.tui.screens.hosts import HostsScreen
from balloon_tui.tui.state import FleetView
from balloon_tui.tui.widgets.statusbar import distinguishing, fleet_text, host_labels
from balloon_tui.tui.widgets.tablerows import BAR_READABLE, NAME_READABLE, PADDING

DEMO = "test://" + os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "balloon_tui", "demo", "demo.xml")
)
TIB = 1024 * GIB


# -- counts ------------------------------------------------------------------------------------
def test_one_guest_is_a_guest():
    assert [counted(n, "guest") for n in (0, 1, 2)] == ["0 guests", "1 guest", "2 guests"]
    assert plural(1, "host") == "host"


def test_host_events_and_the_fleet_line_count_in_the_singular():
    one = host(dom("only", 1), uri="test:///one.xml")
    (event,) = FleetView(60.0, lambda: 1000.0).apply(one)
    assert event.message.endswith("ok (1 guest)")
    assert "1/1 host " in fleet_text([one]).plain and "1/1 guest " in fleet_text([one]).plain
    two = host(dom("a", 1), dom("b", 2), uri="test:///two.xml")
    assert "2/2 guests" in fleet_text([two]).plain


# -- hosts that share a name -------------------------------------------------------------------
def _named(uri: str, hostname: str | None = "a") -> HostSnapshot:
    return HostSnapshot(uri=uri, status=HostStatus.OK, hostname=hostname)


@pytest.mark.parametrize(
    ("uris", "parts"),
    [
        (["qemu+ssh://a/system", "qemu+ssh://a/session"], ["system", "session"]),
        (["qemu:///system", "qemu+ssh://a/system"], ["qemu:///system", "qemu+ssh://a/system"]),
        (["qemu+ssh://a/system", "qemu+ssh://a/system?keyfile=k"], ["system", "system?keyfile=k"]),
        (
            ["qemu+ssh://root@a/system", "qemu+ssh://ops@a/system"],
            ["root@a/system", "ops@a/system"],
        ),
    ],
)
def test_the_shortest_part_that_tells_uris_apart(uris, parts):
    assert distinguishing(uris) == parts


def test_only_hosts_that_share_a_name_get_their_uri_part():
    hosts = [
        _named("qemu+ssh://a/system"),
        _named("qemu+ssh://a/session"),
        _named("qemu+ssh://b/system", "b"),
    ]
    assert host_labels(hosts) == {
        "qemu+ssh://a/system": "a (system)",
        "qemu+ssh://a/session": "a (session)",
        "qemu+ssh://b/system": "b",
    }


async def test_status_bar_and_hosts_screen_tell_two_uris_of_one_machine_apart():
    uris = (
        "qemu+ssh://hypervisor-07.dc1.example.com/system",
        "qemu+ssh://hypervisor-07.dc1.example.com/session",
        "qemu+tls://hv-12.example.org/system",
    )
    fake = FakeFleetHandle(uris=uris)
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for index, uri in enumerate(uris):
            status = HostStatus.DISCONNECTED if index == 2 else HostStatus.SLOW
            guests = [
                dom(f"g{index}-{j}", index * 10 + j, maximum=3 * TIB, actual=2 * TIB, uri=uri)
                for j in range(3)
            ]
            await emit(
                app,
                pilot,
                host(
                    *guests,
                    uri=uri,
                    status=status,
                    fetch_seconds=1.234,
                    hostname=uri.split("/")[2],
                    memory_total_kib=3 * TIB,
                    memory_free_kib=TIB,
                ),
            )
        bar = plain(app.query_one("#hosts", Static))
        assert "hypervisor-07.dc1.example.com (system)" in bar
        assert "hypervisor-07.dc1.example.com (session)" in bar
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        # At 120 columns the last column of the hosts screen is whole, long names and all.
        lines = screen_lines(app)
        header = next(line for line in lines if " host " in line and " state " in line)
        assert " reclaim " in header
        assert any("(session)" in line for line in lines)


# -- the table between 140 and 149 columns -----------------------------------------------------
@pytest.mark.parametrize("width", [140, 145, 149, 150, 159, 160, 170])
async def test_the_table_keeps_name_and_memory_columns_readable(width):
    app = make_app([DEMO])
    async with app.run_test(size=(width, 40)) as pilot:
        await ready(app, pilot)
        table = app.table
        header = "".join(segment.text for segment in table.render_line(0))
        assert header.rstrip().endswith("age")  # every column, the last one too
        bar = table.column_x("age") - table.column_x("bar") - 2 * PADDING
        name = table.column_x("state") - table.column_x("name") - 2 * PADDING
        assert bar >= BAR_READABLE and name >= NAME_READABLE  # a bar, not a sliver
        names = {table.get_cell_at((row, 0)).plain.strip() for row in range(table.row_count)}
        assert {"web-frontend-01", "web-frontend-02", "staging-api"} <= names


# -- the typed entry ----------------------------------------------------------------------------
DOMAIN = DomainSnapshot("test:///x", "u", "alpha", DomainState.RUNNING, 4 * GIB, 3 * GIB)


def test_above_the_maximum_says_by_how_much():
    kib, line = check_target("4194305K", DOMAIN, None)
    assert kib is None
    assert line.plain == "✖ 4194305 KiB is above the maximum 4 GiB by 1 KiB"


def test_below_the_smallest_target_the_preview_shows_what_will_be_asked():
    kib, line = check_target("1K", DOMAIN, None)
    assert kib == 1 * MIB
    assert line.plain.startswith("= 1 MiB  (1,024 KiB)")
    assert "smallest target" in line.plain


async def test_the_preview_and_the_confirm_dialog_agree_on_1k(node, memory_calls):
    spec = DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB)  # no stats: shrinks ask
    app = make_app([node([spec])])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TargetEntryScreen)
        await pilot.press("1", "K")
        await pilot.pause()
        assert "= 1 MiB" in plain(app.screen.query_one("#entry-check", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmFloorScreen)
        assert app.screen.target_kib == 1 * MIB
        assert "→ 1.00M" in plain(app.screen.query_one("#confirm-change", Static))
        await pilot.press("escape")
        await pilot.pause()
    assert memory_calls.attempted() == []
