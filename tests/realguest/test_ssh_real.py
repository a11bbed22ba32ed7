"""Remote hosts over ssh, every question inside the app (issue 16), against a real sshd.

The sshd (scripts/realguest/sshd.sh) listens on 127.0.0.1 and lets two throw-away users in
the libvirt group reach this machine's qemu:///system: one logs in with a password, one
with a key. The app is built as balloon_tui/cli.py builds it (a Fleet with `ask_later`,
`connect_all` with the CLI's timeout, then `create_app(fleet.bind, ...)`) and driven with
Textual's Pilot; a real guest (balloon_guest) is running, so "lists the real guests" means
the names libvirt lists, seen through ssh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import guests as g
import libvirt
import pytest
import sshtest
from textual.widgets import Input, Static

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostStatus
from balloon_tui.core.safety import DEFAULT_POLICY
from balloon_tui.tui import BalloonApp, create_app
from balloon_tui.tui.screens.auth import AuthScreen
from balloon_tui.virt.fleet import Fleet

pytestmark = pytest.mark.realguest

SIZE = (120, 40)
CONNECT_WAIT_SECONDS = 10.0  # the CLI's: a host asking a question must not use it up
TIMEOUT = 20.0
OTHER = "test:///default"  # a second host that carries on while the dialog is up


Started = tuple[BalloonApp, float]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[[list[str]], Started]]:
    """The CLI's start: (the app, seconds connect_all took)."""
    fleets: list[Fleet] = []

    def make(uris: list[str]) -> Started:
        fleet = Fleet(uris, interval=0.5, audit=AuditLog(tmp_path / "audit.jsonl"), ask_later=True)
        fleets.append(fleet)
        began = time.monotonic()
        errors = fleet.connect_all(timeout=CONNECT_WAIT_SECONDS)
        took = time.monotonic() - began
        assert not errors, errors
        app = create_app(fleet.bind, show_host=len(uris) > 1, floor=DEFAULT_POLICY, log_clock=False)
        return app, took

    yield make
    for fleet in fleets:
        fleet.stop()


async def until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.05)


def status(app: BalloonApp, uri: str) -> HostStatus | None:
    host = app.main.view.hosts.get(uri)
    return None if host is None else host.status


def host_error(app: BalloonApp, uri: str) -> str | None:
    host = app.main.view.hosts.get(uri)
    return None if host is None else host.error


def dialog_text(screen: AuthScreen) -> str:
    parts = []
    for static in screen.query(Static):
        content = static.render()
        parts.append(str(getattr(content, "plain", content)))
    return "\n".join(parts)


async def dialog(app: BalloonApp, what: str, *, host_key: bool) -> AuthScreen:
    def shown() -> bool:
        screen = app.screen
        return isinstance(screen, AuthScreen) and (screen.host_key is not None) == host_key

    await until(shown, what)
    screen = app.screen
    assert isinstance(screen, AuthScreen)
    return screen


async def type_answer(app: BalloonApp, pilot: Any, text: str) -> None:
    screen = app.screen
    box = screen.query_one(Input)
    assert box.password  # a secret: never echoed
    box.value = text
    box.focus()
    await pilot.press("enter")
    await until(lambda: app.screen is not screen, "the dialog to close")


def running_names(conn: libvirt.virConnect) -> set[str]:
    return {d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}


def listed_names(app: BalloonApp, uri: str) -> set[str]:
    host = app.main.view.hosts[uri]
    return {d.name for d in host.domains}


async def connected(app: BalloonApp, uri: str, conn: libvirt.virConnect, guest: g.Guest) -> None:
    await until(lambda: status(app, uri) is HostStatus.OK, f"{uri} to connect")
    assert guest.name in listed_names(app, uri)
    assert running_names(conn) <= listed_names(app, uri)


# -- qemu+ssh:// (the ssh binary, its questions through our askpass) --------------------------
async def test_ssh_password_and_unknown_host_key_are_asked_in_the_app(
    ssh, make_app, libvirt_conn, balloon_guest
):
    uri = ssh.ssh_uri(sshtest.PW_USER)
    app, took = make_app([uri, OTHER])
    assert took < 3.0, f"start-up waited {took:.1f} s on a host that asks a question"
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, "the host key question", host_key=True)
        text = dialog_text(screen)
        assert ssh.fingerprint() in text  # in full
        assert "continue connecting" not in text  # our buttons ask that
        await until(lambda: getattr(app.focused, "id", None) == "refuse", "Refuse to have focus")
        # The other host carries on meanwhile.
        await until(lambda: status(app, OTHER) is HostStatus.OK, "the other host")
        await pilot.press("a")
        screen = await dialog(app, "the password question", host_key=False)
        assert "password" in dialog_text(screen) + str(screen.query_one("Label").render())
        await type_answer(app, pilot, ssh.password)
        await connected(app, uri, libvirt_conn, balloon_guest)
        assert "[localhost]:2222" in ssh.known_hosts.read_text()  # ssh stored the key
        assert not isinstance(app.screen, AuthScreen)


