"""Themes: the bundled files, the balloon colours, broken files, --theme, the remembered choice."""

from __future__ import annotations

import io
import json
import signal
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from rich.color import ColorType
from rich.console import Console
from textual.command import CommandPalette
from textual.theme import BUILTIN_THEMES, Theme, ThemeProvider
from textual.widgets._toast import Toast
from tuihelpers import ready, until

from balloon_tui import cli
from balloon_tui.core.config import ConfigError, read_config, theme_setting
from balloon_tui.core.display import has_unsafe, shown, visible
from balloon_tui.tui import render
from balloon_tui.tui.app import BalloonApp
from balloon_tui.tui.themefiles import (
    BALLOON_COLOURS,
    DEFAULT_THEME,
    SIXTEEN_COLOUR_THEME,
    ThemeError,
    balloon_defaults,
    bundled_theme_files,
    load_themes,
    parse_theme,
    text_styles,
)
from balloon_tui.tui.themes import wants_sixteen_colours
from balloon_tui.tui.widgets.history import ScaledSparkline
from screenshots import demo_app

REPO = Path(__file__).resolve().parents[2]
OURS = (
    "balloon-dark",
    "balloon-light",
    "balloon-high-contrast",
    "balloon-16",
    "balloon-colorblind",
)
GOOD = """
name = "mine"
primary = "#336699"
[balloon]
target = "ansi_bright_green"
"""


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private $XDG_CONFIG_HOME; returns its balloon-tui folder (not created)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "balloon-tui"


def recording(app: BalloonApp) -> list[tuple[str, dict[str, Any]]]:
    """Every notification the app raises from now on: (message, title/severity...)."""
    notes: list[tuple[str, dict[str, Any]]] = []
    original = app.notify

    def notify(message: str, **options: Any) -> None:
        notes.append((message, options))
        original(message, **options)

    app.notify = notify  # type: ignore[method-assign]
    return notes


# -- the files -------------------------------------------------------------------------------
def test_the_bundled_themes_load_and_set_every_balloon_colour():
    themes, problems = load_themes(None)
    assert problems == []
    by_name = {t.name: t for t in themes}
    assert set(OURS) <= set(by_name)
    assert len(bundled_theme_files()) >= 5
    for theme in themes:
        for key in BALLOON_COLOURS:
            assert f"balloon-{key}" in theme.variables, (theme.name, key)
    assert by_name["balloon-16"].ansi
    assert all(
        v.startswith("ansi_")
        for k, v in by_name["balloon-16"].variables.items()
        if k.startswith("balloon-")
    )
    assert by_name["balloon-light"].dark is False


def test_the_top_level_themes_folder_is_the_packaged_one():
    top = REPO / "themes"
    assert top.is_symlink() and top.resolve() == (REPO / "balloon_tui" / "themes").resolve()
    assert {p.name for p in top.glob("*.toml")} == {f.name for f in bundled_theme_files()}
    assert '"themes/*.toml"' in (REPO / "pyproject.toml").read_text()


def test_a_theme_file_in_full():
    theme = parse_theme(GOOD + '\n[variables]\n"footer-key-foreground" = "#ff0000 50%"\n')
    assert theme.name == "mine" and theme.primary == "#336699" and theme.dark
    assert theme.variables == {
        "balloon-target": "ansi_bright_green",
        "footer-key-foreground": "#ff0000 50%",
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name = 'x'\nprimary = '#123456'\n[balloon\n", "not valid TOML"),
        ("name = 'x'\nprimary = 'not-a-colour'\n", "bad colour for primary"),
        ("name = 'x'\nprimary = '#123'\nsurface = 12\n", "surface must be a colour"),
        ("primary = '#123456'\n", "no name"),
        ("name = ''\nprimary = '#123456'\n", "bad name"),
        ("name = 'x'\n", "no primary"),
        ("name = 'x'\nprimary = '#123'\nprimery = '#123'\n", "unknown key 'primery'"),
        ("name = 'x'\nprimary = '#123'\ndark = 'yes'\n", "dark must be true or false"),
        ("name = 'x'\nprimary = '#123'\n[balloon]\ntargte = '#123'\n", "unknown balloon colour"),
        (
            "name = 'x'\nprimary = '#123'\n[balloon]\nused = 'ansi_purple'\n",
            "bad colour for balloon.used",
        ),
        (
            "name = 'x'\nprimary = '#123'\n[variables]\nborder = 'wobbly'\n",
            "bad value for variables.border",
        ),
        ("name = 'x'\nprimary = '#123'\nballoon = 3\n", "balloon must be a table"),
    ],
)
def test_what_is_wrong_with_a_theme_file_is_said(text, words):
    with pytest.raises(ThemeError, match=words):
        parse_theme(text)


