"""Several hosts in one view: host lines, fleet totals, the hosts screen, grouping."""

from __future__ import annotations

from nodefiles import GIB, DomainSpec
from tuihelpers import make_app, ready, table_names

from balloon_tui.core.summary import summarize
from balloon_tui.tui.screens.hosts import ALL_HOSTS, HostsScreen, host_rows
from balloon_tui.tui.widgets.statusbar import HOST_LINES_MAX


def _specs(prefix: str, count: int) -> list[DomainSpec]:
    return [
        DomainSpec(
            f"{prefix}-{i}",
            max_kib=4 * GIB,
            current_kib=2 * GIB,
            stats_period=5,
            uuid=f"{i:08d}-0000-4000-8000-{abs(hash(prefix)) % 10**12:012d}",
        )
        for i in range(count)
    ]


def _status_text(app) -> str:
    return str(app.query_one("#hosts").render())


async def test_each_host_has_a_line_and_the_fleet_a_total(node):
    uris = [node(_specs("a", 2), host_memory_kib=16 * GIB), node(_specs("b", 3))]
    app = make_app(uris)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        text = _status_text(app)
        lines = text.splitlines()
        assert len(lines) == 3  # two hosts and the total
        assert "RAM 16.0G" in lines[0] and "max 8.00G" in lines[0] and "over 0.50x" in lines[0]
        assert lines[2].startswith("Σ 2/2 hosts")
        assert "5/5 guests" in lines[2]


async def test_many_hosts_collapse_to_one_line_naming_the_ones_down(node, tmp_path):
    uris = [node(_specs(f"h{i}", 1)) for i in range(HOST_LINES_MAX + 2)]
    app = make_app(uris)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        lines = _status_text(app).splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"Σ {len(uris)}/{len(uris)} hosts")


async def test_hosts_screen_filters_the_table_to_one_host_and_back(node):
    uris = [node(_specs("alpha", 2)), node(_specs("beta", 3))]
    app = make_app(uris)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        await pilot.press("down", "down", "enter")  # the first row is "all hosts"
        await pilot.pause()
        assert sorted(table_names(app)) == ["beta-0", "beta-1", "beta-2"]
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("up", "up", "up", "enter")
        await pilot.pause()
        assert len(table_names(app)) == 5


async def test_sorting_by_host_groups_the_guests(node):
    uris = [node(_specs("zz", 2)), node(_specs("aa", 2))]
    app = make_app(uris)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(app, pilot)
        app.table.sort_by("host")
        await pilot.pause()
        names = table_names(app)
        hosts = [n.split("-")[0] for n in names]
        assert hosts == sorted(hosts, key=lambda h: uris[["zz", "aa"].index(h)])


def test_host_rows_start_with_the_fleet_total(node):
    from balloon_tui.core.model import HostSnapshot, HostStatus

    hosts = [HostSnapshot(uri="test:///x.xml", status=HostStatus.DISCONNECTED, error="gone")]
    rows = host_rows(hosts)
    assert rows[0][0] == ALL_HOSTS
    assert rows[1][0] == "test:///x.xml"
    assert "disconnected" in str(rows[1][1][1])
    assert summarize(hosts).hosts_ok == 0
