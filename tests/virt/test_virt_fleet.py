"""virt/fleet.py: per-host poller and writer threads, coalesced writes, dead hosts apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from fleet_inbox import Inbox
from nodefiles import GIB, MIB, DomainSpec, uuid_for

from balloon_tui.core.model import Convergence, HostStatus
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteSource
from balloon_tui.virt.connection import ConnectError

SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=4 * GIB, stats_period=1),
    DomainSpec("beta", max_kib=4 * GIB, current_kib=3 * GIB),
]
ALPHA, BETA = uuid_for(1), uuid_for(2)
WAIT = 5.0


def _request(uri: str, uuid: str, name: str, kib: int) -> TargetRequest:
    return TargetRequest(uri, uuid, name, kib, ApplyMode.LIVE, source=WriteSource.KEY)


def test_snapshots_arrive(node: Callable[..., str], make_fleet, inbox: Inbox) -> None:
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=0.1)
    assert fleet.uris == [uri]
    fleet.start()
    inbox.wait(lambda i: len(i.of(uri, HostStatus.OK)) >= 3)
    first = inbox.of(uri)[0]
    assert first.status is HostStatus.CONNECTING
    ok = inbox.of(uri, HostStatus.OK)[-1]
    assert [d.name for d in ok.domains] == ["alpha", "beta"]
    assert ok.domains[1].actual_kib == 3 * GIB
    assert ok.memory_total_kib is not None


def test_refresh_and_writes_wake_the_poller(
    node: Callable[..., str], make_fleet, inbox: Inbox
) -> None:
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=60)  # only wake-ups make snapshots after the first
    fleet.start()
    inbox.wait(lambda i: len(i.of(uri, HostStatus.OK)) >= 1)
    seen = len(inbox.of(uri, HostStatus.OK))
    fleet.refresh()
    inbox.wait(lambda i: len(i.of(uri, HostStatus.OK)) > seen, timeout=2)
    fleet.request_target(_request(uri, BETA, "beta", 2 * GIB))
    inbox.wait(
        lambda i: any(
            d.name == "beta" and d.target_kib == 2 * GIB
            for s in i.of(uri, HostStatus.OK)
            for d in s.domains
        ),
        timeout=2,
    )
    beta = inbox.of(uri, HostStatus.OK)[-1].domains[1]
    assert beta.actual_kib == 2 * GIB
    assert beta.progress.state is Convergence.CONVERGED
    inbox.wait(lambda i: len(i.writes) == 1)  # delivered after the write, maybe after the poll
    assert [w.ok for w in inbox.writes] == [True]


class SlowMemory:
    """setMemoryFlags that takes 0.3 s and records overlap per domain."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, delay: float = 0.3) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.calls: list[tuple[str, int, int]] = []
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.started = threading.Event()
        original = libvirt.virDomain.setMemoryFlags

        def slow(dom: libvirt.virDomain, memory: int, flags: int = 0) -> int:
            name = dom.name()
            with self.lock:
                self.calls.append((name, memory, flags))
                self.in_flight[name] = self.in_flight.get(name, 0) + 1
                self.max_in_flight[name] = max(
                    self.max_in_flight.get(name, 0), self.in_flight[name]
                )
            self.started.set()
            try:
                time.sleep(self.delay)
                return original(dom, memory, flags)
            finally:
                with self.lock:
                    self.in_flight[name] -= 1

        monkeypatch.setattr(libvirt.virDomain, "setMemoryFlags", slow)


def test_requests_for_one_domain_coalesce_last_wins(
    node: Callable[..., str], make_fleet, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowMemory(monkeypatch)
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=0.2)
    assert not fleet.connect_all()
    fleet.start()
    sizes = [4 * GIB - (i + 1) * 100 * MIB for i in range(10)]
    fleet.request_target(_request(uri, ALPHA, "alpha", sizes[0]))
    assert slow.started.wait(WAIT)  # the first one is on its way
    for kib in sizes[1:]:
        fleet.request_target(_request(uri, ALPHA, "alpha", kib))
    inbox.wait(lambda i: len(i.writes) >= 2)
    time.sleep(slow.delay + 0.2)  # room for a wrongly queued third write to start
    assert [(kib, flags) for _, kib, flags in slow.calls] == [(sizes[0], 1), (sizes[-1], 1)]
    assert [w.request.target_kib for w in inbox.writes] == [sizes[0], sizes[-1]]
    assert all(w.ok for w in inbox.writes)
    assert slow.max_in_flight == {"alpha": 1}
    dom = fleet.workers[uri].session.connection().lookupByUUIDString(ALPHA)
    assert dom.info()[2] == sizes[-1]
    inbox.wait(
        lambda i: any(
            d.uuid == ALPHA and d.target_kib == sizes[-1] and d.actual_kib == sizes[-1]
            for d in i.of(uri, HostStatus.OK)[-1].domains
        )
    )


def test_coalescing_is_per_domain(
    node: Callable[..., str], make_fleet, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowMemory(monkeypatch, delay=0.2)
    uri = node(SPECS)
    fleet = make_fleet([uri], interval=0.2)
    fleet.start()
    # Connected first: a request before the first open is refused as "disconnected".
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))
    fleet.request_target(_request(uri, ALPHA, "alpha", 3 * GIB))
    assert slow.started.wait(WAIT)
    for step in range(1, 6):
        fleet.request_target(_request(uri, ALPHA, "alpha", 3 * GIB - step * MIB * 10))
        fleet.request_target(_request(uri, BETA, "beta", 2 * GIB + step * MIB * 10))
    inbox.wait(lambda i: len(i.writes) >= 3)
    time.sleep(slow.delay + 0.2)
    assert [(n, kib) for n, kib, _ in slow.calls] == [
        ("alpha", 3 * GIB),
        ("alpha", 3 * GIB - 50 * MIB),
        ("beta", 2 * GIB + 50 * MIB),
    ]
    assert max(slow.max_in_flight.values()) == 1


