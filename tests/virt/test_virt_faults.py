"""Fault handling of virt/session.py and virt/fleet.py on test-driver hosts (fast).

The same faults against the real libvirtd (killed, frozen, behind a frozen proxy) are in
tests/realguest/test_faults_real.py.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from fleet_inbox import Inbox
from nodefiles import GIB, MIB, DomainSpec, uuid_for, write_node_file

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource
from balloon_tui.virt import fleet as fleet_module
from balloon_tui.virt.connection import ConnectError
from balloon_tui.virt.fleet import Fleet, backoff_seconds
from balloon_tui.virt.session import HostSession

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB),
    DomainSpec("beta", max_kib=4 * GIB, current_kib=3 * GIB),
    DomainSpec("victim", max_kib=2 * GIB),
]
ALPHA, BETA, VICTIM = uuid_for(1), uuid_for(2), uuid_for(3)
WAIT = 5.0


def request(uri: str, uuid: str, name: str, kib: int) -> TargetRequest:
    return TargetRequest(uri, uuid, name, kib, ApplyMode.LIVE, source=WriteSource.KEY)


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_audited(path: Path, result: WriteResult) -> None:
    attempt, done = audit_lines(path)[-2:]
    assert (attempt["phase"], done["phase"]) == ("attempt", "result")
    assert attempt["id"] == done["id"]
    assert done["uuid"] == result.request.uuid
    assert done["target_kib"] == result.request.target_kib
    assert done["ok"] is False and done["result"] == result.message
    assert attempt["flags"] == done["flags"] == 1  # what would have been sent: live


# -- reconnecting ---------------------------------------------------------------------------
def test_backoff_doubles_up_to_ten_seconds() -> None:
    assert [backoff_seconds(n) for n in range(8)] == [0, 1, 2, 4, 8, 10, 10, 10]
    assert backoff_seconds(10_000) == 10


def test_a_host_that_appears_later_is_retried_with_backoff(
    make_fleet: Callable[..., Fleet],
    inbox: Inbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fleet_module, "FIRST_BACKOFF_SECONDS", 0.05)
    monkeypatch.setattr(fleet_module, "MAX_BACKOFF_SECONDS", 0.2)
    path = tmp_path / "later.xml"
    uri = f"test://{path}"
    make_fleet([uri], interval=0.1).start()
    inbox.wait(lambda i: len(i.of(uri, HostStatus.DISCONNECTED)) >= 6)
    gaps = [b - a for a, b in itertools.pairwise(inbox.times(uri, HostStatus.DISCONNECTED))]
    assert gaps[0] == pytest.approx(0.05, abs=0.04)
    assert gaps[1] == pytest.approx(0.1, abs=0.04)
    assert all(g == pytest.approx(0.2, abs=0.05) for g in gaps[2:5]), gaps
    assert "No such file" in (inbox.of(uri, HostStatus.DISCONNECTED)[-1].error or "")
    write_node_file(path, SPECS)  # the host is back
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)), timeout=1)
    assert [d.name for d in inbox.of(uri, HostStatus.OK)[0].domains] == ["alpha", "beta", "victim"]


def test_close_callback_reconnects_and_says_why(
    node: Callable[..., str], make_fleet: Callable[..., Fleet], inbox: Inbox
) -> None:
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=60)  # no polls but those woken
    fleet.start()
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))
    fleet.request_target(request(uri, BETA, "beta", 2 * GIB))
    inbox.wait(lambda i: len(i.writes) == 1 and len(i.of(uri, HostStatus.OK)) >= 2)
    worker = fleet.workers[uri]
    first = worker.session.connection()
    worker._connection_lost("keepalive timeout")  # what libvirt's close callback calls
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.DISCONNECTED)))
    inbox.wait(lambda i: i.of(uri)[-1].status is HostStatus.OK)
    lost = inbox.of(uri, HostStatus.DISCONNECTED)
    assert [s.error for s in lost] == ["connection lost: keepalive timeout"]
    assert [d.name for d in lost[0].domains] == ["alpha", "beta", "victim"]  # last known
    assert worker.session.connection() is not first
    # test:/// files are per open: the new connection sees the file again; the target the
    # operator asked for is remembered (TargetBook), and flagged as not reached.
    beta = next(d for d in inbox.of(uri)[-1].domains if d.uuid == BETA)
    assert beta.target_kib == 2 * GIB and beta.actual_kib == 3 * GIB
    assert beta.target_outside  # moved by "someone else": the file's value came back


def test_a_close_callback_of_a_replaced_connection_is_ignored(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    session = sessions(node(SPECS))
    calls: list[str] = []
    session.on_close = calls.append
    callbacks: list[Callable[..., None]] = []
    original = libvirt.virConnect.registerCloseCallback

    def capture(conn: libvirt.virConnect, cb: Callable[..., None], opaque: object) -> int:
        callbacks.append(cb)
        try:
            return int(original(conn, cb, opaque))
        except libvirt.libvirtError:
            return 0

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(libvirt.virConnect, "registerCloseCallback", capture)
        session.close()
        session.open()
        session.close()
        session.open()
    old, current = callbacks
    old(None, 2, None)
    assert calls == []
    current(None, 1, None)
    assert calls == ["end of file"]


def test_poll_errors_back_off_instead_of_spinning(
    node: Callable[..., str],
    make_fleet: Callable[..., Fleet],
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A host that opens but fails every poll (say, denied by policy) is not hammered."""
    monkeypatch.setattr(fleet_module, "FIRST_BACKOFF_SECONDS", 0.05)
    opens = []
    real_open = HostSession.open

    def counting_open(self: HostSession) -> None:
        opens.append(time.monotonic())
        real_open(self)

    def failing_poll(self: HostSession) -> HostSnapshot:
        raise libvirt.libvirtError("access denied")

    monkeypatch.setattr(HostSession, "open", counting_open)
    monkeypatch.setattr(HostSession, "poll", failing_poll)
    uri = node(SPECS)
    make_fleet([uri], interval=0.01).start()
    time.sleep(0.5)
    # 0.05 + 0.1 + 0.2 = 0.35 s of waits: 4 opens in 0.5 s, not hundreds.
    assert 3 <= len(opens) <= 5, len(opens)
    assert all(s.error == "access denied" for s in inbox.of(uri, HostStatus.DISCONNECTED))