async def test_ssh_wrong_password_says_so_and_asks_again(
    ssh, make_app, libvirt_conn, balloon_guest
):
    ssh.trust_host()
    uri = ssh.ssh_uri(sshtest.PW_USER)
    app, _ = make_app([uri])
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, "the password question", host_key=False)
        assert not screen.query("#auth-note")
        await type_answer(app, pilot, "not-the-password")
        screen = await dialog(app, "the second try", host_key=False)
        note = str(screen.query_one("#auth-note", Static).render())
        assert "authentication failed" in note
        await type_answer(app, pilot, ssh.password)
        await connected(app, uri, libvirt_conn, balloon_guest)


async def test_ssh_refused_host_key_leaves_the_host_disconnected(ssh, make_app):
    uri = ssh.ssh_uri(sshtest.PW_USER)
    app, _ = make_app([uri, OTHER])
    async with app.run_test(size=SIZE) as pilot:
        await dialog(app, "the host key question", host_key=True)
        await pilot.press("enter")  # Refuse has the focus
        await until(lambda: status(app, uri) is HostStatus.SKIPPED, "the host to be skipped")
        assert host_error(app, uri) == "host key not accepted"
        assert not ssh.known_hosts.exists() or not ssh.known_hosts.read_text().strip()
        # Not asked again by itself; the app and the other host are fine.
        await asyncio.sleep(3)
        assert not isinstance(app.screen, AuthScreen)
        assert status(app, OTHER) is HostStatus.OK
        # ctrl+r asks again.
        await pilot.press("ctrl+r")
        await dialog(app, "the question again after ctrl+r", host_key=True)
        await pilot.press("escape")
        await until(lambda: status(app, uri) is HostStatus.SKIPPED, "skipped again")


async def test_ssh_key_login_needs_no_dialog(ssh, make_app, libvirt_conn, balloon_guest):
    ssh.trust_host()
    uri = ssh.ssh_uri(sshtest.KEY_USER, key=True)
    app, _ = make_app([uri])
    async with app.run_test(size=SIZE):
        await connected(app, uri, libvirt_conn, balloon_guest)
        assert not any(isinstance(s, AuthScreen) for s in app.screen_stack)


# -- qemu+libssh:// (libvirt's own client: questions through openAuth's callback) -------------
async def test_libssh_host_key_and_password_are_asked_in_the_app(
    ssh, make_app, libvirt_conn, balloon_guest
):
    uri = ssh.libssh_uri(sshtest.PW_USER)
    app, took = make_app([uri])
    assert took < 3.0, f"start-up waited {took:.1f} s on a host that asks a question"
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, "libssh's host key question", host_key=True)
        assert screen.host_key is not None and screen.host_key.accept == "y"
        assert "localhost:2222" in dialog_text(screen)
        await pilot.press("a")
        await dialog(app, "libssh's password question", host_key=False)
        await type_answer(app, pilot, ssh.password)
        await connected(app, uri, libvirt_conn, balloon_guest)
        assert ssh.known_hosts.read_text().strip()  # libvirt stored the key


async def test_libssh_wrong_password_then_right(ssh, make_app, libvirt_conn, balloon_guest):
    ssh.trust_host()
    uri = ssh.libssh_uri(sshtest.PW_USER)
    app, _ = make_app([uri])
    async with app.run_test(size=SIZE) as pilot:
        await dialog(app, "libssh's password question", host_key=False)
        await type_answer(app, pilot, "not-the-password")
        screen = await dialog(app, "the second try", host_key=False)
        assert "authentication failed" in str(screen.query_one("#auth-note", Static).render())
        await type_answer(app, pilot, ssh.password)
        await connected(app, uri, libvirt_conn, balloon_guest)


async def test_libssh_refused_host_key_leaves_the_host_disconnected(ssh, make_app):
    uri = ssh.libssh_uri(sshtest.PW_USER)
    app, _ = make_app([uri, OTHER])
    async with app.run_test(size=SIZE) as pilot:
        await dialog(app, "libssh's host key question", host_key=True)
        await pilot.press("r")
        await until(lambda: status(app, uri) is HostStatus.SKIPPED, "the host to be skipped")
        assert host_error(app, uri) == "host key not accepted"
        await asyncio.sleep(2)
        assert not isinstance(app.screen, AuthScreen)
        assert status(app, OTHER) is HostStatus.OK


async def test_libssh_key_login_needs_no_dialog(ssh, make_app, libvirt_conn, balloon_guest):
    ssh.trust_host()
    uri = ssh.libssh_uri(sshtest.KEY_USER, key=True)
    app, _ = make_app([uri])
    async with app.run_test(size=SIZE):
        await connected(app, uri, libvirt_conn, balloon_guest)
        assert not any(isinstance(s, AuthScreen) for s in app.screen_stack)
