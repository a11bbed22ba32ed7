"""The real program, as a user runs it, isolated from the machine's own settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_program(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """`python -m balloon_tui ARGV` with its config in `home`/config and its state (the audit
    log) in `home`/state; libvirt's default URI left out, so no test reaches a real host
    by accident."""
    env = {k: v for k, v in os.environ.items() if k != "LIBVIRT_DEFAULT_URI"}
    env |= {"XDG_CONFIG_HOME": str(home / "config"), "XDG_STATE_HOME": str(home / "state")}
    return subprocess.run(
        [sys.executable, "-m", "balloon_tui", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env=env,
        check=False,
    )