def test_a_lost_daemon_right_after_open_is_a_connect_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", write_node_file(tmp_path / "n.xml", SPECS))

    def gone(_conn: libvirt.virConnect) -> str:
        raise libvirt.libvirtError("End of file while reading data")

    monkeypatch.setattr(libvirt.virConnect, "getURI", gone)
    session = HostSession(None)
    with pytest.raises(ConnectError):
        session.open()
    assert not session.connected


# -- a domain vanishing -----------------------------------------------------------------------
def test_a_domain_vanishing_mid_poll_is_left_out(
    node: Callable[..., str], sessions: Callable[..., HostSession]
) -> None:
    session = sessions(node(SPECS))
    assert len(session.poll().domains) == 3
    original = libvirt.virDomain.info
    vanished: list[str] = []

    def info_after_undefine(dom: libvirt.virDomain) -> list[int]:
        if dom.UUIDString() == VICTIM and not vanished:
            dom.destroy()
            dom.undefine()  # listed by getAllDomainStats a moment ago; gone now
            vanished.append(VICTIM)
        return list(original(dom))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(libvirt.virDomain, "info", info_after_undefine)
        snap = session.poll()
    assert vanished == [VICTIM]
    assert snap.status is HostStatus.OK
    assert [d.name for d in snap.domains] == ["alpha", "beta"]
    assert [d.name for d in session.poll().domains] == ["alpha", "beta"]


def test_a_queued_write_to_a_vanished_domain(
    node: Callable[..., str],
    make_fleet: Callable[..., Fleet],
    inbox: Inbox,
    tmp_path: Path,
) -> None:
    uri = node(SPECS)
    path = tmp_path / "audit.jsonl"
    fleet = make_fleet([uri], interval=0.1, audit=AuditLog(path))
    fleet.start()
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))
    worker = fleet.workers[uri]
    entered, release = threading.Event(), threading.Event()
    real = worker.session.set_target

    def held(req: TargetRequest) -> WriteResult:
        entered.set()
        release.wait(WAIT)
        return real(req)

    worker.session.set_target = held  # type: ignore[method-assign]
    fleet.request_target(request(uri, VICTIM, "victim", GIB))
    assert entered.wait(WAIT)
    victim = worker.session.connection().lookupByUUIDString(VICTIM)
    victim.destroy()
    victim.undefine()
    gone_at = time.monotonic()
    release.set()
    inbox.wait(lambda i: len(i.writes) == 1)
    result = inbox.writes[0]
    assert not result.ok
    assert result.message == f"victim no longer exists on {uri}"
    # The first snapshot after the undefine may come from a poll that began before it (seen
    # in a loaded CI run); polls are chained, so the second one began after.
    inbox.wait(lambda i: sum(t > gone_at for t in i.times(uri, HostStatus.OK)) >= 2)
    assert [d.name for d in inbox.of(uri, HostStatus.OK)[-1].domains] == ["alpha", "beta"]
    assert not inbox.of(uri, HostStatus.DISCONNECTED)
    records = audit_lines(path)
    assert [r["phase"] for r in records] == ["attempt", "result"]
    assert records[1]["result"] == result.message


