"""Read-only: every write path is tried and none reaches libvirt (nor even the Fleet)."""

from __future__ import annotations

from nodefiles import GIB, DomainSpec
from tuihelpers import make_app, ready, select

from balloon_tui.tui.screens.entry import TargetEntryScreen

SPECS = [DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2)]


async def test_no_write_path_reaches_libvirt(node, memory_calls):
    app = make_app([node(SPECS)], readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        requests = []
        app.fleet.request_target = requests.append  # nothing may even ask the Fleet
        await select(app, pilot, "alpha")
        slider = app.panel.slider

        # The badge and the disabled slider say so before anyone tries.
        assert app.query_one("#status").has_class("-readonly")
        assert app.query_one("#readonly").display
        assert slider.disabled

        # Keys from the table.
        await pilot.press("minus", "plus", "underscore", "equals_sign")
        # The typed entry does not even open.
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TargetEntryScreen)
        # Slider: it cannot take focus, so its keys go nowhere; try them anyway.
        slider.focus()
        await pilot.press("left", "right", "home", "end", "enter")
        # Drag and click on the track.
        await pilot.mouse_down(slider, offset=(3, 0))
        await pilot.hover(slider, offset=(20, 0))
        await pilot.mouse_up(slider, offset=(20, 0))
        await pilot.click(slider, offset=(30, 0))
        assert not slider.dragging
        # Palette-only actions and the slider's own actions, called directly.
        for action in ("target_floor", "target_maximum", "step_target(65536)"):
            await app.run_action(action)
        slider.action_step(65536)
        slider.action_to_maximum()
        slider.action_commit()
        # And the single gate itself.
        assert app.submit_target(app.selected, 3 * GIB, "test") is False

        app.fleet.refresh()
        await pilot.pause(0.5)
        assert requests == []
        assert "refused" in " ".join(app.log_panel.lines_written)
    assert memory_calls.attempted() == []


async def test_the_fleet_refuses_too(node, memory_calls):
    """Defence in depth: a request that got past the app is refused by the read-only Fleet."""
    app = make_app([node(SPECS)], readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        from balloon_tui.core.writes import TargetRequest

        row = next(iter(app.rows.values()))
        results = []
        app.fleet.on_write = results.append  # type: ignore[attr-defined]
        for worker in app.fleet.workers.values():  # type: ignore[attr-defined]
            worker.on_write = results.append
        app.fleet.request_target(TargetRequest(row.domain.host_uri, row.domain.uuid,
                                               row.domain.name, GIB))
        for _ in range(50):
            if results:
                break
            await pilot.pause(0.05)
        assert results and not results[0].ok
    assert memory_calls.attempted() == []