def test_sixteen_colour_names_are_colours():
    theme = parse_theme(
        "name = 'x'\nansi = true\nprimary = 'ansi_blue'\n[balloon]\nused = 'ansi_bright_cyan'\n"
    )
    assert theme.ansi
    styles = text_styles({**theme.to_color_system().generate(), **theme.variables})
    colour = styles.styles[render.STYLE_USED].color
    assert colour is not None and colour.type is ColorType.STANDARD and colour.number == 14


# -- the colours reach the balloon ---------------------------------------------------------
@pytest.mark.parametrize("name", OURS)
async def test_every_theme_colours_the_balloon_from_its_variables(name):
    app = demo_app(theme=name)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        assert app.theme == name
        theme = app.current_theme
        variables = app.theme_variables
        for key, style in (
            ("used", render.STYLE_USED),
            ("actual", render.STYLE_FREE),
            ("taken", render.STYLE_BALLOONED),
            ("target", render.STYLE_TARGET),
            ("floor", render.STYLE_FLOOR),
            ("pending", render.STYLE_PENDING),
            ("stale", render.STYLE_STALE),
        ):
            assert variables[f"balloon-{key}"] == theme.variables[f"balloon-{key}"]
            wanted = text_styles(variables).styles[style].color
            assert app.console.get_style(style).color == wanted, (key, style)
        # CSS too: the history sparklines.
        spark = app.query_one("#spark-target", ScaledSparkline)
        colour = spark.get_component_styles("sparkline--max-color").color
        target = theme.variables["balloon-target"]
        assert colour.hex.lower() == target.lower() or colour.hex == target


@pytest.mark.parametrize(
    ("name", "kind"), [("nord", "dark"), ("textual-light", "light"), ("ansi-dark", "ansi")]
)
def test_textual_themes_get_balloon_colours_for_their_kind(name, kind):
    app = demo_app(theme=name)
    variables = app.get_css_variables()
    expected = balloon_defaults(BUILTIN_THEMES[name])
    assert {k: variables[k] for k in expected} == expected
    if kind == "ansi":
        assert all(v.startswith("ansi_") for v in expected.values())
    light = balloon_defaults(Theme("l", "#000000", dark=False))
    dark = balloon_defaults(Theme("d", "#000000"))
    assert (expected == light) == (kind == "light") and (expected == dark) == (kind == "dark")


