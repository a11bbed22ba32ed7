"""BalloonSlider on its own: clamping, geometry, messages, live updates during a drag."""

from __future__ import annotations

from nodefiles import GIB, MIB
from textual.app import App, ComposeResult

from balloon_tui.core.model import DomainKey
from balloon_tui.tui.widgets.slider import BalloonSlider


class SliderApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield BalloonSlider()

    def on_balloon_slider_changed(self, event: BalloonSlider.Changed) -> None:
        self.messages.append(("changed", event.value))

    def on_balloon_slider_committed(self, event: BalloonSlider.Committed) -> None:
        self.messages.append(("committed", event.value))


def _live(
    slider: BalloonSlider, target: int = 2 * GIB, subject: DomainKey = ("test:///h", "a")
) -> None:
    slider.set_live(
        subject=subject, maximum=4 * GIB, target=target, actual=3 * GIB, used=GIB, floor=GIB
    )


async def test_value_is_validated_and_clamped():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        await pilot.pause()
        assert app.messages == []  # live data posts nothing
        slider.value = 10 * GIB
        assert slider.value == 4 * GIB
        slider.value = -5
        assert slider.value == MIB  # the smallest target a guest can be given
        await pilot.pause()
        assert [kind for kind, _ in app.messages] == ["changed", "changed"]


async def test_geometry_round_trips_and_snaps_to_a_grain():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        await pilot.pause()
        assert slider.track_width == 64
        assert slider.value_at(slider.track_width - 1) == 4 * GIB
        assert slider.value_at(0) == MIB
        assert slider.grain() == 64 * MIB  # 4 GiB over 63 cells: 65 MiB a cell
        for x in range(1, slider.track_width - 1):
            value = slider.value_at(x)
            assert value % (64 * MIB) == 0
            assert abs(slider.x_of(value) - x) <= 1


async def test_keys_commit_and_a_drag_survives_live_ticks():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        slider.focus()
        await pilot.press("right")
        assert app.messages[-1] == ("committed", 2 * GIB + 64 * MIB)
        await pilot.press("shift+left")
        assert app.messages[-1] == ("committed", 2 * GIB + 64 * MIB - 512 * MIB)
        await pilot.press("home")
        assert app.messages[-1] == ("committed", GIB)
        await pilot.press("end")
        assert app.messages[-1] == ("committed", 4 * GIB)
        app.messages.clear()
        await pilot.mouse_down(slider, offset=(11, 0))
        held = slider.value
        _live(slider, target=3 * GIB)  # a tick arrives mid-drag
        assert slider.value == held and slider.dragging
        # Another guest: the drag is abandoned.
        _live(slider, target=3 * GIB, subject=("test:///h", "b"))
        assert not slider.dragging and slider.value == 3 * GIB
        await pilot.mouse_up(slider, offset=(30, 0))
        assert all(kind == "changed" for kind, _ in app.messages)


async def test_disabled_slider_ignores_mouse_and_keys():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        slider.disabled = True
        await pilot.pause()
        await pilot.mouse_down(slider, offset=(20, 0))
        await pilot.mouse_up(slider, offset=(20, 0))
        slider.action_step(64 * MIB)
        slider.action_to_maximum()
        slider.action_commit()
        await pilot.pause()
        assert app.messages == [] and slider.value == 2 * GIB


async def test_lost_capture_cancels_the_drag_without_a_commit():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        await pilot.mouse_down(slider, offset=(40, 0))
        assert slider.dragging and slider.value != 2 * GIB
        app.capture_mouse(None)  # e.g. the screen changed under the pointer
        await pilot.pause()
        assert not slider.dragging and slider.value == 2 * GIB
        assert ("committed", slider.value_at(39)) not in app.messages
        assert not any(kind == "committed" for kind, _ in app.messages)


async def test_render_shows_handle_and_markers():
    app = SliderApp()
    async with app.run_test(size=(66, 5)) as pilot:
        slider = app.query_one(BalloonSlider)
        _live(slider)
        await pilot.pause()
        track, marks = slider.render().plain.split("\n")
        assert len(track) == len(marks) == 64
        assert track[slider.x_of(2 * GIB)] == "◆"
        assert marks[slider.x_of(2 * GIB)] == "▲"
        assert marks[slider.x_of(3 * GIB)] == "a"
        assert marks[slider.x_of(GIB)] == "f"  # the floor is drawn over used here
