"""Colours resolved when drawn: the slider's handle in each bundled theme's target colour, and
a theme switch that recolours what is already on screen (panel, slider, table, log)."""

from __future__ import annotations

import re
import tomllib

import pytest
from rich.color import Color as RichColor
from rich.segment import Segment
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static
from tuihelpers import ready, select

from balloon_tui.tui import render
from balloon_tui.tui.themefiles import bundled_theme_files
from balloon_tui.tui.widgets.slider import HANDLE, BalloonSlider
from screenshots import demo_app

FILES = {f.name.removesuffix(".toml"): f for f in bundled_theme_files()}
THEMES = sorted(FILES)


def target_of(theme: str, key: str = "target") -> str:
    """The theme file's own [balloon] colour, read as the operator wrote it."""
    return str(tomllib.loads(FILES[theme].read_text(encoding="utf-8"))["balloon"][key])


def drawn(widget: Widget, glyph: str) -> list[Segment]:
    """The segments the widget draws now that hold `glyph`."""
    width, height = widget.size
    return [
        segment
        for strip in widget.render_lines(Region(0, 0, width, height))
        for segment in strip
        if glyph in segment.text
    ]


def colour_of(segment: Segment) -> RichColor | None:
    return segment.style.color if segment.style is not None else None


def test_every_bundled_theme_is_checked():
    assert THEMES == [
        "balloon-16",
        "balloon-colorblind",
        "balloon-dark",
        "balloon-high-contrast",
        "balloon-light",
    ]


@pytest.mark.parametrize("theme", THEMES)
async def test_the_handle_is_the_themes_target_colour(theme):
    app = demo_app(theme)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "web-frontend-01")
        slider = app.query_one(BalloonSlider)
        wanted = Color.parse(target_of(theme)).rich_color
        assert not slider.has_focus
        [handle] = drawn(slider, HANDLE)
        assert colour_of(handle) == wanted and handle.style is not None
        assert handle.style.bold and not handle.style.reverse
        slider.focus()
        await pilot.pause()
        [handle] = drawn(slider, HANDLE)
        assert colour_of(handle) == wanted and handle.style is not None
        assert handle.style.bold and handle.style.reverse  # held: the same colour, reversed
        if not app.current_theme.ansi:  # the screenshot shows RGB as it is
            slider.blur()
            await pilot.pause()
            assert _svg_fill(app.export_screenshot(), HANDLE) == target_of(theme).lower()


def _svg_fill(svg: str, glyph: str) -> str:
    """The fill colour of the text cell that shows `glyph` in Textual's SVG screenshot."""
    classes = dict(re.findall(r"\.(terminal-[\w-]+) \{ fill: (#[0-9a-f]{6})", svg))
    [name] = re.findall(r'<text class="(terminal-[\w-]+)"[^>]*>' + glyph, svg)
    return classes[name]


async def test_a_theme_switch_recolours_the_handle_legend_and_table():
    app = demo_app("balloon-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "web-frontend-01")
        slider = app.query_one(BalloonSlider)
        legend = app.query_one("#panel-legend", Static)
        dark = Color.parse(target_of("balloon-dark")).rich_color
        light = Color.parse(target_of("balloon-light")).rich_color
        assert colour_of(drawn(slider, HANDLE)[0]) == dark
        used = {
            name: Color.parse(target_of(name, "used")).rich_color
            for name in ("balloon-dark", "balloon-light")
        }
        bars = {colour_of(s) for s in drawn(app.table, render.GLYPH_USED)}
        assert used["balloon-dark"] in bars and used["balloon-light"] not in bars
        marks = drawn(legend, "▲")  # "▲ target 2.00G"
        assert marks and {colour_of(s) for s in marks} == {dark}
        app.theme = "balloon-light"
        await pilot.pause()
        await pilot.pause()
        assert colour_of(drawn(slider, HANDLE)[0]) == light
        bars = {colour_of(s) for s in drawn(app.table, render.GLYPH_USED)}
        assert used["balloon-light"] in bars and used["balloon-dark"] not in bars
        assert {colour_of(s) for s in drawn(legend, "▲")} == {light}


async def test_a_theme_switch_recolours_the_log():
    app = demo_app("balloon-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("l")
        log = app.log_panel
        log.add("the writer said no", "error")
        await pilot.pause()
        lines = log.query_one("#log-lines", Static)

        def colours(words: str) -> set[RichColor | None]:
            return {colour_of(s) for s in drawn(lines, words)}

        error = Color.parse(app.theme_variables["text-error"]).rich_color
        assert colours("said no") == {error}
        app.theme = "balloon-light"
        await pilot.pause()
        await pilot.pause()
        light_error = Color.parse(app.theme_variables["text-error"]).rich_color
        assert light_error != error
        assert colours("said no") == {light_error}  # written before, drawn in the new theme
        log.add("a line written under the new theme", "error")
        await pilot.pause()
        assert colours("new theme") == {light_error}
        assert log.lines_written[-2:] == [
            "the writer said no",
            "a line written under the new theme",
        ]


def test_every_named_style_has_a_theme_style_and_a_fallback():
    """A name render.py uses without a theme variable would draw uncoloured (or raise)."""
    names = {
        value
        for key, value in vars(render).items()
        if key.startswith("STYLE_") and value != render.STYLE_DIM
    }
    assert names == set(render.THEME_STYLES) == set(render.FALLBACK_STYLES)


def test_themed_text_names_variables_not_colours():
    text = render.bar_text(4096, 3072, 1024, 2048, 8)
    content = render.themed(text)
    assert content.plain == text.plain
    styles = {str(span.style) for span in content.spans}
    assert "bold $balloon-target" in styles and "$balloon-used" in styles
    assert not any("#" in style or "yellow" in style for style in styles)
    assert render.themed("[b]name[/b]").plain == "[b]name[/b]"  # data, never markup
