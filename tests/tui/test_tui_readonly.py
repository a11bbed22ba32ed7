"""Read-only: every write path is tried and none reaches libvirt (nor even the Fleet)."""

from __future__ import annotations

from nodefiles import GIB, DomainSpec
from tuihelpers import make_app, ready, select

from balloon_tui.core.writes import WriteSource
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
            await app.run_action(action, app.main)
        slider.action_step(65536)
        slider.action_to_maximum()
        slider.action_commit()
        # And the single gate itself.
        assert app.main.writes.submit_target(app.selected, 3 * GIB, WriteSource.KEY) is False

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
        app.fleet.request_target(
            TargetRequest(
                row.domain.host_uri,
                row.domain.uuid,
                row.domain.name,
                GIB,
                source=WriteSource.KEY,
            )
        )
        for _ in range(50):
            if results:
                break
            await pilot.pause(0.05)
        assert results and not results[0].ok
    assert memory_calls.attempted() == []


async def test_undo_arm_stats_and_confirmations_never_write(node, memory_calls, monkeypatch):
    """The paths added with the safety floor: `u`, `a`, --arm-stats and the floor question."""
    import libvirt

    from balloon_tui.core.safety import DEFAULT_POLICY
    from balloon_tui.core.writes import TargetRequest
    from balloon_tui.tui.screens.confirm import ConfirmFloorScreen

    periods = []
    monkeypatch.setattr(
        libvirt.virDomain, "setMemoryStatsPeriod", lambda self, *args: periods.append(args)
    )
    specs = [*SPECS, DomainSpec("quiet", max_kib=2 * GIB, stats_period=0)]
    app = make_app([node(specs)], readonly=True, arm_stats=2)  # --arm-stats is ignored here
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        requests = []
        app.fleet.request_target = requests.append
        key = await select(app, pilot, "alpha")
        # Undo: even with something on the stack, the read-only gate comes first.
        app.main.writes.undo_history.sent(key, 3 * GIB, 2 * GIB, undo=False)
        await pilot.press("u")
        # A target below the floor is refused before any question is asked.
        assert app.main.writes.submit_target(key, 64 * 1024, WriteSource.KEY) is False
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmFloorScreen)
        # Arming stats: refused with a message, also through the palette's action.
        quiet = await select(app, pilot, "quiet")
        assert "read-only: not armed here" in str(app.query_one("#panel-title").render())
        await pilot.press("a")
        await app.run_action("arm_stats", app.main)
        # Were a question answered "set anyway" on a read-only app, it is still refused.
        row = app.rows[quiet]
        request = TargetRequest(*quiet, "quiet", 64 * 1024, source=WriteSource.KEY)
        assessment = DEFAULT_POLICY.assess(row.domain, 64 * 1024, app.main.clock())
        app.main.writes.confirm(request, row, row.domain.actual_kib, assessment, "test")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmFloorScreen)
        await pilot.press("tab", "enter")
        await pilot.pause()
        app.fleet.refresh()
        await pilot.pause(0.4)
        assert requests == []
        log = " ".join(app.log_panel.lines_written)
        assert "refused (undo)" in log and "refused (arm stats)" in log
        assert "refused (test)" in log
    assert memory_calls.attempted() == []
    assert periods == []
