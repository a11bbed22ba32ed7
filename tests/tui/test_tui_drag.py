"""Mouse: drag the handle or click the track; the target is written once, on release."""

from __future__ import annotations

import libvirt
from nodefiles import GIB, DomainSpec
from tuihelpers import TRUSTING, on_track, plain, ready, select, shown_target, until
from tuihelpers import make_app as _make_app

from balloon_tui.tui.render import short_size

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE


def make_app(uris):
    """Mouse mechanics here; dragging below the safety floor: test_tui_safety.py."""
    return _make_app(uris, floor=TRUSTING)


SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=8 * GIB, current_kib=8 * GIB),
]


async def test_drag_writes_only_on_release(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        changed: list[int] = []
        start = slider.x_of(slider.value)
        end = slider.track_width // 4
        await pilot.mouse_down(slider, offset=on_track(slider, start))
        for x in range(start, end - 1, -3):
            await pilot.hover(slider, offset=on_track(slider, x))
            changed.append(slider.value)
        await pilot.hover(slider, offset=on_track(slider, end))
        assert slider.dragging
        # While dragging nothing reaches libvirt, however long it takes.
        app.fleet.refresh()
        await pilot.pause(0.5)
        assert memory_calls.attempted() == []
        assert slider.value == slider.value_at(end)  # the live tick did not move the handle
        preview = plain(app.query_one("#panel-progress"))
        assert f"◆ {short_size(slider.value_at(end))}  let go to set this target" in preview
        await pilot.mouse_up(slider, offset=on_track(slider, end))
        expected = slider.value_at(end)
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", expected, LIVE)]
        assert not slider.dragging
        await until(
            lambda: shown_target(app, "alpha").endswith(short_size(expected)),
            what="the table to show the dragged target",
        )
        assert len(set(changed)) > 1  # the handle followed the mouse


async def test_click_on_the_track_jumps_and_writes_on_release(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "beta")
        slider = app.panel.slider
        x = slider.track_width // 2
        await pilot.mouse_down(slider, offset=on_track(slider, x))
        assert slider.value == slider.value_at(x)  # jumped
        assert memory_calls.attempted() == []
        await pilot.mouse_up(slider, offset=on_track(slider, x))
        await until(lambda: memory_calls.accepted("beta"), what="the write")
        assert memory_calls.attempted() == [("beta", slider.value_at(x), LIVE)]
        assert 3.5 * GIB < slider.value_at(x) < 4.5 * GIB


async def test_drag_past_the_end_is_the_maximum(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        await pilot.mouse_down(slider, offset=on_track(slider, 3))
        # Captured: the mouse may leave the widget (here: to the screen's right edge).
        outside = (app.size.width - 1, slider.region.y)
        assert outside[0] >= slider.content_region.right
        await pilot.hover(None, offset=outside)
        await pilot.mouse_up(None, offset=outside)
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 4 * GIB, LIVE)]


async def test_changed_posts_while_dragging_committed_once(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        slider = app.panel.slider
        seen: list[str] = []
        original = slider.post_message

        def spy(message):
            seen.append(type(message).__name__)
            return original(message)

        slider.post_message = spy  # type: ignore[method-assign]
        await pilot.mouse_down(slider, offset=on_track(slider, 5))
        await pilot.hover(slider, offset=on_track(slider, 9))
        await pilot.hover(slider, offset=on_track(slider, 14))
        await pilot.mouse_up(slider, offset=on_track(slider, 14))
        assert seen.count("Committed") == 1
        assert seen.count("Changed") >= 2
        # Live data never posts Changed.
        seen.clear()
        app.fleet.refresh()
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        await pilot.pause(0.5)
        assert "Changed" not in seen and "Committed" not in seen


async def test_many_drags_coalesce_last_value_wins(node, memory_calls):
    memory_calls.delay = 1.5  # a slow hypervisor: drags arrive faster than writes finish
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "beta")
        slider = app.panel.slider
        ends = [10, 30, 20, 40, 25]
        for end in ends:
            await pilot.mouse_down(slider, offset=on_track(slider, end - 2))
            await pilot.hover(slider, offset=on_track(slider, end))
            await pilot.mouse_up(slider, offset=on_track(slider, end))
        last = slider.value_at(ends[-1])
        # What the operator sees is the last drag at once, not the write in progress.
        assert shown_target(app, "beta").endswith(short_size(last))
        await until(
            lambda: memory_calls.accepted("beta")[-1:] == [(last, LIVE)],
            timeout=15,
            what="the last drag to be written",
        )
        await pilot.pause(2.0)  # nothing else may follow the last value
        values = [kib for kib, _ in memory_calls.accepted("beta")]
        assert values[-1] == last
        assert values[0] == slider.value_at(ends[0])  # the first went straight out
        assert len(values) < len(ends)  # queued ones were replaced by newer ones
        assert memory_calls.max_in_flight == 1
        await until(
            lambda: shown_target(app, "beta").endswith(short_size(last)),
            what="the table to settle on the last value",
        )
