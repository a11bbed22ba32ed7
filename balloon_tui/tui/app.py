"""BalloonApp: a thin App around one MainScreen (tui/screens/main.py), which holds the state.

The app keeps what belongs to the whole program: themes (ThemedApp), the stylesheet, the
layout breakpoints, the keys that work on every screen, the command palette and plain-text
notifications. See docs/architecture.md for where everything else lives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import ClassVar

from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from balloon_tui.core.display import visible
from balloon_tui.core.model import DomainKey
from balloon_tui.core.regulator_settings import DEFAULT_OPTIONS, RegulatorOptions
from balloon_tui.core.safety import DEFAULT_POLICY, SafetyPolicy
from balloon_tui.tui.commands import BalloonCommands
from balloon_tui.tui.fleetlink import FleetFactory, FleetLike
from balloon_tui.tui.history import WINDOW_SECONDS
from balloon_tui.tui.keys import GLOBAL_KEYS
from balloon_tui.tui.pending import PendingWrites
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens.main import MainScreen
from balloon_tui.tui.themes import ThemedApp
from balloon_tui.tui.widgets.logpanel import LogPanel
from balloon_tui.tui.widgets.panel import MemoryPanel
from balloon_tui.tui.widgets.table import DomainTable

# From this width the panel (app.tcss: at least 70 cells) stands beside the table, which
# keeps the 86 its fixed columns, a 16-cell name and a 12-cell bar need; narrower, they stack.
WIDE_FROM = 160


class BalloonApp(ThemedApp[None]):
    CSS_PATH = "app.tcss"
    TITLE = "balloon-tui"
    COMMANDS = App.COMMANDS | {BalloonCommands}
    BINDINGS: ClassVar[list[BindingType]] = [key.binding() for key in GLOBAL_KEYS]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (50, "-tall")]

    def __init__(
        self,
        fleet_factory: FleetFactory,
        *,
        show_host: bool = False,
        floor: SafetyPolicy = DEFAULT_POLICY,
        arm_stats: int | None = None,
        history_window: float = WINDOW_SECONDS,
        log_clock: bool = True,
        clock: Callable[[], float] = time.time,
        theme: str | None = None,
        user_config: bool = False,
        regulator: RegulatorOptions = DEFAULT_OPTIONS,
    ) -> None:
        super().__init__()
        # `theme` (--theme), else the remembered choice; ~/.config only when the CLI asks.
        self.setup_themes(theme, user_config=user_config)
        # Built here, installed as the default screen: it exists before the app runs, so
        # tests (and the CLI) can reach `app.main` at any time.
        self.main = MainScreen(
            fleet_factory,
            show_host=show_host,
            policy=floor,
            arm_stats=arm_stats,
            history_window=history_window,
            log_clock=log_clock,
            clock=clock,
            regulator=regulator,
        )

    def get_default_screen(self) -> Screen[None]:
        return self.main

    # Read-only views of the main screen's state for scripts and tests (the screen owns it).
    @property
    def table(self) -> DomainTable:
        return self.main.table

    @property
    def panel(self) -> MemoryPanel:
        return self.main.panel

    @property
    def log_panel(self) -> LogPanel:
        return self.main.log_panel

    @property
    def rows(self) -> dict[DomainKey, RowView]:
        return self.main.rows

    @property
    def selected(self) -> DomainKey | None:
        return self.main.selected

    @property
    def pending(self) -> PendingWrites:
        return self.main.pending

    @property
    def fleet(self) -> FleetLike | None:
        return self.main.fleet

    @property
    def ready(self) -> asyncio.Event:
        """Set once every host has reported: tests and screenshots wait for it."""
        return self.main.ready

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast as plain text: messages quote names, URIs and libvirt's words, and a
        name like `[@click=app.target_maximum]` in markup is an action a click would run."""
        super().notify(
            visible(message), title=visible(title), severity=severity, timeout=timeout, markup=False
        )

    async def on_unmount(self) -> None:
        await self.main.close()
