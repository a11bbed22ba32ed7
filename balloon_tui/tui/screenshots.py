"""`make screenshots`: SVG pictures of the bundled demo at several sizes.

    python -m balloon_tui.tui.screenshots DIR
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

import balloon_tui
from balloon_tui.tui.app import BalloonApp, create_app

DEMO = Path(balloon_tui.__file__).resolve().parent / "demo" / "demo.xml"

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def _nothing(pilot: Pilot[Any]) -> None:
    return None


async def _help(pilot: Pilot[Any]) -> None:
    await pilot.press("question_mark")


async def _entry(pilot: Pilot[Any]) -> None:
    await pilot.press("down", "t", *"1.5G")


async def _wide(pilot: Pilot[Any]) -> None:
    await pilot.press("down", "down", "down", "l")


SHOTS: tuple[tuple[str, tuple[int, int], Steps], ...] = (
    ("main-80x24", (80, 24), _nothing),
    ("main-120x40", (120, 40), _nothing),
    ("main-200x60", (200, 60), _wide),
    ("help", (100, 40), _help),
    ("target-entry", (80, 24), _entry),
)


def take(name: str, size: tuple[int, int], steps: Steps) -> str:
    app: BalloonApp = create_app([f"test://{DEMO}"], refresh=3600.0, log_clock=False)

    pictures: list[str] = []

    async def auto_pilot(pilot: Pilot[Any]) -> None:
        await asyncio.wait_for(app.ready.wait(), 10)
        await pilot.pause()
        await steps(pilot)
        await pilot.pause(0.2)
        pictures.append(app.export_screenshot(title=f"balloon-tui {name}"))
        app.exit()

    app.run(headless=True, size=size, auto_pilot=auto_pilot)
    return pictures[0]


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for name, size, steps in SHOTS:
        path = folder / f"{name}.svg"
        path.write_text(take(name, size, steps))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
