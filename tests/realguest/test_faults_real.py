"""The libvirt layer under faults, against the real libvirtd and QEMU/TCG guests.

The Fleet (balloon_tui.virt.fleet) as the app runs it: a domain vanishing under a queued
write or mid-poll; a host that stops answering among 20 healthy ones (a freezable proxy in
front of libvirtd's socket); libvirtd frozen (SIGSTOP: keepalive), killed (SIGKILL) and
stopped (SIGTERM) and started again. Measured numbers go to build/realguest/timings.txt.

Order matters: this file runs after test_balloon_real.py and its daemon-stopping tests come
last. Each of those restores libvirtd in `finally` (faults.ensure_libvirtd); the guests
survive a daemon restart (QEMU keeps running, libvirtd reconnects to it).
"""

from __future__ import annotations

import itertools
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import faults
import guests as g
import libvirt
import pytest
from faults import UP, URI, Inbox
from nodefiles import GIB, MIB, DomainSpec, uuid_for, write_node_file

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import Convergence, DomainSnapshot, HostSnapshot, HostStatus
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource
from balloon_tui.virt import connection
from balloon_tui.virt.fleet import MAX_BACKOFF_SECONDS, Fleet

pytestmark = pytest.mark.realguest

INTERVAL = 0.5
IDLE_INTERVAL = 60.0  # polls only when woken: anything it reports came by the close callback


# -- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture
def daemon(libvirt_conn: libvirt.virConnect) -> Iterator[None]:
    """libvirtd answers before the test and runs again after it, whatever the test did."""
    faults.ensure_libvirtd()
    try:
        yield
    finally:
        faults.ensure_libvirtd()


@pytest.fixture
def own_conn(daemon: None) -> Iterator[libvirt.virConnect]:
    """The test's own "other client" (the session one dies with a killed daemon)."""
    conn = libvirt.open(URI)
    yield conn
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


FleetFactory = Callable[..., tuple[Fleet, Inbox]]


@pytest.fixture
def make_fleet() -> Iterator[FleetFactory]:
    fleets: list[Fleet] = []

    def make(uris: list[str | None], **kwargs: object) -> tuple[Fleet, Inbox]:
        inbox = Inbox()
        fleet = Fleet(uris, on_snapshot=inbox.on_snapshot, on_write=inbox.on_write, **kwargs)
        fleets.append(fleet)
        fleet.start()
        return fleet, inbox

    yield make
    for fleet in fleets:
        fleet.stop()


def request(uuid: str, name: str, mib: int, uri: str = URI) -> TargetRequest:
    return TargetRequest(uri, uuid, name, mib * MIB, ApplyMode.LIVE, source=WriteSource.TYPED)


def domain(snapshot: HostSnapshot, uuid: str) -> DomainSnapshot | None:
    return next((d for d in snapshot.domains if d.uuid == uuid), None)


def has(
    uuid: str, check: Callable[[DomainSnapshot], bool] = lambda _d: True
) -> Callable[[HostSnapshot], bool]:
    def test(snapshot: HostSnapshot) -> bool:
        d = domain(snapshot, uuid)
        return d is not None and check(d)

    return test


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def audited(path: Path, result: WriteResult) -> None:
    """The write has an attempt line and a result line with the message the operator saw."""
    mine = [
        r
        for r in audit_lines(path)
        if r["uuid"] == result.request.uuid and r["target_kib"] == result.request.target_kib
    ]
    phases = [r["phase"] for r in mine]
    assert phases[-2:] == ["attempt", "result"], mine
    assert mine[-1]["id"] == mine[-2]["id"]
    assert mine[-1]["ok"] is result.ok
    assert mine[-1]["result"] == ("ok" if result.ok else result.message)


def start_victim(conn: libvirt.virConnect) -> g.Guest:
    """A transient guest to destroy: it need not finish booting, QEMU running is enough."""
    return g.start_guest(conn, g.GuestSpec(memory_mib=128, label="victim"))


