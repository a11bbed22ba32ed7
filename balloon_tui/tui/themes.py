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

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import App, ReturnType
from textual.events import Mount
from textual.notifications import SeverityLevel
from textual.theme import Theme

from balloon_tui.core.config import (
    ConfigError,
    config_path,
    read_config,
    set_config_value,
    theme_setting,
)
from balloon_tui.core.display import shown, visible

if TYPE_CHECKING:
    pass

from balloon_tui.tui.themefiles import (
    DEFAULT_THEME,
    FALLBACK_THEME,
    SIXTEEN_COLOUR_THEME,
    balloon_defaults,
    load_themes,
    text_styles,
    user_theme_dir,
)


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
