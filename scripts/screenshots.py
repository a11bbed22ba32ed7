"""`make screenshots`: SVG pictures of the bundled demo, the same bytes on every run.

    python scripts/screenshots.py DIR           # every picture (stale ones removed)
    python scripts/screenshots.py DIR NAME ...  # only these

Deterministic: fixed terminal sizes, the bundled demo (a test-driver node: no guest clock),
one poll only (a refresh of an hour), no log clock, no cursor blink, a fixed theme and none of
the operator's ~/.config (user_config=False), the caller's NO_COLOR ignored, and an SVG id made
from the picture's name instead of a hash of its content (so a diff shows what changed).
tests/tui/test_screenshots.py renders them all again and fails when `screenshots/` differs.
Kept out of the package: it is a tool for the repository, not part of what is installed; the
tests import it (and its `demo_app`) through pytest's `pythonpath`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import LineFilter
from textual.pilot import Pilot
from textual.widgets import Input

import balloon_tui
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.tui.app import BalloonApp
from balloon_tui.tui.factory import create_app
from balloon_tui.tui.render import row_key
from balloon_tui.tui.themefiles import DEFAULT_THEME, bundled_theme_files, parse_theme

DEMO = Path(balloon_tui.__file__).resolve().parent / "demo" / "demo.xml"
SVG_ID = re.compile(r"\bterminal-\d+\b")

Steps = Callable[[Pilot[Any]], Awaitable[None]]


# -- how a 16-colour terminal shows it ----------------------------------------------------------
@lru_cache(4096)
def _sixteen(style: Style) -> Style:
    color = style.color.downgrade(ColorSystem.STANDARD) if style.color else None
    bgcolor = style.bgcolor.downgrade(ColorSystem.STANDARD) if style.bgcolor else None
    return style + Style.from_color(color, bgcolor)


class SixteenColours(LineFilter):
    """Every colour cut down to the 16 standard ones, the way Rich does for TERM=xterm
    (TEXTUAL_COLOR_SYSTEM=standard): what a 16-colour terminal shows. Screenshots and tests
    only: a real terminal of that kind gets it from Textual's console by itself."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, _sixteen(style) if style else style, control)
            for text, style, control in segments
        ]


# -- the steps before a picture -----------------------------------------------------------------
async def _select(pilot: Pilot[Any], name: str) -> None:
    app: BalloonApp = pilot.app  # type: ignore[assignment]
    row = next(r for r in app.rows.values() if r.domain.name == name)
    app.table.move_cursor(row=app.table.get_row_index(row_key(*row.domain.key)))
    await pilot.pause()


async def _nothing(pilot: Pilot[Any]) -> None:
    return None


async def _guest(pilot: Pilot[Any]) -> None:
    await _select(pilot, "web-frontend-01")


async def _help(pilot: Pilot[Any]) -> None:
    await pilot.press("question_mark")


async def _entry(pilot: Pilot[Any]) -> None:
    await _select(pilot, "web-frontend-01")
    await pilot.press("t")
    await pilot.pause()
    pilot.app.screen.query_one(Input).cursor_blink = False
    await pilot.press(*"1.5G")


async def _wide(pilot: Pilot[Any]) -> None:
    """The log after one key step: start-up lines vary with thread timing, so they go."""
    app: BalloonApp = pilot.app  # type: ignore[assignment]
    await _select(pilot, "db-primary")
    app.log_panel.clear()
    await pilot.press("minus")
    key = app.selected
    assert key is not None
    for _ in range(500):  # the test driver answers at once; the result comes as a message
        await pilot.pause(0.01)
        if not app.pending.target(key) and app.rows[key].domain.actual_kib == 49088 * 1024:
            break
    else:
        raise RuntimeError("the write did not come back")
    await pilot.press("l")


async def _drag(pilot: Pilot[Any]) -> None:
    """Mouse down on the handle, moved towards the floor, not let go: nothing is written."""
    app: BalloonApp = pilot.app  # type: ignore[assignment]
    await _select(pilot, "web-frontend-01")
    slider = app.panel.slider
    to = 2304 * 1024  # 2.25 GiB: above the floor (about 1.8 GiB), below actual (3 GiB)
    start, end = slider.x_of(slider.value), slider.x_of(to)
    padding = slider.styles.padding.left
    await pilot.mouse_down(slider, offset=(start + padding, 0))
    for x in range(start, end - 1, -1):
        await pilot.hover(slider, offset=(x + padding, 0))
    await pilot.pause()


async def _confirm(pilot: Pilot[Any]) -> None:
    """A typed target below the safety floor: the app asks first."""
    await _select(pilot, "web-frontend-01")
    await pilot.press("t")
    await pilot.pause()
    await pilot.press(*"1G", "enter")
    await pilot.pause()
    from balloon_tui.tui.screens.confirm import ConfirmFloorScreen  # the safety dialog

    if not isinstance(pilot.app.screen, ConfirmFloorScreen):
        raise RuntimeError("a target below the floor did not ask for confirmation")


