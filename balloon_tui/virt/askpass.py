"""`qemu+ssh://`: the ssh binary's questions (passwords, passphrases, host keys) in the app.

libvirt runs `ssh` itself and passes it only a few environment variables (SSH_ASKPASS,
DISPLAY, PATH, HOME...: not SSH_ASKPASS_REQUIRE), and ssh reads passwords from the
controlling terminal -- the one the TUI draws on. So each such open goes through a small
wrapper we write and name in the URI's `command=` parameter (libvirt's "ssh binary"): it
sets SSH_ASKPASS (askpass_client.py) with SSH_ASKPASS_REQUIRE=force and starts ssh in a
session of its own (setsid), where it has no terminal to touch at all.

The askpass program hands each question to this process over a Unix socket in a private
directory (mode 0700); the Ticket of that open asks it through the connection's
CredentialPrompt (the app's dialog) and says what happened: answered, skipped, host key
refused, or asked where nobody can answer (no prompt: a script).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shlex
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from balloon_tui.core.questions import QuestionKind, classify, from_ssh

# (uri, [(credential type, question)]) -> answers, or None to give up (virt/connection.py).
Prompt = Callable[[str, list[tuple[int, str]]], list[str] | None]

QUESTION_LIMIT = 1 << 16
CLIENT = Path(__file__).with_name("askpass_client.py")


def uses_ssh_binary(uri: str | None) -> bool:
    """libvirt runs the `ssh` binary for `driver+ssh://` URIs (not +libssh/+libssh2)."""
    if not uri:
        return False
    scheme = uri.split(":", 1)[0].lower()
    return scheme.endswith("+ssh")


def has_terminal() -> bool:
    """Whether ssh could ask on a terminal of ours (false under cron, setsid, a CI job)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def with_command(uri: str, wrapper: str) -> tuple[str, str]:
    """`uri` with libvirt's `command=` set to `wrapper`; and the ssh the wrapper runs: the
    URI's own `command=` if it had one (an operator's ssh), else `ssh` from PATH."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    real = next((value for key, value in query if key == "command" and value), "ssh")
    query = [(k, v) for k, v in query if k != "command"] + [("command", wrapper)]
    # %20, not "+": libvirt unescapes the query without the form-encoding rules.
    encoded = urlencode(query, safe="/:", quote_via=quote)
    return urlunsplit(parts._replace(query=encoded)), real


class Ticket:
    """One open of one URI: its wrapper, and what became of the questions ssh asked."""

    def __init__(self, service: AskpassService, token: str, uri: str, prompt: Prompt | None):
        self.service = service
        self.token = token
        self.uri = uri
        self.prompt = prompt
        self.wrapper: Path | None = None
        self.asked: list[str] = []
        self.cancelled = False  # the operator skipped the host
        self.refused = False  # the operator refused the host key
        self.unanswered: str | None = None  # asked with no prompt to ask: the question

    def answer(self, words: str, hint: str) -> str | None:
        """ssh's question (a socket handler thread): the answer, or None to end ssh."""
        credential, words = from_ssh(words, hint)
        question = classify(credential, words)
        self.asked.append(words)
        if self.prompt is None:
            self.unanswered = words
            return None
        try:
            answers = self.prompt(self.uri, [(credential, words)])
        except Exception:  # a broken prompt: the open fails, the app goes on
            answers = None
        if answers is None:
            self.cancelled = True
            return None
        answer = answers[0] if answers else ""
        if question.kind is QuestionKind.HOST_KEY and answer != question.accept:
            self.refused = True
            return question.refuse
        return answer

    def close(self) -> None:
        self.service.forget(self)


class AskpassService:
    """The socket the askpass program asks on; one per process, started at the first ssh
    open, removed with its directory at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, Ticket] = {}
        self._dir: Path | None = None
        self._listener: socket.socket | None = None

    def ticket(self, uri: str, prompt: Prompt | None, ssh_uri: str) -> tuple[Ticket, str]:
        """A ticket for opening `ssh_uri` (asking as `uri`), and the URI to open instead."""
        with self._lock:
            directory = self._start()
            token = secrets.token_hex(16)
            ticket = Ticket(self, token, uri, prompt)
            rewritten, real = with_command(ssh_uri, str(directory / f"ssh-{token}"))
            ticket.wrapper = directory / f"ssh-{token}"
            self._write(ticket.wrapper, self._wrapper_text(directory, token, real))
            self._tickets[token] = ticket
        return ticket, rewritten

    def forget(self, ticket: Ticket) -> None:
        with self._lock:
            self._tickets.pop(ticket.token, None)
        if ticket.wrapper is not None:
            with contextlib.suppress(OSError):
                ticket.wrapper.unlink()

    def close(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            directory, self._dir = self._dir, None
            self._tickets.clear()
        if listener is not None:
            # Wake the thread blocked in accept() first: closing alone leaves it there, and
            # it then takes the connections of the next socket given the same descriptor (a
            # service started later: its questions went unanswered).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                listener.close()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    # -- inside ------------------------------------------------------------------------
    def _start(self) -> Path:
        if self._dir is not None:
            return self._dir
        directory = Path(tempfile.mkdtemp(prefix="balloon-tui-askpass-"))  # mode 0700
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(directory / "socket"))
        listener.listen(16)
        self._write(
            directory / "askpass",
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -I {shlex.quote(str(CLIENT))} "$@"\n',
        )
        self._dir, self._listener = directory, listener
        threading.Thread(target=self._serve, args=(listener,), name="askpass", daemon=True).start()
        return directory

    @staticmethod
    def _wrapper_text(directory: Path, token: str, real: str) -> str:
        q = shlex.quote
        env = {
            "SSH_ASKPASS": str(directory / "askpass"),
            "SSH_ASKPASS_REQUIRE": "force",
            "BTUI_ASKPASS_SOCKET": str(directory / "socket"),
            "BTUI_ASKPASS_TOKEN": token,
        }
        exports = " ".join(f"{key}={q(value)}" for key, value in env.items())
        return (
            "#!/bin/sh\n"
            "# balloon-tui: ssh for libvirt, its questions asked in the app (virt/askpass.py)\n"
            f"export {exports}\n"
            # A session of its own: no controlling terminal, so ssh cannot read or write
            # the operator's screen even where it would not use askpass.
            f'command -v setsid >/dev/null 2>&1 && exec setsid -w {q(real)} "$@"\n'
            f'exec {q(real)} "$@"\n'
        )

    @staticmethod
    def _write(path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
        with os.fdopen(fd, "w") as out:
            out.write(text)

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed at exit
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                data = b""
                while len(data) < QUESTION_LIMIT and not data.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                question = json.loads(data)
                with self._lock:
                    ticket = self._tickets.get(str(question.get("token")))
                answer = None
                if ticket is not None:
                    answer = ticket.answer(
                        str(question.get("prompt", "")), str(question.get("hint", ""))
                    )
                reply = {} if answer is None else {"answer": answer}
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except (OSError, ValueError, AttributeError):
                return  # the askpass program gets no answer and ends its ssh


_service: AskpassService | None = None
_service_lock = threading.Lock()


def service() -> AskpassService:
    global _service
    with _service_lock:
        if _service is None:
            _service = AskpassService()
            atexit.register(_service.close)
        return _service
