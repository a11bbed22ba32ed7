"""The terminal goes away (ssh dropped, tmux killed): the real CLI leaves within seconds and
does not spin on a dead tty. Runs `python -m balloon_tui --demo` in a private tmux server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _stat(pid: int) -> tuple[str, float] | None:
    """(state letter, CPU seconds used) of `pid`, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], (int(fields[11]) + int(fields[12])) / TICKS


def test_killing_the_tmux_session_ends_the_app_quickly(tmp_path: Path) -> None:
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock"), "-f", "/dev/null"]  # a private server
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), TERM="xterm-256color")
    command = f"exec {sys.executable} -m balloon_tui --demo --audit-log {tmp_path / 'audit.jsonl'}"
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command],
        check=True,
        cwd=REPO,
        env=env,
        timeout=10,
    )
    try:
        pid = int(
            subprocess.run(
                [*tmux, "list-panes", "-t", "app", "-F", "#{pane_pid}"],
                check=True,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.split()[0]
        )
        deadline = time.monotonic() + 15
        screen = ""
        while "test:demo.xml" not in screen:  # the app is up and has polled once
            assert time.monotonic() < deadline, f"the app did not start:\n{screen}"
            time.sleep(0.1)
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "app"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout
        before = _stat(pid)
        assert before is not None and before[0] != "Z"

        killed = time.monotonic()
        subprocess.run([*tmux, "kill-session", "-t", "app"], check=False, timeout=10)
        last = before
        while True:
            now = _stat(pid)
            if now is None or now[0] in "ZX":  # gone (or a zombie nobody reaped: gone too)
                last = now or last
                break
            last = now
            assert time.monotonic() - killed < 5.0, "still running 5 s after the hang-up"
            time.sleep(0.05)
        took = time.monotonic() - killed
        cpu_after_hangup = last[1] - before[1]
        print(f"took {took:.2f} s, cpu {cpu_after_hangup:.2f} s, state {last}")
        assert took < 5.0
        assert cpu_after_hangup < 1.0, f"{cpu_after_hangup:.2f} s of CPU after the hang-up"
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True, timeout=10)