@dataclass(frozen=True, slots=True)
class Shot:
    name: str
    size: tuple[int, int]
    steps: Steps
    caption: str
    theme: str = DEFAULT_THEME
    colours: str = "full"  # "full", "16" (a 16-colour terminal) or "none" (NO_COLOR=1)


def _theme_shots() -> list[Shot]:
    shots = []
    for source in bundled_theme_files():
        theme = parse_theme(source.read_text(encoding="utf-8"))
        shots.append(
            Shot(f"theme-{theme.name}", (120, 32), _guest, f"theme {theme.name}", theme=theme.name)
        )
    return shots


SHOTS: tuple[Shot, ...] = (
    Shot("main-120x40", (120, 40), _nothing, "the main screen, 120×40"),
    Shot("main-80x24", (80, 24), _nothing, "the main screen, 80×24"),
    Shot("main-200x60", (200, 60), _wide, "a wide terminal: the panel beside the table, the log"),
    Shot(
        "panel-drag",
        (120, 40),
        _drag,
        "dragging the slider: the floor (f), used (u), "
        "actual (a); nothing is written before the mouse is let go",
    ),
    Shot("confirm-floor", (100, 32), _confirm, "a target below the safety floor asks first"),
    Shot("target-entry", (80, 24), _entry, "t: type a target"),
    Shot("help", (100, 40), _help, "?: every key and every sign"),
    *_theme_shots(),
    Shot(
        "ssh-16-colours",
        (80, 24),
        _guest,
        "a 16-colour terminal (TERM=xterm) over ssh: balloon-16, picked by itself",
        theme="balloon-16",
        colours="16",
    ),
    Shot(
        "no-colour",
        (120, 32),
        _guest,
        "NO_COLOR=1: symbols and words still tell it all",
        colours="none",
    ),
)


@contextmanager
def _no_color(on: bool) -> Iterator[None]:
    """NO_COLOR as the picture needs it (Textual reads it when the app is made)."""
    before = os.environ.get("NO_COLOR")
    if on:
        os.environ["NO_COLOR"] = "1"
    else:
        os.environ.pop("NO_COLOR", None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NO_COLOR", None)
        else:
            os.environ["NO_COLOR"] = before


# The poll time a picture shows. The real one is printed in the status bar from 100 ms on
# (and makes a host "slow" from 1 s): on a loaded machine the demo's first poll takes that
# long, and the picture would then depend on the machine's load.
PICTURE_POLL_SECONDS = 0.004


def _steady_fleet(
    uris: list[str], *, on_snapshot: Callable[[HostSnapshot], None], **options: Any
) -> Any:
    """The real Fleet on the demo, each snapshot's poll duration pinned."""
    from balloon_tui.virt.fleet import Fleet

    def steady(host: HostSnapshot) -> None:
        if host.fetch_seconds is not None:
            status = HostStatus.OK if host.status is HostStatus.SLOW else host.status
            host = replace(host, fetch_seconds=PICTURE_POLL_SECONDS, status=status)
        on_snapshot(host)

    return Fleet(uris, on_snapshot=steady, **options)


def demo_app(
    theme: str | None = DEFAULT_THEME, colours: str = "full", *, user_config: bool = False
) -> BalloonApp:
    """The demo as the pictures and snapshot tests see it (colours: full, 16 or none)."""
    with _no_color(colours == "none"):
        app = create_app(
            [f"test://{DEMO}"],
            refresh=3600.0,
            fleet_class=_steady_fleet,
            log_clock=False,
            theme=theme,
            user_config=user_config,
        )
    if colours == "16":
        app._filters.append(SixteenColours())  # Textual has no public way to add one
    return app


def take(shot: Shot) -> str:
    app = demo_app(shot.theme, shot.colours)
    pictures: list[str] = []

    async def auto_pilot(pilot: Pilot[Any]) -> None:
        try:
            await asyncio.wait_for(app.ready.wait(), 10)
            await pilot.pause()
            await shot.steps(pilot)
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()
            pictures.append(app.export_screenshot(title=f"balloon-tui {shot.name}"))
        finally:
            app.exit()

    app.run(headless=True, size=shot.size, auto_pilot=auto_pilot)
    if not pictures:
        raise RuntimeError(f"{shot.name}: no picture (the app stopped early)")
    return SVG_ID.sub(f"terminal-{shot.name}", pictures[0])


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "screenshots")
    wanted = set(argv[1:])
    unknown = wanted - {shot.name for shot in SHOTS}
    if unknown:
        print(f"no such picture: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        if wanted and shot.name not in wanted:
            continue
        path = folder / f"{shot.name}.svg"
        path.write_text(take(shot), encoding="utf-8")
        print(path)
    if not wanted:
        for stale in sorted(set(folder.glob("*.svg")) - {folder / f"{s.name}.svg" for s in SHOTS}):
            stale.unlink()
            print(f"removed {stale}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