# -- 4: a domain vanishes under a queued write, or mid-poll --------------------------------------
def test_domain_vanishing_under_a_queued_write_and_mid_poll(
    own_conn: libvirt.virConnect, make_fleet: FleetFactory, tmp_path: Path
) -> None:
    audit_path = tmp_path / "audit.jsonl"
    victim = start_victim(own_conn)
    fleet, inbox = make_fleet([URI], interval=INTERVAL, audit=AuditLog(audit_path))
    worker = fleet.workers[URI]
    seen = inbox.wait_for("victim listed", URI, HostStatus.OK, check=has(victim.uuid))
    assert domain(seen.snapshot, victim.uuid).device.present  # type: ignore[union-attr]

    # Queued: the writer holds the request while the domain goes away.
    entered, release = threading.Event(), threading.Event()
    real_set_target = worker.session.set_target

    def held(req: TargetRequest) -> WriteResult:
        entered.set()
        release.wait(10)
        return real_set_target(req)

    worker.session.set_target = held  # type: ignore[method-assign]
    started = time.monotonic()
    fleet.request_target(request(victim.uuid, victim.name, 96))
    assert time.monotonic() - started < 0.05, "request_target must return at once"
    assert entered.wait(5)
    own_conn.lookupByUUIDString(victim.uuid).destroy()
    gone_at = time.monotonic()
    release.set()
    result = inbox.wait_write("write to the vanished guest", 1)
    print(f"queued write to a vanished domain: {result.message!r}")
    assert not result.ok
    assert result.message == f"{victim.name} no longer exists on {URI}"
    audited(audit_path, result)
    after = inbox.wait_for("a poll after the destroy", URI, HostStatus.OK, since=gone_at)
    assert domain(after.snapshot, victim.uuid) is None
    assert not inbox.of(URI, HostStatus.DISCONNECTED)

    # Mid-poll: a new guest is destroyed after getAllDomainStats listed it, before its XML
    # is read (the first sight of a domain reads XML and metadata).
    worker.session.set_target = real_set_target  # type: ignore[method-assign]
    real_device = worker.session.device
    destroyed: list[str] = []
    second: list[g.Guest] = []

    def vanishing_device(dom: libvirt.virDomain, uuid: str, state: object) -> object:
        if second and uuid == second[0].uuid and not destroyed:
            own_conn.lookupByUUIDString(uuid).destroy()
            destroyed.append(uuid)
        return real_device(dom, uuid, state)  # type: ignore[arg-type]

    worker.session.device = vanishing_device  # type: ignore[method-assign,assignment]
    second.append(start_victim(own_conn))
    fleet.refresh()
    g.wait_for("poller met victim 2", lambda: bool(destroyed), timeout=10, interval=0.05)
    gone_at = time.monotonic()
    after = inbox.wait_for("a poll after the mid-poll destroy", URI, HostStatus.OK, since=gone_at)
    assert domain(after.snapshot, second[0].uuid) is None
    assert not inbox.of(URI, HostStatus.DISCONNECTED), "a vanished domain is no lost host"
    assert all(t.is_alive() for t in worker._threads), "a poller or writer thread died"
    # ... and the host keeps refreshing.
    inbox.wait_for("polls go on", URI, HostStatus.OK, since=time.monotonic())


