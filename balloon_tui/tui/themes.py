"""Themes: TOML files made into `textual.theme.Theme`, the balloon colours, the remembered choice.

Where themes come from (a later file with the same theme name wins):

1. `balloon_tui/themes/*.toml`, shipped with the package (the repository's top-level
   `themes/` is a symlink to that folder);
2. `$XDG_CONFIG_HOME/balloon-tui/themes/*.toml` (default `~/.config/...`): the user's own.

A file that cannot be used (not TOML, a bad colour, no name, an unknown key) is reported in a
notification that names the file and the problem; the other themes load and the app runs on.
The format is described at the top of `balloon_tui/themes/balloon-dark.toml`.

The balloon colours are theme variables, `$balloon-used`, `$balloon-actual`, ... (see
`BALLOON_COLOURS`); a theme that leaves some out (Textual's own themes leave out all of them)
gets defaults for its kind (dark, light or ANSI). CSS uses them as `$balloon-target`; the Rich
text that `render.py` builds names styles ("balloon.target") that widgets draw through
`render.themed`, as Content on the same variables, resolved by Textual at every repaint: a
theme switch needs nothing more. For Rich renderables handed over as they are (the help's
table, a dialog's line), `ThemedApp` gives the app's console the names too, when the CSS is.

The operator's choice (command palette → "Change theme") is remembered in
`$XDG_CONFIG_HOME/balloon-tui/config.toml` as `theme = "..."`; the rest of the file, comments
included, stays as the operator wrote it.

Theme names, file names and config values are the operator's text: notifications here are
plain text (`markup=False`, controls made visible), so `theme = '[a="]'` is not parsed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rich.style import Style
from rich.theme import Theme as RichTheme
from textual import on
from textual.app import App, ReturnType
from textual.color import Color, ColorParseError
from textual.css.errors import UnresolvedVariableError
from textual.events import Mount
from textual.markup import parse_style
from textual.notifications import SeverityLevel
from textual.theme import Theme

from balloon_tui.core.config import (
    ConfigError,
    config_home,
    config_path,
    read_config,
    set_config_value,
    theme_setting,
)
from balloon_tui.core.display import shown, visible
from balloon_tui.tui import render

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_THEME = "balloon-dark"
SIXTEEN_COLOUR_THEME = "balloon-16"  # picked by itself on a 16-colour terminal
FALLBACK_THEME = "textual-dark"  # should the bundled default ever fail to load

# The balloon colours: key in a theme's [balloon] table -> what it colours. CSS: $balloon-<key>.
BALLOON_COLOURS: dict[str, str] = {
    "used": "memory the guest uses: bar █, slider u",
    "actual": "memory in the guest it does not use: bar ▒ ▓, slider a",
    "taken": "memory the balloon has taken: bar ·, the slider's track",
    "target": "the target: bar ┃, slider ◆ ▲, the arrows ↓ ↑",
    "floor": "the safety floor: slider f",
    "pending": "a target sent, waiting for libvirt: …",
    "stale": "guest statistics too old to trust: the word 'stale'",
}

_DEFAULTS_DARK = {
    "used": "#4FB8C4",
    "actual": "#6F8FE0",
    "taken": "#5C6370",
    "target": "#F2C94C",
    "floor": "#C678DD",
    "pending": "#7FC8F8",
    "stale": "#E5A050",
}
_DEFAULTS_LIGHT = {
    "used": "#0B7A85",
    "actual": "#3A5BC7",
    "taken": "#9CA1A9",
    "target": "#A36A00",
    "floor": "#8E3FA6",
    "pending": "#0969DA",
    "stale": "#B35900",
}
_DEFAULTS_ANSI = {
    "used": "ansi_cyan",
    "actual": "ansi_blue",
    "taken": "ansi_bright_black",
    "target": "ansi_yellow",
    "floor": "ansi_magenta",
    "pending": "ansi_bright_cyan",
    "stale": "ansi_yellow",
}

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
_FLAG_KEYS = ("dark", "ansi")
_TABLE_KEYS = ("balloon", "variables")
_TEXT_KEYS = ("description",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9-]*$")
# Words a Textual variable may hold besides colours (text styles, "auto", percentages).
_STYLE_WORDS = frozenset(
    {
        "auto",
        "none",
        "not",
        "bold",
        "b",
        "dim",
        "d",
        "italic",
        "i",
        "underline",
        "u",
        "underline2",
        "uu",
        "strike",
        "s",
        "reverse",
        "r",
        "blink",
        "overline",
        "o",
    }
)


def balloon_variable(key: str) -> str:
    return f"balloon-{key}"


def balloon_defaults(theme: Theme) -> dict[str, str]:
    """The $balloon-* variables for a theme that does not set them: by its kind."""
    kind = "ansi" if theme.ansi else "dark" if theme.dark else "light"
    colours = {"ansi": _DEFAULTS_ANSI, "dark": _DEFAULTS_DARK, "light": _DEFAULTS_LIGHT}[kind]
    return {balloon_variable(key): value for key, value in colours.items()}


# -- Rich text styles from the variables ------------------------------------------------------
def text_styles(variables: Mapping[str, str]) -> RichTheme:
    """`render.py`'s named styles as plain Rich styles of a theme (`render.THEME_STYLES` with
    the variables filled in): for Rich renderables a widget hands to the console as they are
    (a Rich Table, a dialog's Text), not for the Content that `render.themed` makes."""
    values = dict(variables)
    styles: dict[str, str | Style] = {}
    for name, definition in render.THEME_STYLES.items():
        try:
            styles[name] = parse_style(definition, values).rich_style
        except UnresolvedVariableError:  # variables without it: Rich's fallback for the name
            styles[name] = render.FALLBACK_STYLES[name]
    return RichTheme(styles)


# -- reading theme files ----------------------------------------------------------------------
class ThemeError(ValueError):
    """A theme file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class ThemeProblem:
    file: str  # the file as the operator knows it (its path)
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def _check_colour(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{where} must be a colour in quotes, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ThemeError(f"bad colour for {where}: {exc}") from None
    return value


def _check_variable_value(where: str, value: object) -> str:
    """A Textual variable: colours, an alpha percentage, text-style words."""
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f"{where} must be a value in quotes, not {value!r}")
    for word in value.split():
        if word.lower() in _STYLE_WORDS or re.fullmatch(r"\d{1,3}%", word):
            continue
        try:
            Color.parse(word)
        except ColorParseError as exc:
            raise ThemeError(f"bad value for {where}: {exc}") from None
    return value


def parse_theme(text: str) -> Theme:
    """A Theme from the text of a TOML theme file; ThemeError says what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"not valid TOML: {exc}") from None
    known = {"name", *_COLOUR_KEYS, *_FLAG_KEYS, *_TABLE_KEYS, *_TEXT_KEYS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ThemeError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    name = data.get("name")
    if name is None:
        raise ThemeError('no name: add a line like  name = "my-theme"')
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"bad name {shown(repr(name), 80)}: letters, digits, - and _ (up to 64)")
    if "primary" not in data:
        raise ThemeError('no primary colour: add a line like  primary = "#6C9EF8"')
    colours = {key: _check_colour(key, data[key]) for key in _COLOUR_KEYS if key in data}
    flags: dict[str, bool] = {}
    for key in _FLAG_KEYS:
        if key in data:
            if not isinstance(data[key], bool):
                raise ThemeError(f"{key} must be true or false, not {data[key]!r}")
            flags[key] = data[key]
    variables: dict[str, str] = {}
    tables = {key: data.get(key, {}) for key in _TABLE_KEYS}
    for key, table in tables.items():
        if not isinstance(table, dict):
            raise ThemeError(f"{key} must be a table: [{key}]")
    for key, value in tables["balloon"].items():
        if key not in BALLOON_COLOURS:
            raise ThemeError(
                f"unknown balloon colour {key!r} (known: {', '.join(BALLOON_COLOURS)})"
            )
        variables[balloon_variable(key)] = _check_colour(f"balloon.{key}", value)
    for key, value in tables["variables"].items():
        if not _VARIABLE.match(key):
            raise ThemeError(f"bad variable name {key!r}: lower case letters, digits and -")
        variables[key] = _check_variable_value(f"variables.{key}", value)
    get = colours.get
    theme = Theme(
        name=name,
        primary=colours["primary"],
        secondary=get("secondary"),
        accent=get("accent"),
        foreground=get("foreground"),
        background=get("background"),
        surface=get("surface"),
        panel=get("panel"),
        boost=get("boost"),
        warning=get("warning"),
        error=get("error"),
        success=get("success"),
        dark=flags.get("dark", True),
        ansi=flags.get("ansi", False),
        variables=variables,
    )
    try:
        theme.to_color_system().generate()
    except Exception as exc:  # Textual's own check of the colours, whatever it raises
        raise ThemeError(f"Textual cannot use it: {exc}") from None
    return theme


