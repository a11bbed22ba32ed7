"""SIGTERM, SIGHUP and SIGINT end the real program with the terminal restored (main screen,
no mouse reporting, cursor shown, no bracketed paste) and exit status 128 + the signal;
ctrl+c quits like `q`, also while typing in the filter. Runs `python -m balloon_tui --demo`
on a pseudo-terminal and reads every byte it writes."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

START = b"\x1b[?1049h"  # the alternate screen: Textual's application mode begins
RESTORE = (
    b"\x1b[?1049l",  # the main screen back
    b"\x1b[?25h",  # the cursor shown
    b"\x1b[?1000l",
    b"\x1b[?1003l",
    b"\x1b[?1006l",  # no mouse reporting
    b"\x1b[?2004l",  # no bracketed paste
)
ENABLE = (START, b"\x1b[?1000h", b"\x1b[?1003h", b"\x1b[?1006h", b"\x1b[?2004h")


class Terminal:
    """The program on a pty of 100x30; `output` is everything it has written so far."""

    def __init__(self, tmp_path: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = dict(
            os.environ,
            TERM="xterm-256color",
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            XDG_STATE_HOME=str(tmp_path / "state"),
        )
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "balloon_tui",
                "--demo",
                "--audit-log",
                str(tmp_path / "audit.jsonl"),
            ],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            env=env,
            start_new_session=True,  # its own session: our signals reach it alone
        )
        os.close(slave)
        self.output = b""

    def read(self, seconds: float) -> bool:
        """Read for up to `seconds`; False once the program has closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every copy of the other side is closed
            return False
        self.output += chunk
        return bool(chunk)

    def wait_until_drawn(self) -> None:
        """Application mode entered, the guests drawn, then quiet for a moment."""
        deadline = time.monotonic() + 20
        while not (START in self.output and b"web-frontend" in self.output):
            assert time.monotonic() < deadline, f"the app did not start: {self.output[-500:]!r}"
            assert self.read(0.1), f"the app ended: {self.output[-500:]!r}"
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 0.5:
            before = len(self.output)
            self.read(0.1)
            if len(self.output) != before:
                quiet_since = time.monotonic()

    def finish(self) -> int:
        """Read to the end; the exit status."""
        deadline = time.monotonic() + 15
        while self.read(0.2):
            assert time.monotonic() < deadline, "still running 15 s later"
        return self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path):
    term = Terminal(tmp_path)
    yield term
    term.close()


def assert_restored(output: bytes) -> None:
    """After application mode last began, every restore sequence is written, and nothing
    turns any of it on again after the main screen is back."""
    tail = output[output.rindex(START) :]
    for sequence in RESTORE:
        assert sequence in tail, (sequence, tail[-400:])
    after = tail[tail.rindex(b"\x1b[?1049l") :]
    for sequence in ENABLE:
        assert sequence not in after, (sequence, after)


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "SIGINT"]
)
def test_a_signal_restores_the_terminal_and_exits_128_plus_it(
    terminal: Terminal, signum: int
) -> None:
    terminal.wait_until_drawn()
    started = time.monotonic()
    terminal.proc.send_signal(signum)
    status = terminal.finish()
    assert status == 128 + signum, (status, terminal.output[-400:])
    assert_restored(terminal.output)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "before", [b"", b"/we", b"?"], ids=["table", "typing-in-the-filter", "help-screen"]
)
def test_ctrl_c_quits_like_q(terminal: Terminal, before: bytes) -> None:
    terminal.wait_until_drawn()
    if before:
        os.write(terminal.master, before)
        terminal.read(0.5)
    os.write(terminal.master, b"\x03")
    assert terminal.finish() == 0
    assert_restored(terminal.output)


def test_a_hangup_after_the_terminal_is_gone_exits_129_at_once(terminal: Terminal) -> None:
    """The ssh connection dropped: the kernel hangs the terminal up (closing the other side
    does that), then SIGHUP. Nothing to restore; leave quickly with 128 + SIGHUP."""
    terminal.wait_until_drawn()
    os.close(terminal.master)
    terminal.master = os.open(os.devnull, os.O_RDONLY)  # for close() to close
    started = time.monotonic()
    terminal.proc.send_signal(signal.SIGHUP)
    assert terminal.proc.wait(timeout=10) == 128 + signal.SIGHUP
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("argv", [["--once"], []], ids=["once", "tui"])
def test_ctrl_c_while_connecting_is_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    argv: list[str],
) -> None:
    from balloon_tui import cli
    from balloon_tui.virt.fleet import Fleet

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(Fleet, "connect_all", interrupted)
    assert cli.main(["--demo", *argv]) == 128 + signal.SIGINT
    assert capsys.readouterr().err == ""