# -- 3: one host stops answering among 20 healthy ones and one that never opens ------------------
def test_a_frozen_host_does_not_hold_up_the_others(
    daemon: None,
    make_fleet: FleetFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    balloon_guest: g.Guest,
) -> None:
    # Short keepalive waits for CI (the app's 2 s x 3 is measured in the SIGSTOP test).
    monkeypatch.setattr(connection, "KEEPALIVE_INTERVAL", 1)
    monkeypatch.setattr(connection, "KEEPALIVE_COUNT", 2)
    proxy = faults.FreezableProxy(tmp_path / "p.sock")
    healthy = [
        write_node_file(
            tmp_path / f"host{i:02d}.xml",
            [DomainSpec(f"h{i}-a", max_kib=4 * GIB), DomainSpec(f"h{i}-b", max_kib=2 * GIB)],
        )
        for i in range(20)
    ]
    unopenable = f"qemu+unix:///system?socket={tmp_path}/nobody.sock"
    try:
        fleet, inbox = make_fleet([proxy.uri, *healthy, unopenable], interval=INTERVAL)
        for uri in [proxy.uri, *healthy]:
            inbox.wait_for(f"{uri} up", uri, HostStatus.OK)
        up = inbox.wait_for(
            "balloon guest via the proxy", proxy.uri, HostStatus.OK, check=has(balloon_guest.uuid)
        )
        bad = inbox.wait_for("unopenable host reported", unopenable, HostStatus.DISCONNECTED)
        assert bad.snapshot.error and "nobody.sock" in bad.snapshot.error, bad.snapshot.error
        print(f"unopenable host: {bad.snapshot.status.word}: {bad.snapshot.error}")

        frozen_at = time.monotonic()
        proxy.freeze()
        # A write to the frozen host: queued at once, answered (not sent) once keepalive ends
        # the connection.
        t = time.monotonic()
        fleet.request_target(request(balloon_guest.uuid, balloon_guest.name, 448, proxy.uri))
        assert time.monotonic() - t < 0.05, "request_target blocked on a frozen host"
        # A write to a healthy host goes through meanwhile.
        fleet.request_target(request(uuid_for(2), "h3-b", 1536, healthy[3]))

        lost = inbox.wait_for(
            "frozen host disconnected",
            proxy.uri,
            HostStatus.DISCONNECTED,
            since=frozen_at,
            timeout=15,
        )
        detection = lost.at - frozen_at
        print(
            f"frozen proxy: {lost.snapshot.status.word} after {detection:.2f} s: "
            f"{lost.snapshot.error}"
        )
        assert "keepalive" in (lost.snapshot.error or ""), lost.snapshot.error
        assert detection < 6, detection
        assert domain(lost.snapshot, balloon_guest.uuid) is not None, "last known domains kept"
        time.sleep(1.0)  # the healthy hosts go on while the frozen one reconnects in vain
        window_end = time.monotonic()

        writes = {w.request.host_uri: (at, w) for at, w in inbox.writes}
        at, healthy_write = writes[healthy[3]]
        assert healthy_write.ok, healthy_write.message
        assert at - frozen_at < 2 * INTERVAL + 0.5, at - frozen_at
        inbox.wait_write("the frozen host's write answered", 2, timeout=10)
        _, frozen_write = {w.request.host_uri: (a, w) for a, w in inbox.writes}[proxy.uri]
        print(f"write to the frozen host: {frozen_write.message!r}")
        assert not frozen_write.ok

        gaps = []
        for uri in healthy:
            times = [a.at for a in inbox.of(uri, HostStatus.OK)]
            before = [x for x in times if x < frozen_at][-1:]
            during = [x for x in times if frozen_at <= x <= window_end]
            series = before + during
            gaps.extend(b - a for a, b in itertools.pairwise(series))
            assert window_end - series[-1] < 2 * INTERVAL, f"{uri} stopped refreshing"
        max_gap = max(gaps)
        print(
            f"healthy hosts while one is frozen: {len(gaps)} intervals, "
            f"max gap {max_gap:.3f} s (refresh {INTERVAL} s)"
        )
        assert max_gap < INTERVAL + 0.5, max_gap
        assert not any(inbox.of(uri, HostStatus.DISCONNECTED) for uri in healthy)
        assert all(t.daemon for w in fleet.workers.values() for t in w._threads), (
            "poller and writer threads must be daemons"
        )

        # Answering again: the host comes back by itself (the retry was waiting in the
        # proxy's accept queue). Before HostSession made one call at a time, the poll and the
        # write in flight at the freeze left the poll hanging (never DISCONNECTED), and
        # libvirt 9.0 crashed the process (SIGSEGV) here, as the host answered again.
        thawed_at = time.monotonic()
        proxy.thaw()
        back = inbox.wait_for(
            "frozen host back", proxy.uri, UP, since=thawed_at, check=has(balloon_guest.uuid)
        )
        print(f"thawed proxy: OK again after {back.at - thawed_at:.2f} s")
        assert {d.key for d in back.snapshot.domains} == {d.key for d in up.snapshot.domains}

        proxy.freeze()  # and stop the fleet while the host is frozen
        time.sleep(INTERVAL)
        t = time.monotonic()
        fleet.stop()
        stop_seconds = time.monotonic() - t
        print(f"Fleet.stop with a frozen host: {stop_seconds:.2f} s")
        assert stop_seconds < 2.5, stop_seconds
        g.record_timing("frozen_proxy_keepalive_1x2_detected", detection)
        g.record_timing("healthy_max_refresh_gap_while_frozen", max_gap, hosts=20, refresh=INTERVAL)
        g.record_timing("fleet_stop_with_frozen_host", stop_seconds)
    finally:
        proxy.close()


