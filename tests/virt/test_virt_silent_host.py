"""A host that accepts the connection and never answers must not hold up the others."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fleet_inbox import Inbox
from nodefiles import DomainSpec

from balloon_tui.core.model import HostStatus
from balloon_tui.virt.fleet import Fleet


@pytest.fixture
def silent_host(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts connections and says nothing: libvirt's open waits."""
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"qemu+unix:///system?socket={path}"
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()  # the waiting open now fails, and its thread ends
    server.close()


def test_connect_all_gives_up_waiting_and_the_others_go_on(
    node: Callable[..., str], make_fleet: Callable[..., Fleet], inbox: Inbox, silent_host: str
) -> None:
    good = node([DomainSpec("alpha")])
    fleet = make_fleet([good, silent_host], interval=0.2)
    started = time.monotonic()
    errors = fleet.connect_all(timeout=1.0)
    waited = time.monotonic() - started
    assert waited < 2.0, waited
    assert errors == {}  # not failed: still waiting for an answer
    assert fleet.workers[good].session.connected
    assert not fleet.workers[silent_host].session.connected
    fleet.start()
    inbox.wait(lambda i: len(i.of(good, HostStatus.OK)) >= 3)
    assert not inbox.of(silent_host, HostStatus.OK)
    started = time.monotonic()
    fleet.stop()
    assert time.monotonic() - started < 3.0


def test_once_reports_a_silent_host_and_exits_2(
    node: Callable[..., str],
    silent_host: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from balloon_tui import cli

    monkeypatch.setattr(cli, "ONCE_WAIT_SECONDS", 1.0)
    good = node([DomainSpec("alpha")])
    code = cli.main(
        ["-c", good, "-c", silent_host, "--once", "--audit-log", str(tmp_path / "a.jsonl")]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"balloon-tui: cannot open {silent_host}: no answer within 1 s"]
