"""The main screen's state: selection and mode are reactives drawn by their watchers; the
Fleet protocol's optional parts have defaults; the palette acts on the main screen."""

from __future__ import annotations

from collections.abc import Callable

from tuihelpers import dom, emit, host, plain, select

from balloon_tui.core.model import BalloonDevice, HostSnapshot
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult
from balloon_tui.tui import create_app
from balloon_tui.tui.commands import BalloonCommands
from balloon_tui.tui.fleetlink import FleetLike
from balloon_tui.tui.screens.hosts import HostsScreen
from balloon_tui.tui.widgets.statusbar import StatusBar


async def test_setting_the_selection_draws_the_panel_and_clearing_it_empties_it(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1), dom("beta", 2)))
        beta = next(k for k, r in app.rows.items() if r.domain.name == "beta")
        app.main.selected = beta
        assert app.panel.view is not None and app.panel.view.row.domain.key == beta
        assert "beta" in plain(app.query_one("#panel-title"))
        app.main.selected = None
        assert app.panel.view is None
        assert "no guest selected" in plain(app.query_one("#panel-title"))


async def test_a_vanished_selection_says_so_until_another_guest_is_chosen(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1), dom("beta", 2)))
        await select(app, pilot, "beta")
        await emit(app, pilot, host(dom("alpha", 1), taken_at=1002.0))
        assert app.selected is None and app.main.lost_name == "beta"
        assert "beta is gone" in plain(app.query_one("#panel-title"))
        await select(app, pilot, "alpha")
        assert app.main.lost_name is None


async def test_the_mode_watcher_updates_the_status_bar_and_the_panel(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1)))
        await select(app, pilot, "alpha")
        mode = app.query_one(StatusBar).query_one("#mode")
        assert "live" in plain(mode) and "persist" not in plain(mode)
        app.main.mode = ApplyMode.LIVE_PERSIST
        assert "live + persist" in plain(mode)
        assert app.panel.view is not None and app.panel.view.mode is ApplyMode.LIVE_PERSIST
        await pilot.press("p")  # the key goes through the same watcher
        assert app.main.mode is ApplyMode.LIVE and "persist" not in plain(mode)


class BareFleet(FleetLike):
    """A fleet with only the required members: arm_stats and use_prompt are the protocol's."""

    readonly = False

    def __init__(
        self, on_snapshot: Callable[[HostSnapshot], None], on_write: Callable[[WriteResult], None]
    ) -> None:
        self.prompt_asked = False

    @property
    def uris(self) -> list[str]:
        return ["test:///fake.xml"]

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def refresh(self) -> None: ...

    def request_target(self, request: TargetRequest) -> None: ...


async def test_a_fleet_without_the_optional_parts_says_it_cannot_arm_stats():
    app = create_app(BareFleet, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("quiet", 1, device=BalloonDevice("virtio"))))
        await select(app, pilot, "quiet")
        await pilot.press("a")
        await pilot.pause()
        log = "\n".join(app.log_panel.lines_written)
        assert "quiet: guest stats not armed: this connection cannot arm guest stats" in log
        assert any("cannot arm guest stats" in str(n.message) for n in app._notifications)


async def test_the_palette_acts_on_the_main_screen_from_a_dialog(fake):
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(app, pilot, host(dom("alpha", 1)))
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        provider = BalloonCommands(app.screen)
        [hit] = [
            h
            async for h in provider.search("sort by used memory")
            if h.text == "Sort by used memory"
        ]
        await hit.command()
        assert app.table.sort_column == "used"
