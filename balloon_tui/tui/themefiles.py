"""Theme files: TOML made into `textual.theme.Theme`, checked, with the balloon colours.

Where themes come from, the file format and what happens to a broken file: see
`balloon_tui/tui/themes.py`, which registers them with the app. Every value here comes from a
file someone typed: checked before use, never parsed as markup.
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
from textual.color import Color, ColorParseError
from textual.css.errors import UnresolvedVariableError
from textual.markup import parse_style
from textual.theme import Theme

from balloon_tui.core.config import (
    config_home,
)
from balloon_tui.core.display import shown
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
    "proposal": "the regulator's proposed target: the table's prop column, slider ◇",
}

_DEFAULTS_DARK = {
    "used": "#4FB8C4",
    "actual": "#6F8FE0",
    "taken": "#5C6370",
    "target": "#F2C94C",
    "floor": "#C678DD",
    "pending": "#7FC8F8",
    "stale": "#E5A050",
    "proposal": "#98C379",
}
_DEFAULTS_LIGHT = {
    "used": "#0B7A85",
    "actual": "#3A5BC7",
    "taken": "#9CA1A9",
    "target": "#A36A00",
    "floor": "#8E3FA6",
    "pending": "#0969DA",
    "stale": "#B35900",
    "proposal": "#2E7D32",
}
_DEFAULTS_ANSI = {
    "used": "ansi_cyan",
    "actual": "ansi_blue",
    "taken": "ansi_bright_black",
    "target": "ansi_yellow",
    "floor": "ansi_magenta",
    "pending": "ansi_bright_cyan",
    "stale": "ansi_yellow",
    "proposal": "ansi_green",
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
