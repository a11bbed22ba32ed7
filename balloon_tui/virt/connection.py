"""Opening libvirt connections, with credentials when a URI asks for them."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

import libvirt

from balloon_tui.core.questions import (
    ALL_CREDENTIALS,
    QuestionKind,
    classify,
    from_ssh,
    summary,
)
from balloon_tui.core.uris import UriError, check_uri
from balloon_tui.virt import askpass
from balloon_tui.virt.errors import code_of, describe
from balloon_tui.virt.events import ensure_event_loop

# (uri, list of (credential type, prompt)) -> answers in the same order, or None to give up.
CredentialPrompt = Callable[[str, list[tuple[int, str]]], list[str] | None]


class DeferredPrompt:
    """A CredentialPrompt for the hosts opened before the app can ask (the CLI's first
    opens): their questions wait until `attach` gives the app's prompt, or `close` (None:
    the open gives up). `waiting` says which hosts sit on a question meanwhile, so start-up
    need not wait for them."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._prompt: CredentialPrompt | None = None
        self._lock = threading.Lock()
        self._waiting: dict[str, int] = {}

    def __call__(self, uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        with self._lock:
            self._waiting[uri] = self._waiting.get(uri, 0) + 1
        try:
            self._ready.wait()
            prompt = self._prompt
            return None if prompt is None else prompt(uri, questions)
        finally:
            with self._lock:
                self._waiting[uri] -= 1
                if not self._waiting[uri]:
                    del self._waiting[uri]

    @property
    def attached(self) -> bool:
        return self._prompt is not None

    def waiting(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._waiting)

    def attach(self, prompt: CredentialPrompt) -> None:
        self._prompt = prompt
        self._ready.set()

    def close(self) -> None:
        self._ready.set()


# The reason of a ConnectError when the operator skipped the host (the status word says it).
AUTH_SKIPPED = "authentication skipped"
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3


class ConnectError(Exception):
    """`needs_credentials`: libvirt asked for credentials and there was no prompt to ask
    (open it again with one). `cancelled`: the operator declined to give them (skipped)."""

    def __init__(
        self,
        uri: str,
        message: str,
        code: int = 0,
        *,
        needs_credentials: bool = False,
        cancelled: bool = False,
    ) -> None:
        super().__init__(f"cannot open {uri}: {message}")
        self.uri = uri
        self.reason = message
        self.code = code
        self.needs_credentials = needs_credentials
        self.cancelled = cancelled


def display_uri(uri: str | None) -> str:
    return uri or "(libvirt default)"


def _check_node_file(uri: str | None) -> None:
    """Check a test-driver node file ourselves: libxml2 would print its errors on the screen."""
    if not uri or not uri.startswith("test://"):
        return
    path = urlsplit(uri).path
    if path in ("", "/", "/default"):
        return
    try:
        ET.parse(path)
    except OSError as exc:
        raise ConnectError(
            uri, f"node file {path}: {exc.strerror}", libvirt.VIR_ERR_XML_ERROR
        ) from None
    except ET.ParseError as exc:
        raise ConnectError(
            uri, f"node file {path} is not valid XML: {exc}", libvirt.VIR_ERR_XML_ERROR
        ) from None


def _ssh_outcome(uri: str, ticket: askpass.Ticket, exc: libvirt.libvirtError) -> None:
    """Raise what became of ssh's questions, when they are why the open failed."""
    if ticket.refused:
        raise ConnectError(uri, "host key not accepted", code_of(exc), cancelled=True)
    if ticket.cancelled:
        raise ConnectError(uri, AUTH_SKIPPED, code_of(exc), cancelled=True)
    if ticket.unanswered is not None:
        asked = summary(classify(*from_ssh(ticket.unanswered)))
        raise ConnectError(
            uri,
            f"ssh asks {asked} and there is no terminal to answer on (run it from a "
            "terminal, or accept the host key and load a key into ssh-agent first)",
            code_of(exc),
            needs_credentials=True,
        )


def open_connection(
    uri: str | None, readonly: bool = False, prompt: CredentialPrompt | None = None
) -> libvirt.virConnect:
    """Open `uri` (None = libvirt's default); raises ConnectError with libvirt's reason.

    Nothing else escapes: this runs on a host's worker thread, where any other exception
    would end the thread and leave the host "connecting" for good."""
    if uri is not None:
        try:
            check_uri(uri)  # the CLI checked it already; a NUL would raise ValueError below
        except UriError as exc:
            raise ConnectError(uri, str(exc)) from None
    ensure_event_loop()
    _check_node_file(uri)
    flags = libvirt.VIR_CONNECT_RO if readonly else 0
    # ssh asks on our terminal unless told otherwise: only a script run from a terminal
    # (no prompt of ours) lets it, as virsh does.
    ticket = None
    open_uri = uri
    if (
        uri is not None
        and askpass.uses_ssh_binary(uri)
        and (prompt is not None or not askpass.has_terminal())
    ):
        try:
            ticket, open_uri = askpass.service().ticket(display_uri(uri), prompt, uri)
        except OSError as exc:  # no room or no right for the askpass socket
            raise ConnectError(uri, f"cannot set up ssh's questions: {exc}") from None
    try:
        return _open(uri, open_uri, flags, prompt, ticket)
    finally:
        if ticket is not None:
            ticket.close()


def _open(
    uri: str | None,
    open_uri: str | None,
    flags: int,
    prompt: CredentialPrompt | None,
    ticket: askpass.Ticket | None,
) -> libvirt.virConnect:
    cancelled = False
    refused = False  # a host key (libssh) the operator did not accept
    asked = False  # libvirt wanted credentials

    def answer(credentials: list[list[object]], _data: object) -> int:
        nonlocal cancelled, refused, asked
        asked = True
        if prompt is None:
            return -1
        questions = [(int(str(c[0])), str(c[1])) for c in credentials]
        try:
            answers = prompt(display_uri(uri), questions)
        except Exception:  # a broken prompt must not escape into libvirt's C callback
            answers = None
        if answers is None:
            cancelled = True
            return -1
        for (kind, words), value in zip(questions, answers, strict=False):
            question = classify(kind, words)
            if question.kind is QuestionKind.HOST_KEY and value != question.accept:
                refused = True
        for credential, value in zip(credentials, answers, strict=False):
            credential[4] = value
        return 0

    # Every type libvirt may ask: libssh asks host keys as ECHOPROMPT, SASL may want a realm.
    auth = [list(ALL_CREDENTIALS), answer, None]
    try:
        conn = libvirt.openAuth(open_uri, auth, flags)
    except libvirt.libvirtError as exc:
        if ticket is not None:
            _ssh_outcome(display_uri(uri), ticket, exc)
        if refused:
            raise ConnectError(
                display_uri(uri), "host key not accepted", code_of(exc), cancelled=True
            ) from None
        if cancelled:
            raise ConnectError(
                display_uri(uri), AUTH_SKIPPED, code_of(exc), cancelled=True
            ) from None
        reason = describe(exc)
        if asked and prompt is None:
            reason += " (it needs credentials: the interactive screen asks for them)"
        raise ConnectError(
            display_uri(uri), reason, code_of(exc), needs_credentials=asked and prompt is None
        ) from None
    except Exception as exc:  # the bindings' own checks (ValueError, TypeError, ...)
        raise ConnectError(display_uri(uri), f"{type(exc).__name__}: {exc}") from None
    if conn is None:  # pragma: no cover - old bindings returned None instead of raising
        raise ConnectError(display_uri(uri), "libvirt returned no connection")
    try:
        conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
    except libvirt.libvirtError:
        pass  # local drivers (test://) have no keepalive; nothing to detect there
    return conn
