"""The scripted session `make record` records (scripts/record_demo.py runs it under asciinema).

balloon-tui runs in a pseudo-terminal of its own; everything it draws goes to this process's
stdout (asciinema's terminal) and onto a pyte screen, which the script reads to wait for what
must be there before the next key: no guessing how long the app takes on this machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyte

WAIT_SECONDS = 20.0
DOWN, UP, ENTER, TAB = "\x1b[B", "\x1b[A", "\r", "\t"


class SessionError(Exception):
    """The app did not show what the script waited for; the message holds the screen."""


class Terminal:
    """A program in a pseudo-terminal: its output forwarded and followed, input typed in."""

    def __init__(self, argv: list[str], cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.reader = threading.Thread(target=self._pump, name="pty-reader", daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        out = sys.stdout.buffer
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return  # the program is gone (EIO)
            if not data:
                return
            out.write(data)
            out.flush()
            with self.lock:
                self.stream.feed(data)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.screen.display)

    def wait(self, what: str, check: Callable[[str], bool], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not check(self.text()):
            if time.monotonic() > deadline:
                raise SessionError(f"waited {timeout:.0f} s for {what}; the screen:\n{self.text()}")
            time.sleep(0.05)

    def wait_for(self, *needles: str, timeout: float = WAIT_SECONDS) -> None:
        self.wait(
            " and ".join(repr(n) for n in needles),
            lambda text: all(n in text for n in needles),
            timeout,
        )

    def wait_gone(self, needle: str, timeout: float = WAIT_SECONDS) -> None:
        self.wait(f"{needle!r} to go", lambda text: needle not in text, timeout)

    def find(self, needle: str) -> tuple[int, int]:
        """(column, row), 0-based, of the first place the screen shows `needle`."""
        for row, line in enumerate(self.text().splitlines()):
            col = line.find(needle)
            if col >= 0:
                return col, row
        raise SessionError(f"{needle!r} is not on the screen:\n{self.text()}")

    def type(self, *keys: str, pause: float = 0.35) -> None:
        """Each key on its own, `pause` seconds apart (a person's pace, and no two escape
        sequences ever read as one)."""
        for key in keys:
            os.write(self.fd, key.encode())
            time.sleep(pause)

    # SGR mouse reports (xterm 1006), 1-based: what a terminal sends for button 1.
    def _mouse(self, code: int, col: int, row: int, final: str) -> None:
        os.write(self.fd, f"\x1b[<{code};{col + 1};{row + 1}{final}".encode())

    def drag(self, start: tuple[int, int], end_col: int, step_pause: float = 0.12) -> None:
        """Press on `start`, move along its row to `end_col` a cell at a time, let go."""
        col, row = start
        self._mouse(0, col, row, "M")
        time.sleep(0.4)
        step = -1 if end_col < col else 1
        while col != end_col:
            col += step
            self._mouse(32, col, row, "M")  # 32: motion with the button held
            time.sleep(step_pause)
        time.sleep(0.8)  # the preview, held still for a moment before the release
        self._mouse(0, col, row, "m")

    def close(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.reader.join(2)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise SessionError("balloon-tui did not quit")


def _line_with(term: Terminal, needle: str) -> str:
    return next((line for line in term.text().splitlines() if needle in line), "")


def _floor_col(term: Terminal, handle_row: int) -> int:
    """The column of the floor's mark ("f") under the slider's track."""
    col = term.text().splitlines()[handle_row + 1].find("f")
    if col < 0:
        raise SessionError(f"no floor mark under the slider:\n{term.text()}")
    return col


def _changes(term: Terminal, needle: str, what: str) -> Callable[[], None]:
    """A wait for the line holding `needle` to differ from what it shows now."""
    before = _line_with(term, needle)
    return lambda: term.wait(what, lambda _text: _line_with(term, needle) != before)


def script(term: Terminal) -> None:
    """The session: each step waits for what it needs on the screen, then pauses so that a
    viewer can read it."""
    term.wait_for("web-frontend-01", "proposals need")
    time.sleep(1.5)

    # Choose a guest: down the table to web-frontend-01, Enter to its slider.
    term.type(*[DOWN] * 9, pause=0.18)
    term.wait_for("web-frontend-01  ▶")
    time.sleep(1.0)
    term.type(ENTER, pause=0.8)

    # Drag the handle towards the floor: the panel previews the target while the mouse
    # holds it; it is written on release, and the balloon follows.
    handle = term.find("◆")
    term.drag(handle, _floor_col(term, handle[1]) + 6)
    term.wait_for("✓ at the target")
    time.sleep(2.5)

    # Below the safety floor: the app asks first (Enter: Cancel, the focused button).
    handle = term.find("◆")
    term.drag(handle, _floor_col(term, handle[1]) - 3, step_pause=0.08)
    term.wait_for("set anyway")
    time.sleep(3.5)
    term.type(ENTER)
    term.wait_gone("set anyway")
    time.sleep(1.0)

    # The regulator's proposal for this guest, applied with y.
    term.wait_for("y to apply")
    applied = _changes(term, "▲ target", "the proposal to be applied")
    term.type("y", pause=0.1)
    applied()
    time.sleep(2.5)

    # The autopilot applies every guest's proposal, a round every 10 s.
    rounds = _changes(term, "db-primary", "the autopilot's first round")
    term.type("A", pause=0.1)
    term.wait_for("autopilot on")
    rounds()
    time.sleep(4.0)
    term.type("A", pause=0.1)
    term.wait_for("autopilot off")
    time.sleep(2.0)


def drive() -> int:
    """Run the session in this terminal (asciinema's): 0, or 1 with the reason written to
    $BTUI_RECORD_FAILURE (asciinema's own exit status does not tell)."""
    cols, rows = os.get_terminal_size(sys.stdout.fileno())
    term = Terminal([sys.executable, "-m", "balloon_tui", "--demo"], cols, rows)
    try:
        script(term)
        term.type("q")
        status = term.close()
        if status != 0:
            raise SessionError(f"balloon-tui exited with status {status}")
    except SessionError as e:
        with contextlib.suppress(ProcessLookupError):
            os.kill(term.pid, signal.SIGKILL)
        failure = os.environ.get("BTUI_RECORD_FAILURE")
        if failure:
            Path(failure).write_text(f"{e}\n", encoding="utf-8")
        return 1
    return 0
