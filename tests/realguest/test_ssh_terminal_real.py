"""ssh never touches the operator's terminal; scripts never hang on a question (issue 16).

The real program runs in a pseudo-terminal that is its controlling terminal -- where ssh
would print "password:" and read the answer if nothing stopped it -- and the test reads
every byte the terminal gets. `--once` runs with no terminal at all (a new session, stdin
from /dev/null), as under cron.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
import sshtest

pytestmark = pytest.mark.realguest

COLUMNS, LINES = 120, 40
ONCE_LIMIT_SECONDS = 5.0


class Terminal:
    """The program on a pty of its own; `seen` is every byte it wrote to its screen."""

    def __init__(self, argv: list[str]) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "", "LINES": ""}
        env = {k: v for k, v in env.items() if v}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the pty is its controlling terminal
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
            os.execve(argv[0], argv, env)
        self.seen = b""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the program is gone
            return False
        self.seen += chunk
        return bool(chunk)

    def wait_for(self, text: bytes, timeout: float = 20.0) -> None:
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while text not in self.seen[start:]:
            if time.monotonic() > deadline or not self._read(0.1):
                tail = self.seen[-600:]
                raise AssertionError(f"{text!r} not on the screen within {timeout} s: {tail!r}")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        """Whatever happened: the program ends, the pty is closed."""
        if self.pid <= 0:
            os.close(self.fd)
            return
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)

    def exit_code(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = -1
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"the program did not end within {timeout} s")


def test_ssh_asks_in_the_dialog_and_never_on_the_terminal(ssh, tmp_path, balloon_guest):
    uri = ssh.ssh_uri(sshtest.PW_USER)
    argv = [sys.executable, "-m", "balloon_tui", "--audit-log", str(tmp_path / "audit.jsonl")]
    term = Terminal([*argv, "-c", uri, "-c", "test:///default"])
    try:
        term.wait_for(b"Unknown host key")
        term.send(b"a")
        term.wait_for(b"password:")
        term.send(ssh.password.encode())
        term.wait_for("•".encode())  # the password field draws dots, not what is typed
        term.send(b"\r")
        term.wait_for(b"2/2 hosts")
        term.send(b"q")
        assert term.exit_code() == 0
    finally:
        term.close()
    seen = term.seen
    # ssh's own words and its way of asking (a carriage return, then the prompt) never
    # reached the terminal; nor did what was typed for it.
    assert b"continue connecting" not in seen
    assert b"\r" + sshtest.PW_USER.encode() not in seen
    assert b"Permanently added" not in seen
    assert ssh.password.encode() not in seen


def _once(uri: str) -> tuple[int, str, float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "balloon_tui", "--once", "-c", uri],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,  # no controlling terminal, as under cron
        timeout=30,
    )
    return done.returncode, done.stderr, time.monotonic() - start


@pytest.mark.parametrize("transport", ["ssh", "libssh"])
@pytest.mark.parametrize("known", [False, True], ids=["unknown-host-key", "password"])
def test_once_without_a_terminal_fails_fast_with_one_line(ssh, transport, known):
    if known:
        ssh.trust_host()
    make = ssh.ssh_uri if transport == "ssh" else ssh.libssh_uri
    code, err, took = _once(make(sshtest.PW_USER))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("balloon-tui: cannot open qemu+")
    assert took < ONCE_LIMIT_SECONDS, f"--once took {took:.1f} s"
    if transport == "ssh":
        assert "no terminal" in lines[0]
        assert ("unknown host key" in lines[0]) is not known
        assert ("password" in lines[0]) is known
