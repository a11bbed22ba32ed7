"""The app's life: the fleet starts and stops, several hosts, surprises do not end it."""

from __future__ import annotations

import threading

from nodefiles import GIB, DomainSpec
from tuihelpers import dom, emit, host, make_app, plain, ready, table_names, until

from balloon_tui.core.model import HostStatus
from balloon_tui.tui import create_app, run_app
from balloon_tui.tui.fleetlink import Inbox


async def test_fleet_is_started_on_mount_and_stopped_on_exit(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert fake.fleet.started and not fake.fleet.stopped
        await pilot.press("ctrl+r")
        assert fake.fleet.refreshed == 1
    assert fake.fleet.stopped


async def test_ticks_that_arrive_while_the_app_is_busy_collapse(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        applied = []
        original = app.main.view.apply

        def counting(snapshot):
            applied.append(snapshot.taken_at)
            return original(snapshot)

        app.main.view.apply = counting
        # 200 ticks while the event loop does not get a turn (as when it is busy)...
        for tick in range(200):
            app.main._thread_snapshot(
                host(dom("a", 1, actual=GIB + tick * 1024), taken_at=1000.0 + tick)
            )
        await pilot.pause()
        # ...are applied once, the newest.
        assert applied == [1199.0]
        assert next(iter(app.rows.values())).domain.actual_kib == GIB + 199 * 1024


async def test_snapshots_from_a_thread_arrive(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)):
        thread = threading.Thread(target=lambda: app.main._thread_snapshot(host(dom("a", 1))))
        thread.start()
        thread.join()
        await until(lambda: bool(app.rows), what="the snapshot")
        assert app.ready.is_set()


def test_inbox_wakes_once_until_emptied():
    inbox = Inbox()
    assert inbox.put(host(dom("a", 1)))
    assert not inbox.put(host(dom("a", 1), taken_at=2.0))
    assert [h.taken_at for h in inbox.take()] == [2.0]
    assert inbox.put(host(dom("a", 1)))


async def test_two_hosts_have_a_host_column_and_a_line_each(node, memory_calls):
    first = node([DomainSpec("web", max_kib=2 * GIB)])
    second = node(
        [DomainSpec("web", max_kib=4 * GIB, stats_period=2), DomainSpec("db", max_kib=GIB)]
    )
    app = make_app([first, second])
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app, pilot)
        await until(lambda: len(app.rows) == 3, what="both hosts")
        assert sorted(table_names(app)) == ["db", "web", "web"]
        hosts = plain(app.query_one("#hosts"))
        assert hosts.count("test:node") == 2 and hosts.count(" ok ") == 2
        assert "host" in app.table.column_keys
        # Same name on two hosts: the keys (host|uuid) keep them apart; write the second.
        [key] = [k for k, r in app.rows.items() if r.domain.name == "web" and k[0] == second]
        from balloon_tui.tui.render import row_key

        app.table.move_cursor(row=app.table.get_row_index(row_key(*key)))
        await pilot.pause()
        await pilot.press("minus")
        await until(lambda: memory_calls.accepted("web"), what="the write")
        assert memory_calls.attempted() == [("web", 4 * GIB - 64 * 1024, 1)]
        assert app.rows[key].target_kib == 4 * GIB - 64 * 1024


async def test_a_broken_host_is_reported_and_the_others_go_on(node, tmp_path):
    good = node([DomainSpec("web")])
    bad = f"test://{tmp_path}/missing.xml"
    app = make_app([good, bad])
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app, pilot)
        await until(
            lambda: (
                app.main.hosts.get(bad) is not None
                and app.main.hosts[bad].status is HostStatus.DISCONNECTED
            ),
            what="the bad host",
        )
        assert "disconnected — retrying" in plain(app.query_one("#hosts"))
        assert any("missing.xml" in line for line in app.log_panel.lines_written)
        assert table_names(app) == ["web"]
        assert app.is_running


async def test_a_surprising_snapshot_is_logged_not_fatal(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await emit(app, pilot, host(dom("a", 1)))
        broken = host(dom("a", 1), taken_at=1001.0)
        object.__setattr__(broken, "domains", (None,))  # not a domain at all
        await emit(app, pilot, broken)
        assert app.is_running
        assert any("internal error" in line for line in app.log_panel.lines_written)
        await emit(app, pilot, host(dom("b", 2), taken_at=1002.0))
        assert table_names(app) == ["b"]


def test_run_app_passes_the_cli_options(monkeypatch):
    seen = {}

    class Recorder:
        def __init__(self, uris, **kwargs):
            seen.update(kwargs, uris=uris)
            self.readonly = kwargs["readonly"]

    def fake_run(self, **kwargs):
        seen["run"] = kwargs
        self.main._fleet_factory(lambda _s: None, lambda _r: None)

    from balloon_tui.tui.app import BalloonApp

    monkeypatch.setattr(BalloonApp, "run", fake_run)
    audit = object()
    assert (
        run_app(
            ["test:///x.xml"],
            readonly=True,
            refresh=0.5,
            mouse=False,
            audit=audit,
            fleet_class=Recorder,
        )
        == 0
    )
    assert seen["uris"] == ["test:///x.xml"] and seen["readonly"] is True
    assert seen["interval"] == 0.5 and seen["audit"] is audit
    assert seen["run"] == {"mouse": False}
