"""`make record`: screenshots/demo.cast (asciinema v2) and screenshots/demo.gif of the demo.

    python scripts/record_demo.py            # record the cast, then render the GIF
    python scripts/record_demo.py --gif      # only render the GIF again from the cast
    python scripts/record_demo.py --drive    # the session itself (what asciinema runs)

The keys and the mouse are real terminal input: asciinema records this script (`--drive`),
which starts `balloon-tui --demo` in a pseudo-terminal of its own, forwards everything the
app draws, and types into it -- keys, and SGR mouse reports for a drag -- after waiting for
what the screen must show first (a pyte screen follows the app's output). A fixed terminal
size, the bundled demo and no user config make it the same session on every run.

The cast's header carries `screens_sha256`, a hash of the files that draw the screens
(`screens_hash`); tests/test_recording.py fails when they changed since the recording.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAST = REPO / "screenshots" / "demo.cast"
GIF = REPO / "screenshots" / "demo.gif"
COLS, ROWS = 100, 30
TITLE = "balloon-tui: the bundled demo"
HASH_KEY = "screens_sha256"
# What draws the screens, and the session that shows them: a change to any of these makes
# the recording out of date.
SCREEN_SOURCES = (
    "balloon_tui/tui/**/*.py",
    "balloon_tui/tui/**/*.tcss",
    "balloon_tui/themes/*.toml",
    "balloon_tui/demo/demo.xml",
    "scripts/record_demo.py",
    "scripts/demo_session.py",
)
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


def screens_hash(root: Path = REPO) -> str:
    """sha256 over the path and bytes of every file in SCREEN_SOURCES, in path order."""
    files = sorted({p for pattern in SCREEN_SOURCES for p in root.glob(pattern) if p.is_file()})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _tool(name: str) -> str:
    """A console script of this interpreter's environment (the venv), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"record: {name} is missing (make record installs the dev extra)")
    return found


def record(cast: Path) -> None:
    """Run the session under asciinema; write the cast with the screens' hash in its header."""
    with tempfile.TemporaryDirectory(prefix="btui-record-") as tmp:
        raw = Path(tmp) / "raw.cast"
        failure = Path(tmp) / "failure.txt"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LANG": "C.UTF-8",
            # Not the operator's config, theme or audit log.
            "XDG_CONFIG_HOME": f"{tmp}/config",
            "XDG_STATE_HOME": f"{tmp}/state",
            "PYTHONPATH": str(REPO),
            "BTUI_RECORD_FAILURE": str(failure),
        }
        command = f"{sys.executable} {Path(__file__).resolve()} --drive"
        subprocess.run(
            [
                _tool("asciinema"),
                "rec",
                "--quiet",
                "--overwrite",
                f"--cols={COLS}",
                f"--rows={ROWS}",
                f"--title={TITLE}",
                "--idle-time-limit=2",
                f"--command={command}",
                str(raw),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=180,
        )
        if failure.exists():
            raise SystemExit(f"record: the session failed: {failure.read_text(encoding='utf-8')}")
        lines = raw.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0])
        header.pop("timestamp", None)  # a new one on every run: noise in the diff
        header[HASH_KEY] = screens_hash()
        cast.parent.mkdir(parents=True, exist_ok=True)
        cast.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")


def render_gif(cast: Path, gif: Path) -> None:
    if not FONT.exists():
        raise SystemExit(f"record: no {FONT} for the GIF (apt-get install fonts-dejavu-core)")
    result = subprocess.run(
        [
            _tool("agg"),
            "--font-family=DejaVu Sans Mono",
            "--font-size=14",
            "--theme=monokai",
            "--idle-time-limit=2",
            "--last-frame-duration=4",
            "--fps-cap=15",
            str(cast),
            str(gif),
        ],
        capture_output=True,  # its progress bar
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise SystemExit(f"record: agg failed:\n{result.stderr}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="record_demo.py", description=__doc__.splitlines()[0])
    parser.add_argument("--drive", action="store_true", help="run the scripted session")
    parser.add_argument("--gif", action="store_true", help="only render the GIF from the cast")
    args = parser.parse_args(argv)
    if args.drive:
        from demo_session import drive  # beside this file; needs pyte

        return drive()
    started = time.monotonic()
    if not args.gif:
        record(CAST)
        print(f"{CAST.relative_to(REPO)}: {CAST.stat().st_size // 1024} KiB")
    render_gif(CAST, GIF)
    print(f"{GIF.relative_to(REPO)}: {GIF.stat().st_size // 1024} KiB")
    print(f"recorded in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