def test_a_dead_host_does_not_stop_a_good_one(
    node: Callable[..., str], make_fleet, inbox: Inbox, tmp_path: Path
) -> None:
    good = node(SPECS)
    bad = f"test://{tmp_path}/missing.xml"
    fleet = make_fleet([good, bad], interval=0.1)
    errors = fleet.connect_all()
    assert list(errors) == [bad]
    assert isinstance(errors[bad], ConnectError)
    assert "No such file" in errors[bad].reason
    assert fleet.workers[good].session.connected
    fleet.start()
    inbox.wait(lambda i: bool(i.of(bad, HostStatus.DISCONNECTED)))
    reported = inbox.of(bad, HostStatus.DISCONNECTED)[0]
    assert reported.error and "No such file" in reported.error
    assert reported.domains == ()
    seen = len(inbox.of(good, HostStatus.OK))
    inbox.wait(lambda i: len(i.of(good, HostStatus.OK)) >= seen + 3)
    assert not inbox.of(good, HostStatus.DISCONNECTED)
    # Writes to the good host still go through.
    fleet.request_target(_request(good, BETA, "beta", 2 * GIB))
    inbox.wait(lambda i: len(i.writes) == 1)
    assert inbox.writes[0].ok, inbox.writes[0].message


def test_unknown_scheme_is_reported_per_host(
    node: Callable[..., str], make_fleet, inbox: Inbox
) -> None:
    good = node(SPECS)
    fleet = make_fleet([good, "foo:///x"], interval=0.1)
    errors = fleet.connect_all()
    assert list(errors) == ["foo:///x"]
    assert "foo:///x" in str(errors["foo:///x"])
    fleet.start()
    inbox.wait(lambda i: bool(i.of("foo:///x", HostStatus.DISCONNECTED)))
    inbox.wait(lambda i: len(i.of(good, HostStatus.OK)) >= 2)


def test_write_to_an_unknown_host_is_refused(
    node: Callable[..., str], make_fleet, inbox: Inbox
) -> None:
    fleet = make_fleet([node(SPECS)], interval=0.1)
    fleet.start()
    fleet.request_target(_request("test:///elsewhere.xml", ALPHA, "alpha", GIB))
    inbox.wait(lambda i: len(i.writes) == 1)
    assert not inbox.writes[0].ok
    assert "unknown host" in inbox.writes[0].message


def test_read_only_fleet_refuses_writes(node: Callable[..., str], make_fleet, inbox: Inbox) -> None:
    uri = node(SPECS)
    fleet = make_fleet([uri], readonly=True, interval=0.1)
    fleet.start()
    inbox.wait(lambda i: bool(i.of(uri, HostStatus.OK)))
    assert inbox.of(uri, HostStatus.OK)[0].readonly
    fleet.request_target(_request(uri, ALPHA, "alpha", GIB))
    inbox.wait(lambda i: len(i.writes) == 1)
    assert not inbox.writes[0].ok and "read-only" in inbox.writes[0].message


def test_stop_returns_promptly(
    node: Callable[..., str], make_fleet, inbox: Inbox, tmp_path: Path
) -> None:
    good = node(SPECS)
    fleet = make_fleet([good, f"test://{tmp_path}/missing.xml"], interval=30)
    fleet.start()
    inbox.wait(lambda i: bool(i.of(good, HostStatus.OK)))
    inbox.wait(lambda i: bool(i.of(f"test://{tmp_path}/missing.xml", HostStatus.DISCONNECTED)))
    started = time.monotonic()
    fleet.stop()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, elapsed
    for worker in fleet.workers.values():
        assert not any(t.is_alive() for t in worker._threads)
        assert not worker.session.connected


def test_superseded_and_unsent_requests_are_audited_too(
    node: Callable[..., str],
    make_fleet,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import json

    from balloon_tui.core.audit import AuditLog

    slow = SlowMemory(monkeypatch)
    uri = node(SPECS)
    audit_path = tmp_path / "audit.jsonl"
    fleet = make_fleet([uri], interval=0.2, audit=AuditLog(audit_path))
    assert not fleet.connect_all()
    fleet.start()
    sizes = [4 * GIB - (i + 1) * 100 * MIB for i in range(4)]
    fleet.request_target(_request(uri, ALPHA, "alpha", sizes[0]))
    assert slow.started.wait(WAIT)
    for kib in sizes[1:]:
        fleet.request_target(_request(uri, ALPHA, "alpha", kib))
    inbox.wait(lambda i: len(i.writes) >= 2)
    time.sleep(0.2)
    results = [
        json.loads(line)
        for line in audit_path.read_text().splitlines()
        if json.loads(line)["phase"] == "result"
    ]
    by_target = {r["target_kib"]: r for r in results}
    assert set(by_target) == set(sizes)  # every attempt, sent or not, has its result line
    assert by_target[sizes[0]]["ok"] and by_target[sizes[-1]]["ok"]
    for kib in sizes[1:-1]:
        assert not by_target[kib]["ok"]
        assert "superseded" in by_target[kib]["result"]
