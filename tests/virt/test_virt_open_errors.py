"""Opening a connection never kills a host's thread: a URI libvirt-python refuses (a NUL) or
any unexpected exception becomes that host's error, at once, instead of "connecting" for good."""

from __future__ import annotations

import time
from collections.abc import Callable

import libvirt
import pytest
from fleet_inbox import Inbox

from balloon_tui.core.model import HostStatus
from balloon_tui.virt import connection
from balloon_tui.virt.connection import ConnectError, open_connection
from balloon_tui.virt.session import HostSession

NUL_URI = "test:///def\x00ault"


def test_a_nul_in_the_uri_is_a_connect_error() -> None:
    with pytest.raises(ConnectError) as info:
        open_connection(NUL_URI)
    assert "U+0000" in info.value.reason
    assert info.value.uri == NUL_URI


def test_what_the_bindings_raise_besides_libvirt_errors_is_a_connect_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise TypeError("bad argument")

    monkeypatch.setattr(connection.libvirt, "openAuth", broken)
    with pytest.raises(ConnectError, match="TypeError: bad argument"):
        open_connection("test:///default")


def test_connect_all_reports_a_nul_uri_at_once(make_fleet: Callable[..., object]) -> None:
    fleet = make_fleet([NUL_URI, "test:///default"])
    started = time.monotonic()
    errors = fleet.connect_all(timeout=30)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5
    assert list(errors) == [NUL_URI]


def test_an_unexpected_exception_in_open_is_the_hosts_error(
    monkeypatch: pytest.MonkeyPatch, make_fleet: Callable[..., object], inbox: Inbox
) -> None:
    calls = []

    def open_then_fail(self: HostSession) -> None:
        calls.append(self.uri)
        raise RuntimeError("a bug")

    monkeypatch.setattr(HostSession, "open", open_then_fail)
    fleet = make_fleet(["test:///default"], interval=0.1)
    errors = fleet.connect_all(timeout=5)  # type: ignore[attr-defined]
    assert "RuntimeError: a bug" in errors["test:///default"].reason
    fleet.start()  # type: ignore[attr-defined]
    inbox.wait(lambda i: len(i.of("test:///default", HostStatus.DISCONNECTED)) >= 2, timeout=10)
    [worker] = fleet.workers.values()  # type: ignore[attr-defined]
    assert worker.polling  # the poller lives on and tries again
    error = inbox.of("test:///default", HostStatus.DISCONNECTED)[-1].error
    assert error is not None and "RuntimeError: a bug" in error
    assert len(calls) >= 3


def test_a_good_uri_still_opens() -> None:
    conn = open_connection("test:///default")
    try:
        assert isinstance(conn, libvirt.virConnect)
    finally:
        conn.close()
