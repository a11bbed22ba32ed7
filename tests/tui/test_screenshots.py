"""`screenshots/` is what `make screenshots` renders now: the README never shows an old UI.

Each picture is rendered again here (in this process, from the same code) and compared with
the file; a difference fails with the names to re-render (`make screenshots`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from screenshots import SHOTS, SVG_ID, Shot, main, take

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "screenshots"
FIX = "run `make screenshots` and look at the result"


def _normal(svg: str) -> str:
    """Byte for byte but for the SVG id (the file's is made from its name)."""
    return SVG_ID.sub("terminal", svg).replace("\r\n", "\n")


def test_the_folder_has_exactly_the_pictures():
    assert sorted(p.stem for p in FOLDER.glob("*.svg")) == sorted(s.name for s in SHOTS), FIX


@pytest.mark.parametrize("shot", SHOTS, ids=[s.name for s in SHOTS])
def test_the_picture_is_up_to_date(shot: Shot):
    path = FOLDER / f"{shot.name}.svg"
    assert path.exists(), f"{path.name} is missing: {FIX}"
    assert _normal(take(shot)) == _normal(path.read_text(encoding="utf-8")), (
        f"{path.name} is out of date: {FIX}"
    )


def test_rendering_twice_gives_the_same_bytes(tmp_path: Path):
    """Deterministic: the same picture, twice, through the `make screenshots` entry point."""
    assert main([str(tmp_path / "a"), "main-80x24", "panel-drag"]) == 0
    assert main([str(tmp_path / "b"), "main-80x24", "panel-drag"]) == 0
    for name in ("main-80x24.svg", "panel-drag.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main([str(tmp_path), "no-such-picture"]) == 2


def test_the_readme_shows_every_picture():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for shot in SHOTS:
        assert f"screenshots/{shot.name}.svg" in readme, shot.name