# -- 2: libvirtd frozen (SIGSTOP): keepalive, the close callback, reconnect ------------------------
def test_frozen_libvirtd_is_detected_by_keepalive(
    daemon: None, make_fleet: FleetFactory, balloon_guest: g.Guest, tmp_path: Path
) -> None:
    audit_path = tmp_path / "audit.jsonl"
    assert (connection.KEEPALIVE_INTERVAL, connection.KEEPALIVE_COUNT) == (2, 3)
    busy, busy_in = make_fleet([URI], interval=INTERVAL, audit=AuditLog(audit_path))
    _idle, idle_in = make_fleet([URI], interval=IDLE_INTERVAL)
    before = busy_in.wait_for("busy up", URI, HostStatus.OK, check=has(balloon_guest.uuid))
    idle_in.wait_for("idle up", URI, HostStatus.OK)
    keys = {d.key for d in before.snapshot.domains}

    with faults.frozen_libvirtd():
        frozen_at = time.monotonic()
        lost = busy_in.wait_for(
            "blocked poll fails", URI, HostStatus.DISCONNECTED, since=frozen_at, timeout=20
        )
        idle_lost = idle_in.wait_for(
            "idle fleet told by the close callback",
            URI,
            HostStatus.DISCONNECTED,
            since=frozen_at,
            timeout=20,
        )
        detection = lost.at - frozen_at
        print(
            f"SIGSTOP: busy fleet {lost.snapshot.status.word} after {detection:.2f} s: "
            f"{lost.snapshot.error!r}; idle fleet after {idle_lost.at - frozen_at:.2f} s: "
            f"{idle_lost.snapshot.error!r}"
        )
        assert "keepalive" in (lost.snapshot.error or "")
        assert idle_lost.snapshot.error == "connection lost: keepalive timeout"
        # (2 s x 3): no answer for 2 s, then 3 pings 2 s apart: ~8 s
        assert 5 < detection < 12, detection
        assert domain(lost.snapshot, balloon_guest.uuid) is not None, "last known domains kept"

        # Writes while disconnected: refused at once, and audited.
        t = time.monotonic()
        busy.request_target(request(balloon_guest.uuid, balloon_guest.name, 448))
        result = busy_in.wait_write("write while frozen", 1, timeout=5)
        assert time.monotonic() - t < 2
        assert not result.ok and result.message == f"{URI} is disconnected", result.message
        audited(audit_path, result)
        time.sleep(0.5)
        assert not busy_in.of(URI, HostStatus.OK, since=lost.at), "OK while still frozen?"
    thawed_at = time.monotonic()

    back = busy_in.wait_for("busy fleet reconnects", URI, UP, since=thawed_at)
    idle_back = idle_in.wait_for("idle fleet reconnects", URI, UP, since=thawed_at)
    print(
        f"after SIGCONT: busy OK after {back.at - thawed_at:.2f} s, "
        f"idle after {idle_back.at - thawed_at:.2f} s"
    )
    assert back.at - thawed_at < 5
    assert {d.key for d in back.snapshot.domains} == keys
    busy_in.wait_for("polls go on", URI, UP, since=back.at + 0.01)
    g.record_timing(
        "sigstop_keepalive_2x3_detected",
        detection,
        idle_close_callback_s=round(idle_lost.at - frozen_at, 2),
    )
    g.record_timing("sigcont_to_ok", back.at - thawed_at)