# -- writes while disconnected ----------------------------------------------------------------
def test_a_write_while_disconnected_is_refused_and_audited(
    node: Callable[..., str], tmp_path: Path, memory_calls
) -> None:
    path = tmp_path / "audit.jsonl"
    uri = node(SPECS)
    session = HostSession(uri, audit=AuditLog(path))  # never opened, or lost
    result = session.set_target(request(uri, ALPHA, "alpha", 2 * GIB))
    assert not result.ok and result.message == f"{uri} is disconnected"
    assert result.flags == libvirt.VIR_DOMAIN_AFFECT_LIVE
    assert_audited(path, result)
    assert memory_calls.sizes() == []


def test_a_refused_write_that_cannot_be_audited_says_so(
    node: Callable[..., str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    uri = node(SPECS)
    session = HostSession(uri, audit=AuditLog(blocker / "audit.jsonl"))
    result = session.set_target(request(uri, ALPHA, "alpha", 2 * GIB))
    assert not result.ok
    assert result.message.startswith(f"{uri} is disconnected; and cannot write the audit log")


def test_fleet_writes_to_an_unreachable_or_unknown_host_are_audited(
    node: Callable[..., str], make_fleet: Callable[..., Fleet], inbox: Inbox, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    good = node(SPECS)
    bad = f"test://{tmp_path}/missing.xml"
    fleet = make_fleet([good, bad], interval=0.1, audit=AuditLog(path))
    fleet.start()
    inbox.wait(lambda i: bool(i.of(bad, HostStatus.DISCONNECTED)))
    fleet.request_target(request(bad, ALPHA, "alpha", GIB))
    inbox.wait(lambda i: len(i.writes) == 1)
    assert inbox.writes[0].message == f"{bad} is disconnected"
    assert_audited(path, inbox.writes[0])
    fleet.request_target(request("test:///elsewhere.xml", ALPHA, "alpha", GIB))
    inbox.wait(lambda i: len(i.writes) == 2)
    assert inbox.writes[1].message == "unknown host test:///elsewhere.xml"
    assert_audited(path, inbox.writes[1])


# -- never blocking ---------------------------------------------------------------------------
def test_stop_returns_while_a_poller_is_stuck_in_a_call(
    node: Callable[..., str],
    make_fleet: Callable[..., Fleet],
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, stuck = node(SPECS), node(SPECS)
    unblock = threading.Event()
    real_poll = HostSession.poll

    def poll(self: HostSession) -> HostSnapshot:
        if self.uri == stuck:
            unblock.wait(30)  # a frozen host: the call does not come back
        return real_poll(self)

    monkeypatch.setattr(HostSession, "poll", poll)
    fleet = make_fleet([good, stuck], interval=0.05)
    fleet.start()
    inbox.wait(lambda i: len(i.of(good, HostStatus.OK)) >= 3)
    started = time.monotonic()
    fleet.request_target(request(stuck, ALPHA, "alpha", GIB))  # queued, never blocks
    assert time.monotonic() - started < 0.05
    started = time.monotonic()
    fleet.stop(timeout=0.5)
    assert time.monotonic() - started < 0.7
    assert all(t.daemon for w in fleet.workers.values() for t in w._threads)
    assert not fleet.workers[good].session.connected
    assert not any(t.is_alive() for t in fleet.workers[good]._threads)
    unblock.set()  # the stuck poller ends and closes its own connection
    for t in fleet.workers[stuck]._threads:
        t.join(WAIT)
    assert not fleet.workers[stuck].session.connected


def test_poller_and_writer_never_call_libvirt_at_once(
    node: Callable[..., str],
    make_fleet: Callable[..., Fleet],
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libvirt 9.0 hangs one call and later crashes when keepalive ends a connection
    with two calls in flight: the session makes one call at a time."""
    lock = threading.Lock()
    in_flight = [0]
    most = [0]

    def tracked(original: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            try:
                time.sleep(0.01)
                return original(*args)
            finally:
                with lock:
                    in_flight[0] -= 1

        return call

    monkeypatch.setattr(
        libvirt.virConnect, "getAllDomainStats", tracked(libvirt.virConnect.getAllDomainStats)
    )
    monkeypatch.setattr(
        libvirt.virConnect, "lookupByUUIDString", tracked(libvirt.virConnect.lookupByUUIDString)
    )
    monkeypatch.setattr(
        libvirt.virDomain, "setMemoryFlags", tracked(libvirt.virDomain.setMemoryFlags)
    )
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=0.0)
    fleet.start()
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))
    for i in range(20):
        fleet.request_target(request(uri, ALPHA if i % 2 else BETA, "x", GIB + i * MIB))
        time.sleep(0.01)
    inbox.wait(lambda i: i.writes and i.writes[-1].request.target_kib == GIB + 19 * MIB)
    assert all(w.ok for w in inbox.writes)
    assert most[0] == 1