def bundled_theme_files() -> list[Traversable]:
    folder = resources.files("balloon_tui") / "themes"
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)


def user_theme_dir() -> Path:
    return config_home() / "themes"


def load_themes(user_dir: Path | None) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every theme that loads (bundled first, then the user's), and what went wrong."""
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    files: list[tuple[str, Traversable | Path]] = [
        (f"themes/{f.name}", f) for f in bundled_theme_files()
    ]
    if user_dir is not None and user_dir.is_dir():
        files += [(str(p), p) for p in sorted(user_dir.glob("*.toml"))]
    for label, source in files:
        try:
            themes.append(parse_theme(source.read_text(encoding="utf-8")))
        except (ThemeError, OSError, UnicodeDecodeError) as exc:
            problems.append(ThemeProblem(label, str(exc)))
    return themes, problems


def theme_names(user_dir: Path | None) -> list[str]:
    """Every theme --theme accepts: Textual's own and ours."""
    from textual.theme import BUILTIN_THEMES

    ours, _problems = load_themes(user_dir)
    return sorted({*BUILTIN_THEMES, *(t.name for t in ours)})


# -- the app side -----------------------------------------------------------------------------
def wants_sixteen_colours(
    color_system: str | None, theme: Theme, *, explicit: bool, available: Mapping[str, Theme]
) -> bool:
    """A 16-colour terminal (TERM=xterm, TEXTUAL_COLOR_SYSTEM=standard) and a theme made of
    RGB colours that nobody asked for on the command line: use the theme made for it.

    RGB themes cut down to 16 colours lose their greys (grey text on a grey table)."""
    return (
        color_system == "standard"
        and not theme.ansi
        and not explicit
        and SIXTEEN_COLOUR_THEME in available
    )


class ThemedApp(App[ReturnType]):
    """Registers our themes, styles Rich text from the theme, remembers the operator's pick.

    Call `setup_themes` from `__init__`, after `super().__init__()`.
    """

    _theme_notes: list[tuple[str, str, SeverityLevel]]
    _config_file: Path | None = None
    _config_broken = False
    _theme_chosen = False  # by --theme or the config file (else: the default)
    _theme_explicit = False  # by --theme
    _remembered_theme = ""
    _text_styles_pushed = False

    def setup_themes(self, theme: str | None = None, *, user_config: bool = True) -> None:
        """Load every theme and pick one: `theme` (--theme), else the remembered one, else
        the default. `user_config=False`: neither the user's themes nor the config file
        (screenshots and snapshot tests must not depend on the machine)."""
        self._theme_notes = []
        self._config_file = config_path() if user_config else None
        loaded, problems = load_themes(user_theme_dir() if user_config else None)
        for each in loaded:
            self.register_theme(each)
        for problem in problems:
            self._theme_notes.append((str(problem), "theme not loaded", "error"))
        chosen = theme
        if self._config_file is not None:
            remembered = self._remembered_setting(self._config_file)
            if chosen is None:
                chosen = remembered
        if chosen is not None and chosen not in self.available_themes:
            self._theme_notes.append(
                (
                    f"there is no theme '{shown(chosen, 80)}'; using {self._default()}",
                    "theme",
                    "warning",
                )
            )
            chosen = None
        self._theme_chosen = chosen is not None
        self._theme_explicit = theme is not None and chosen == theme
        self.theme = chosen or self._default()
        self._remembered_theme = self.theme
        self._style_console()

    def _remembered_setting(self, path: Path) -> str | None:
        """The config file's theme; what is wrong with the file goes into a notification."""
        try:
            data = read_config(path)
        except ConfigError as exc:
            self._config_broken = True  # not TOML: never rewritten by us
            self._theme_notes.append((f"{exc}; using the defaults", "settings not read", "warning"))
            return None
        try:
            return theme_setting(data, path)
        except ConfigError as exc:
            self._theme_notes.append((f"{exc}; using {self._default()}", "theme", "warning"))
            return None

    def _default(self) -> str:
        return DEFAULT_THEME if DEFAULT_THEME in self.available_themes else FALLBACK_THEME

    # -- colours -------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {
            **super().get_theme_variable_defaults(),
            # Textual's CSS needs these, and only its own ANSI themes set them.
            "ansi-background": "ansi_default",
            "ansi-foreground": "ansi_default",
            **balloon_defaults(self.current_theme),
        }

    def refresh_css(self, animate: bool = True) -> None:
        self._style_console()
        super().refresh_css(animate)

    def _style_console(self) -> None:
        """Widgets draw Content whose colours Textual resolves as it draws (`render.themed`);
        Rich renderables handed over as they are look the names up in the console."""
        if self._text_styles_pushed:
            self.console.pop_theme()
        self.console.push_theme(text_styles(self.get_css_variables()))
        self._text_styles_pushed = True

    # -- after start --------------------------------------------------------------------------
    @on(Mount)
    def _themes_mounted(self) -> None:
        if not self.is_headless and wants_sixteen_colours(
            self.console.color_system,
            self.current_theme,
            explicit=self._theme_explicit,
            available=self.available_themes,
        ):
            if self._theme_chosen:
                self._theme_notes.append(
                    (
                        f"this terminal shows 16 colours: {SIXTEEN_COLOUR_THEME} instead of "
                        f"{self.theme} (--theme {self.theme} to insist)",
                        "theme",
                        "information",
                    )
                )
            # Not remembered: the next terminal may have all the colours again.
            self.theme = self._remembered_theme = SIXTEEN_COLOUR_THEME
        for message, title, severity in self._theme_notes:
            self.notify(
                shown(message, 400), title=title, severity=severity, timeout=12, markup=False
            )
        self._theme_notes = []
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != self._remembered_theme:
            self.remember_theme(theme.name)

    def remember_theme(self, name: str) -> None:
        """Write the theme into the config file, keeping everything else in it as it is."""
        path = self._config_file
        if path is None:
            return
        problem = (
            (
                f"{path} could not be read, so it is left alone: fix or delete it to "
                "remember the theme"
            )
            if self._config_broken
            else None
        )
        if problem is None:
            try:
                set_config_value(path, "theme", name)
            except ConfigError as exc:
                self._config_broken = True
                problem = str(exc)
            except OSError as exc:
                problem = f"{path}: {exc.strerror or exc}"
        if problem is not None:
            self.notify(
                visible(problem), title="theme not remembered", severity="warning", markup=False
            )
            return
        self._remembered_theme = name
