"""screenshots/demo.cast and demo.gif (`make record`): valid, and as new as the screens' code."""

from __future__ import annotations

import json
from pathlib import Path

import pyte
import pytest
from record_demo import CAST, COLS, GIF, HASH_KEY, ROWS, screens_hash

MAX_CAST_BYTES = 2 * 1024 * 1024
MAX_SECONDS = 60.0
SHOWN = (
    "web-frontend-01  ▶ running",  # the guest chosen, in the panel
    "let go to set this target",  # the drag's live preview
    "✓ at the target",  # the target reached
    "below the safety floor",  # the floor's confirmation
    "y to apply",  # a proposal
    "autopilot on",
)


def read_cast(path: Path) -> tuple[dict[str, object], list[list[object]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:] if line.strip()]


def test_the_cast_is_asciinema_v2() -> None:
    assert CAST.stat().st_size < MAX_CAST_BYTES, "the cast got big: shorten the session"
    header, events = read_cast(CAST)
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (COLS, ROWS)
    assert events, "no events"
    last = 0.0
    for event in events:
        assert isinstance(event, list) and len(event) == 3, event
        at, kind, data = event
        assert isinstance(at, float | int) and at >= last, f"time goes back at {event}"
        assert kind == "o" and isinstance(data, str), event
        last = at
    assert last < MAX_SECONDS


def test_the_cast_shows_the_session() -> None:
    """Played back on a terminal emulator, the recording shows each step at some point."""
    header, events = read_cast(CAST)
    screen = pyte.Screen(int(str(header["width"])), int(str(header["height"])))
    stream = pyte.Stream(screen)
    wanted = set(SHOWN)
    for _at, _kind, data in events:
        stream.feed(str(data))
        text = "\n".join(screen.display)
        wanted -= {needle for needle in wanted if needle in text}
    assert not wanted, f"never on the screen: {sorted(wanted)}"


def test_the_cast_is_as_new_as_the_screens_code() -> None:
    header, _ = read_cast(CAST)
    assert header.get(HASH_KEY) == screens_hash(), (
        "the code that draws the screens (or the demo, or the session) changed since "
        "screenshots/demo.cast was recorded: run make record"
    )


def test_the_gif_is_a_gif() -> None:
    head = GIF.read_bytes()[:6]
    assert head in (b"GIF87a", b"GIF89a"), head


@pytest.mark.parametrize("change", ["tui/app.tcss", "themes/balloon-dark.toml", "new.py"])
def test_the_hash_follows_the_screens_code(tmp_path: Path, change: str) -> None:
    root = Path(__file__).resolve().parents[2]
    copy = tmp_path / "repo"
    for pattern in ("balloon_tui/tui/**/*", "balloon_tui/themes/*", "balloon_tui/demo/*"):
        for path in root.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                target = copy / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    before = screens_hash(copy)
    changed = copy / "balloon_tui" / ("tui/widgets/" + change if change == "new.py" else change)
    changed.write_text((changed.read_text() if changed.exists() else "") + "\n# changed\n")
    assert screens_hash(copy) != before
