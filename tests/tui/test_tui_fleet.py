"""Several hosts in one view: host lines, fleet totals, the hosts screen, grouping."""

from __future__ import annotations

from nodefiles import GIB, MIB, DomainSpec
from tuihelpers import dom, emit, host, make_app, plain, ready, table_names, until

from balloon_tui.core.model import KsmState, NodeMemory
from balloon_tui.core.summary import summarize
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.hosts import ALL_HOSTS, COLUMNS, HostsScreen, host_rows
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


async def test_hosts_screen_shows_host_memory_and_ksm_unknown_where_not_given(fake):
    told = host(
        dom("alpha", 1),
        node_memory=NodeMemory(16 * GIB, 8 * GIB, 64 * MIB, 2 * GIB),
        ksm=KsmState(pages_shared=10, pages_sharing=2560, page_size_kib=4),
    )
    silent = host(dom("beta", 2), uri="test:///silent")
    rows = dict(host_rows([told, silent]))
    cache, ksm = COLUMNS.index("cache"), COLUMNS.index("ksm")
    assert (str(rows[told.uri][cache]), str(rows[told.uri][ksm])) == ("2.06G", "10.0M")
    assert (str(rows[silent.uri][cache]), str(rows[silent.uri][ksm])) == ("?", "?")
    assert (str(rows[ALL_HOSTS][cache]), str(rows[ALL_HOSTS][ksm])) == ("?", "?")  # partial: ?
    assert str(dict(host_rows([told]))[ALL_HOSTS][ksm]) == "10.0M"
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await emit(app, pilot, told)
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HostsScreen), what="the hosts screen")
        await pilot.pause()
        assert "? unknown" in plain(app.screen.query_one("#hosts-memory"))  # all hosts row
        await pilot.press("down")
        await pilot.pause()
        lines = plain(app.screen.query_one("#hosts-memory")).splitlines()
        assert lines[1:] == [
            "host memory: total 16.0 GiB · free 8.00 GiB · buffers 64.0 MiB · cached 2.00 GiB",
            "KSM: saves 10.0 MiB · 10 pages shared by 2,560 more · 4 KiB pages · "
            "unknown full scans",
        ]
