"""Keys end in exactly the expected setMemoryFlags call, and the table shows the target."""

from __future__ import annotations

import libvirt
import pytest
from nodefiles import GIB, MIB, DomainSpec
from tuihelpers import make_app, ready, select, shown_target, until

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=8 * GIB, current_kib=6 * GIB, stats_period=2),
]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("minus", 2 * GIB - 64 * MIB),
        ("plus", 2 * GIB + 64 * MIB),
        ("underscore", 2 * GIB - 512 * MIB),
        ("equals_sign", 2 * GIB + 512 * MIB),
    ],
)
async def test_step_keys_write_one_call_each(node, memory_calls, key, expected):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press(key)
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", expected, LIVE)]
        await until(
            lambda: shown_target(app, "alpha").endswith(_short(expected)),
            what="the table to show the target",
        )


async def test_steps_add_up_from_the_last_requested_target(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "beta")
        await pilot.press("plus", "plus", "equals_sign", "minus")
        want = 6 * GIB + 64 * MIB + 512 * MIB
        await until(
            lambda: memory_calls.accepted("beta")[-1:] == [(want, LIVE)],
            what="the last step to arrive",
        )
        await until(lambda: shown_target(app, "beta").endswith("6.56G"), what="6.56G shown")
        # The target never jumps back: every call was a step from the one before.
        values = [kib for kib, _ in memory_calls.accepted("beta")]
        assert values == sorted(values[:3]) + values[3:]
        assert values[-1] == want


async def test_keys_work_with_the_slider_focused(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("enter")  # the table's Enter: to the slider
        assert app.focused is app.panel.slider
        await pilot.press("minus")
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
        assert memory_calls.attempted() == [("alpha", 2 * GIB - 64 * MIB, LIVE)]


async def test_slider_keys_step_and_go_to_floor_and_maximum(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        app.panel.slider.focus()
        await pilot.press("right")
        await until(lambda: len(memory_calls.accepted()) == 1, what="right")
        await pilot.press("left", "left")
        await until(
            lambda: memory_calls.accepted()[-1:] == [(2 * GIB - 64 * MIB, LIVE)], what="left twice"
        )
        await pilot.press("end")
        await until(lambda: memory_calls.accepted()[-1:] == [(4 * GIB, LIVE)], what="end")
        # The floor is used + max(128 MiB, 20 % of used); the test driver reports
        # usable = actual / 2, so at 4 GiB the guest uses 2 GiB.
        await until(
            lambda: app.rows[app.selected].domain.actual_kib == 4 * GIB,
            what="actual at the maximum",
        )
        floor = 2 * GIB + int(2 * GIB * 0.2)
        await pilot.press("home")
        await until(lambda: memory_calls.accepted()[-1:] == [(floor, LIVE)], what="home")


async def test_mode_toggle_writes_live_and_config(node, memory_calls):
    app = make_app([node(SPECS)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("p")
        assert "live + persist" in str(app.query_one("#mode").render())
        await pilot.press("minus")
        # The test driver calls LIVE|CONFIG "mutually exclusive": the Fleet makes two calls.
        await until(lambda: len(memory_calls.accepted("alpha")) == 2, what="two calls")
        want = 2 * GIB - 64 * MIB
        assert memory_calls.accepted("alpha") == [(want, LIVE), (want, CONFIG)]
        await pilot.press("p")
        assert "live + persist" not in str(app.query_one("#mode").render())


async def test_shut_off_guest_gets_a_config_write(node, memory_calls):
    specs = [DomainSpec("cold", max_kib=4 * GIB, current_kib=4 * GIB, runstate=5)]
    app = make_app([node(specs)])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "cold")
        await pilot.press("underscore")
        await until(lambda: memory_calls.accepted("cold"), what="the write")
        assert memory_calls.attempted() == [("cold", 4 * GIB - 512 * MIB, CONFIG)]
        await until(
            lambda: app.rows[app.selected].domain.actual_kib == 4 * GIB - 512 * MIB,
            what="the config size",
        )


def _short(kib: int) -> str:
    from balloon_tui.tui.render import short_size

    return short_size(kib)