async def test_switching_theme_recolours_what_is_already_shown():
    app = demo_app(theme="balloon-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        before = app.export_screenshot().lower()
        assert "#f2c94c" in before  # balloon-dark's target (legend, sparkline)
        app.theme = "balloon-light"
        await pilot.pause()
        await pilot.pause()
        after = app.export_screenshot().lower()
        assert "#a36a00" in after and "#f2c94c" not in after


def test_named_styles_need_no_theme():
    """Rich text from render.py prints on any console (fallback colours), never raises."""
    console = Console(file=io.StringIO(), width=40, color_system="standard", record=True)
    console.print(render.bar_text(4096, 3072, 1024, 2048, 30))
    console.print(render.state_text(next(iter(render._STATE_STYLES))))
    assert render.GLYPH_TARGET in console.export_text()


# -- broken files and the config ------------------------------------------------------------
async def test_broken_theme_files_are_reported_and_the_rest_load(config_home):
    folder = config_home / "themes"
    folder.mkdir(parents=True)
    (folder / "a-bad-toml.toml").write_text("name = 'x\nprimary = '#123456'\n")
    (folder / "b-bad-colour.toml").write_text("name = 'bad'\nprimary = 'blurple'\n")
    (folder / "c-no-name.toml").write_text("primary = '#123456'\n")
    (folder / "d-good.toml").write_text(GOOD)
    app = demo_app(theme=None, user_config=True)
    notes = recording(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        assert app.theme == DEFAULT_THEME
        assert {"mine", *OURS} <= set(app.available_themes)
        assert "bad" not in app.available_themes
        errors = [m for m, o in notes if o.get("title") == "theme not loaded"]
        assert len(errors) == 3
        for file, words in (
            ("a-bad-toml.toml", "not valid TOML"),
            ("b-bad-colour.toml", "bad colour for primary"),
            ("c-no-name.toml", "no name"),
        ):
            [message] = [m for m in errors if file in m]
            assert words in message and str(folder / file) in message
        assert all(o.get("severity") == "error" for m, o in notes if m in errors)
        app.theme = "mine"  # the good user theme works, with its own target colour
        await pilot.pause()
        assert app.theme_variables["balloon-target"] == "ansi_bright_green"
        await pilot.press("down")  # and the app runs on
        await pilot.pause()


async def test_the_choice_is_remembered(config_home):
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        assert app.theme == DEFAULT_THEME
        assert not (config_home / "config.toml").exists()  # nothing chosen, nothing written
        # ctrl+p → "Change theme" → our theme, typed and chosen.
        app.action_change_theme()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"balloon-high-contrast")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "balloon-high-contrast"
    path = config_home / "config.toml"
    assert tomllib.loads(path.read_text()) == {"theme": "balloon-high-contrast"}

    again = demo_app(theme=None, user_config=True)
    assert again.theme == "balloon-high-contrast"
    # --theme wins over the remembered one, for this session only.
    once = demo_app(theme="balloon-light", user_config=True)
    assert once.theme == "balloon-light"
    assert tomllib.loads(path.read_text()) == {"theme": "balloon-high-contrast"}


async def test_the_palette_lists_our_themes():
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        shown = [name for name, _run in ThemeProvider(app.screen).commands]
        assert set(OURS) <= set(shown)
        # What the palette's "Change theme" offers, typed into.
        app.action_change_theme()
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        hits = [hit async for hit in ThemeProvider(palette).search("balloon")]
        assert set(OURS) <= {str(hit.text or hit.match_display) for hit in hits}


async def test_a_broken_config_file_is_reported_and_left_alone(config_home):
    config_home.mkdir(parents=True)
    path = config_home / "config.toml"
    path.write_text("theme = balloon-light\n")  # no quotes: not TOML
    app = demo_app(theme=None, user_config=True)
    notes = recording(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        assert app.theme == DEFAULT_THEME  # the defaults
        [message] = [m for m, o in notes if o.get("title") == "settings not read"]
        assert str(path) in message and "not valid TOML" in message
        app.theme = "balloon-light"
        await pilot.pause()
        await pilot.pause()
        assert any(o.get("title") == "theme not remembered" for _m, o in notes)
    assert path.read_text() == "theme = balloon-light\n"


async def test_a_remembered_theme_that_is_gone(config_home):
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text('theme = "deleted-theme"\n')
    app = demo_app(theme=None, user_config=True)
    notes = recording(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        assert app.theme == DEFAULT_THEME
        assert any("deleted-theme" in m for m, _o in notes)


COMMENTED = """\
# my balloon-tui settings
hosts = [
    "test:///default",  # the lab box
]
theme = "balloon-light"   # easy on the eyes in daylight

[extra]  # not ours: left as it is
x = 1
"""


async def test_the_remembered_choice_keeps_the_operators_comments(config_home):
    config_home.mkdir(parents=True)
    path = config_home / "config.toml"
    path.write_text(COMMENTED)
    path.chmod(0o640)
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        assert app.theme == "balloon-light"
        app.theme = "balloon-high-contrast"
        await pilot.pause()
        await pilot.pause()
    assert path.read_text() == COMMENTED.replace('"balloon-light"', '"balloon-high-contrast"')
    assert path.stat().st_mode & 0o777 == 0o640


async def test_a_config_without_a_theme_gets_one_above_its_tables(config_home):
    config_home.mkdir(parents=True)
    path = config_home / "config.toml"
    text = COMMENTED.replace('theme = "balloon-light"   # easy on the eyes in daylight\n', "")
    path.write_text(text)
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        app.theme = "balloon-light"
        await pilot.pause()
        await pilot.pause()
    written = path.read_text()
    assert tomllib.loads(written) == {
        "hosts": ["test:///default"],
        "theme": "balloon-light",
        "extra": {"x": 1},
    }
    assert "# the lab box" in written and "[extra]  # not ours: left as it is" in written


async def _toast(app: BalloonApp, words: str) -> str:
    """The text of the one toast on screen that holds `words` (it has been drawn)."""

    def found() -> list[str]:
        # A Toast is a Static that draws its notification in render(): not its content.
        texts = [toast.render().plain for toast in app.screen.query(Toast)]
        return [text.partition("\n")[2] for text in texts if words in text]  # not the title

    await until(lambda: len(found()) == 1, what=f"a toast saying {words!r}")
    return found()[0]


# Markup, an action, and a terminal control: theme names are the operator's text, never parsed.
ODD_NAMES = ['[a="]', "[@click=app.quit]x", "[bold red]x", "bad\x9b31mname\u202e"]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_an_odd_theme_name_in_the_config_is_reported_as_written(config_home, name):
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text(f"theme = {json.dumps(name)}\n")
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await ready(app, pilot)
        toast = await _toast(app, "there is no theme")
        assert app.theme == DEFAULT_THEME and app.is_running
        assert visible(name) in toast and not has_unsafe(toast)


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_an_odd_name_in_a_theme_file_is_reported_as_written(config_home, name):
    (config_home / "themes").mkdir(parents=True)
    (config_home / "themes" / "odd.toml").write_text(
        GOOD.replace('name = "mine"', f"name = {json.dumps(name)}")
    )
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await ready(app, pilot)
        toast = await _toast(app, "odd.toml")
        assert app.is_running and name not in app.available_themes
        assert f"bad name {shown(repr(name))}" in toast and not has_unsafe(toast)
        # The palette's theme list still opens and lists only real themes.
        app.action_change_theme()
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        offered = [name for name, _run in ThemeProvider(app.screen).commands]
        assert DEFAULT_THEME in offered and name not in offered


async def test_a_config_value_with_markup_in_a_wrong_setting(config_home):
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text('theme = ["[a=\\"]"]\n')
    app = demo_app(theme=None, user_config=True)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await ready(app, pilot)
        toast = await _toast(app, "must be a theme name")
        assert '[a="]' in toast.replace("\\", "")


def test_a_theme_that_is_not_a_name_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("theme = 3\n")
    with pytest.raises(ConfigError, match="theme: must be a theme name") as info:
        theme_setting(read_config(path), path)
    assert str(path) in str(info.value)
    assert read_config(tmp_path / "missing.toml") == {}


def test_sixteen_colour_terminals_get_the_sixteen_colour_theme():
    themes = {t.name: t for t in load_themes(None)[0]}
    dark, sixteen = themes["balloon-dark"], themes[SIXTEEN_COLOUR_THEME]
    assert wants_sixteen_colours("standard", dark, explicit=False, available=themes)
    assert not wants_sixteen_colours("standard", dark, explicit=True, available=themes)
    assert not wants_sixteen_colours("standard", sixteen, explicit=False, available=themes)
    assert not wants_sixteen_colours("256", dark, explicit=False, available=themes)
    assert not wants_sixteen_colours("truecolor", dark, explicit=False, available=themes)


# -- the command line -----------------------------------------------------------------------
@pytest.fixture
def no_ui(monkeypatch: pytest.MonkeyPatch, config_home: Path) -> list[tuple[BalloonApp, dict]]:
    """cli.main builds the app as usual; `run` only records how it was asked to run."""
    runs: list[tuple[BalloonApp, dict]] = []

    def run(self: BalloonApp, **options: Any) -> None:
        runs.append((self, options))
        self.main._fleet_factory.__self__.stop()  # type: ignore[attr-defined]

    monkeypatch.setattr(BalloonApp, "run", run)
    monkeypatch.setenv("XDG_STATE_HOME", str(config_home.parent / "state"))
    saved = {s: signal.getsignal(s) for s in (signal.SIGHUP, signal.SIGTERM)}
    yield runs
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_cli_theme_and_no_mouse_reach_the_app(no_ui):
    assert cli.main(["--demo", "--theme", "balloon-light", "--no-mouse"]) == 0
    [(app, options)] = no_ui
    assert app.theme == "balloon-light" and options == {"mouse": False}
    assert cli.main(["--demo"]) == 0
    app, options = no_ui[1]
    assert app.theme == DEFAULT_THEME and options == {"mouse": True}


def test_cli_unknown_theme_is_an_error(no_ui, capsys):
    assert cli.main(["--demo", "--theme", "nope"]) == 2
    err = capsys.readouterr().err
    assert "there is no theme 'nope'" in err and "balloon-light" in err
    assert no_ui == []


def test_cli_odd_theme_name_is_one_plain_line(no_ui, capsys):
    assert cli.main(["--demo", "--theme", '[a="]\x1b[2J\u202e']) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "there is no theme" in line and '[a="]' in line and not has_unsafe(line)
    assert no_ui == []


def test_cli_theme_from_the_user_folder(no_ui, config_home):
    (config_home / "themes").mkdir(parents=True)
    (config_home / "themes" / "mine.toml").write_text(GOOD)
    assert cli.main(["--demo", "--theme", "mine"]) == 0
    assert no_ui[0][0].theme == "mine"


def test_loading_the_themes_is_quick():
    """Start-up cost: every bundled theme parsed and checked, well under 50 ms."""
    started = time.perf_counter()
    for _ in range(10):
        load_themes(None)
    assert (time.perf_counter() - started) / 10 < 0.05