# -- 1: libvirtd killed / stopped and started again ------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_libvirtd_restart_keeps_targets_and_domains(
    sig: signal.Signals,
    daemon: None,
    make_fleet: FleetFactory,
    balloon_guest: g.Guest,
    driverless_guest: g.Guest,
    tmp_path: Path,
) -> None:
    audit_path = tmp_path / "audit.jsonl"
    fleet, inbox = make_fleet(
        [URI], interval=INTERVAL, audit=AuditLog(audit_path), stall_seconds=120
    )
    _idle, idle_in = make_fleet([URI], interval=IDLE_INTERVAL)
    up = inbox.wait_for("up", URI, HostStatus.OK, check=has(balloon_guest.uuid))
    idle_in.wait_for("idle up", URI, HostStatus.OK)
    actual_mib = domain(up.snapshot, balloon_guest.uuid).actual_kib // MIB  # type: ignore[union-attr]
    moved_mib = 320 if actual_mib != 320 else 384
    stuck_mib = 192  # the driverless guest never gets there: stays pending across the restart

    # A target that stays pending (no driver), and one that is on its way as the daemon dies.
    fleet.request_target(request(driverless_guest.uuid, driverless_guest.name, stuck_mib))
    assert inbox.wait_write("driverless target", 1).ok
    fleet.request_target(request(balloon_guest.uuid, balloon_guest.name, moved_mib))
    assert inbox.wait_write("balloon target", 2).ok
    last_ok = inbox.of(URI, HostStatus.OK)[-1]
    keys = {d.key for d in last_ok.snapshot.domains}

    killed_at = time.monotonic()
    dead_after = faults.kill_libvirtd(sig)
    lost = inbox.wait_for("disconnected", URI, HostStatus.DISCONNECTED, since=killed_at)
    idle_lost = idle_in.wait_for(
        "idle fleet disconnected", URI, HostStatus.DISCONNECTED, since=killed_at
    )
    print(
        f"{sig.name}: {lost.snapshot.status.word} after {lost.at - killed_at:.2f} s: "
        f"{lost.snapshot.error!r}; idle fleet: {idle_lost.snapshot.error!r}"
    )
    assert lost.snapshot.error
    assert lost.snapshot.status.word == "disconnected — retrying"  # what the UI shows
    assert idle_lost.snapshot.error == "connection lost: end of file"
    refused_before = len(inbox.writes)
    fleet.request_target(request(balloon_guest.uuid, balloon_guest.name, 448))
    refused = inbox.wait_write("write while the daemon is down", refused_before + 1, timeout=5)
    assert not refused.ok and refused.message == f"{URI} is disconnected", refused.message
    audited(audit_path, refused)
    time.sleep(1.0)  # down for a while: the fleet retries with backoff meanwhile

    restart_at = time.monotonic()
    faults.start_libvirtd(wait=False)  # the fleet is the probe: no client of ours goes first
    back = inbox.wait_for(
        "reconnected", URI, UP, since=restart_at, timeout=MAX_BACKOFF_SECONDS + 20
    )
    idle_back = idle_in.wait_for(
        "idle fleet reconnected", URI, UP, since=restart_at, timeout=MAX_BACKOFF_SECONDS + 20
    )
    reconnect = back.at - restart_at
    tries = [a.at for a in inbox.of(URI, HostStatus.DISCONNECTED, since=killed_at)]
    retry_gaps = [b - a for a, b in itertools.pairwise(tries)]
    fetch = back.snapshot.fetch_seconds or 0.0
    print(
        f"{sig.name}: libvirtd gone after {dead_after:.2f} s; fleet {back.snapshot.status.value} "
        f"{reconnect:.2f} s after `libvirtd -d` (that first poll took {fetch:.2f} s); idle "
        f"fleet {idle_back.at - restart_at:.2f} s; outage seen {back.at - lost.at:.2f} s; "
        f"disconnected reports at gaps {[round(x, 2) for x in retry_gaps]}"
    )
    assert all(gap <= MAX_BACKOFF_SECONDS + 1 for gap in retry_gaps), retry_gaps
    # The next try comes at most one backoff step after the daemon is back.
    assert reconnect - fetch < MAX_BACKOFF_SECONDS + 1, (reconnect, fetch)

    # Same domains under the same keys; the targets are remembered.
    snap = back.snapshot
    assert {d.key for d in snap.domains} == keys
    stuck = domain(snap, driverless_guest.uuid)
    assert stuck is not None and stuck.target_kib == stuck_mib * MIB
    assert stuck.pending and stuck.progress.state is Convergence.PENDING, stuck
    assert not stuck.target_outside
    moved = domain(snap, balloon_guest.uuid)
    assert moved is not None and moved.target_kib == moved_mib * MIB
    assert not moved.target_outside, moved
    converged = inbox.wait_for(
        "the moved balloon converges after the restart",
        URI,
        UP,
        since=back.at,
        timeout=30,
        check=has(balloon_guest.uuid, lambda d: d.progress.state is Convergence.CONVERGED),
    )
    final = domain(converged.snapshot, balloon_guest.uuid)
    assert final is not None and abs(final.actual_kib - moved_mib * MIB) <= MIB
    assert not final.target_outside
    stuck = domain(converged.snapshot, driverless_guest.uuid)
    assert stuck is not None and stuck.pending and stuck.target_kib == stuck_mib * MIB
    g.record_timing(
        f"{sig.name.lower()}_restart_to_fleet_up",
        reconnect,
        first_fetch_s=round(fetch, 2),
        outage_seen_s=round(back.at - lost.at, 2),
    )
