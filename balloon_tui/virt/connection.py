"""Opening libvirt connections, with credentials when a URI asks for them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

import libvirt

from balloon_tui.virt.errors import code_of, describe
from balloon_tui.virt.events import ensure_event_loop

# (uri, list of (credential type, prompt)) -> answers in the same order, or None to give up.
CredentialPrompt = Callable[[str, list[tuple[int, str]]], list[str] | None]

KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3


class ConnectError(Exception):
    def __init__(self, uri: str, message: str, code: int = 0) -> None:
        super().__init__(f"cannot open {uri}: {message}")
        self.uri = uri
        self.reason = message
        self.code = code


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


def open_connection(
    uri: str | None, readonly: bool = False, prompt: CredentialPrompt | None = None
) -> libvirt.virConnect:
    """Open `uri` (None = libvirt's default); raises ConnectError with libvirt's reason."""
    ensure_event_loop()
    _check_node_file(uri)
    flags = libvirt.VIR_CONNECT_RO if readonly else 0
    cancelled = False

    def answer(credentials: list[list[object]], _data: object) -> int:
        nonlocal cancelled
        if prompt is None:
            return -1
        questions = [(int(str(c[0])), str(c[1])) for c in credentials]
        answers = prompt(display_uri(uri), questions)
        if answers is None:
            cancelled = True
            return -1
        for credential, value in zip(credentials, answers, strict=False):
            credential[4] = value
        return 0

    auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], answer, None]
    try:
        conn = libvirt.openAuth(uri, auth, flags)
    except libvirt.libvirtError as exc:
        reason = "cancelled by the operator" if cancelled else describe(exc)
        raise ConnectError(display_uri(uri), reason, code_of(exc)) from None
    if conn is None:  # pragma: no cover - old bindings returned None instead of raising
        raise ConnectError(display_uri(uri), "libvirt returned no connection")
    try:
        conn.setKeepAlive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT)
    except libvirt.libvirtError:
        pass  # local drivers (test://) have no keepalive; nothing to detect there
    return conn
