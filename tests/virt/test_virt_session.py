"""virt/session.py + target_writer.py + metadata.py against test-driver node files."""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from nodefiles import (
    GIB,
    MIB,
    PAUSED,
    SHUTOFF,
    DomainSpec,
    domain_xml,
    many_domains,
    uuid_for,
)

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import (
    BalloonDevice,
    Convergence,
    DomainSnapshot,
    DomainState,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.targets import check_remembered
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteSource
from balloon_tui.virt import domainxml, metadata
from balloon_tui.virt.connection import ConnectError
from balloon_tui.virt.session import HostSession

HOST_MEMORY = 32 * GIB
NOW = 1_800_000_000.0

SPECS = [
    DomainSpec(
        "run-down",
        max_kib=4 * GIB,
        current_kib=2 * GIB,
        autodeflate=True,
        free_page_reporting=True,
        stats_period=2,
    ),
    DomainSpec("run-max", max_kib=2 * GIB, stats_period=0),
    DomainSpec("paused", max_kib=2 * GIB, current_kib=GIB, runstate=PAUSED, stats_period=5),
    DomainSpec("off", max_kib=8 * GIB, current_kib=6 * GIB, runstate=SHUTOFF, stats_period=3),
    DomainSpec("no-balloon", max_kib=GIB, balloon="none"),
    DomainSpec("no-element", max_kib=GIB, balloon=None),
]
UUID = {spec.name: uuid_for(i + 1) for i, spec in enumerate(SPECS)}


def by_name(snapshot: HostSnapshot) -> dict[str, DomainSnapshot]:
    return {d.name: d for d in snapshot.domains}


def request(
    session: HostSession,
    name: str,
    kib: int,
    mode: ApplyMode = ApplyMode.LIVE,
    uuid: str | None = None,
) -> TargetRequest:
    return TargetRequest(session.uri, uuid or UUID[name], name, kib, mode, source=WriteSource.KEY)


@pytest.fixture
def host(node: Callable[..., str], sessions: Callable[..., HostSession]) -> HostSession:
    return sessions(node(SPECS, host_memory_kib=HOST_MEMORY), clock=lambda: NOW)


# -- reading ---------------------------------------------------------------------------------
def test_poll_builds_the_host_snapshot(host: HostSession) -> None:
    snap = host.poll()
    assert snap.uri == host.uri and snap.uri.startswith("test:///")
    assert snap.status is HostStatus.OK
    assert snap.memory_total_kib == HOST_MEMORY
    assert snap.hostname
    assert snap.readonly is False
    assert snap.taken_at == NOW
    assert snap.fetch_seconds is not None and snap.fetch_seconds >= 0
    assert [d.name for d in snap.domains] == sorted(s.name for s in SPECS)
    for d in snap.domains:
        assert d.host_uri == host.uri
        assert d.uuid == UUID[d.name]
        assert d.target_kib is None
        assert d.progress.state is Convergence.NONE
        assert not d.target_outside


@pytest.mark.parametrize(
    ("name", "state", "maximum", "actual", "device"),
    [
        (
            "run-down",
            DomainState.RUNNING,
            4 * GIB,
            2 * GIB,
            BalloonDevice("virtio", autodeflate=True, free_page_reporting=True, stats_period=2),
        ),
        ("run-max", DomainState.RUNNING, 2 * GIB, 2 * GIB, BalloonDevice("virtio")),
        ("paused", DomainState.PAUSED, 2 * GIB, GIB, BalloonDevice("virtio", stats_period=5)),
        ("off", DomainState.SHUTOFF, 8 * GIB, 6 * GIB, BalloonDevice("virtio", stats_period=3)),
        ("no-balloon", DomainState.RUNNING, GIB, GIB, BalloonDevice("none")),
        ("no-element", DomainState.RUNNING, GIB, GIB, BalloonDevice("none")),
    ],
)
def test_domain_snapshot_facts(
    host: HostSession,
    name: str,
    state: DomainState,
    maximum: int,
    actual: int,
    device: BalloonDevice,
) -> None:
    d = by_name(host.poll())[name]
    assert d.state is state
    assert d.maximum_kib == maximum
    assert d.actual_kib == actual
    assert d.device == device
    assert d.device.present == (device.model != "none")


def test_stats_only_with_a_period_on_a_live_balloon(host: HostSession) -> None:
    domains = by_name(host.poll())
    running = domains["run-down"]
    # The test driver's memoryStats are synthetic: unused = usable = actual / 2.
    assert running.stats.usable == GIB
    assert running.stats.unused == GIB
    assert running.used_kib == GIB
    # Its last-update is no wall-clock time: dropped rather than shown as decades old.
    assert running.stats.last_update is None
    assert not running.stats_stale(NOW)
    # A paused guest still has its (frozen) balloon stats, as with QEMU.
    assert domains["paused"].stats.usable == GIB // 2
    for name in ("run-max", "off", "no-balloon", "no-element"):
        assert domains[name].stats.empty, name
        assert domains[name].used_kib is None, name


def test_stats_appear_when_a_period_is_set_live(host: HostSession) -> None:
    assert by_name(host.poll())["run-max"].used_kib is None
    dom = host.connection().lookupByName("run-max")
    dom.setMemoryStatsPeriod(4, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    changed = threading.Event()
    host.on_event = changed.set
    dom.suspend()  # a lifecycle event marks the domain changed: the XML is read again
    dom.resume()
    assert changed.wait(5)
    domain = by_name(host.poll())["run-max"]
    assert domain.device.stats_period == 4
    assert domain.used_kib == GIB


def test_state_changes_show_on_the_next_poll(host: HostSession) -> None:
    conn = host.connection()
    conn.lookupByName("run-max").suspend()
    conn.lookupByName("paused").resume()
    conn.lookupByName("off").create()
    conn.lookupByName("run-down").destroy()
    domains = by_name(host.poll())
    assert domains["run-max"].state is DomainState.PAUSED
    assert domains["paused"].state is DomainState.RUNNING
    assert domains["off"].state is DomainState.RUNNING
    assert domains["off"].used_kib == 3 * GIB  # running with a period: stats now
    assert domains["run-down"].state is DomainState.SHUTOFF
    assert domains["run-down"].used_kib is None


def test_host_without_domains(node: Callable[..., str], sessions: Callable[..., HostSession]):
    snap = sessions(node([], host_memory_kib=8 * GIB)).poll()
    assert snap.domains == ()
    assert snap.memory_total_kib == 8 * GIB


# -- the XML is read when a domain appears or changes, not every tick -------------------------
@pytest.fixture
def xml_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    reads: Counter[str] = Counter()
    original = libvirt.virDomain.XMLDesc

    def counting(self: libvirt.virDomain, flags: int = 0) -> str:
        reads[self.name()] += 1
        return original(self, flags)

    monkeypatch.setattr(libvirt.virDomain, "XMLDesc", counting)
    return reads


def _settle(session: HostSession) -> threading.Event:
    event = threading.Event()
    session.on_event = event.set
    return event


def test_xml_read_once_per_domain_across_ticks(host: HostSession, xml_reads: Counter[str]) -> None:
    for _ in range(5):
        host.poll()
    assert xml_reads == Counter({spec.name: 1 for spec in SPECS})


def test_xml_read_again_only_for_a_changed_domain(
    host: HostSession, xml_reads: Counter[str]
) -> None:
    host.poll()
    event = _settle(host)
    host.connection().lookupByName("run-max").suspend()
    assert event.wait(5), "the test driver emits lifecycle events"
    host.poll()
    host.poll()
    host.poll()
    expected = Counter({spec.name: 1 for spec in SPECS})
    expected["run-max"] = 2
    assert xml_reads == expected


def test_xml_read_for_a_new_domain(host: HostSession, xml_reads: Counter[str]) -> None:
    host.poll()
    event = _settle(host)
    new = DomainSpec("newcomer", max_kib=GIB, current_kib=512 * MIB, stats_period=7)
    host.connection().createXML(domain_xml(new, uuid_for(99), runstate=False), 0)
    assert event.wait(5)
    snap = host.poll()
    host.poll()
    assert xml_reads["newcomer"] == 1
    assert sum(xml_reads.values()) == len(SPECS) + 1
    d = by_name(snap)["newcomer"]
    assert d.state is DomainState.RUNNING
    assert d.device == BalloonDevice("virtio", stats_period=7)
    assert d.actual_kib == 512 * MIB


def test_redefined_domain_gets_its_new_balloon_facts(host: HostSession) -> None:
    assert by_name(host.poll())["off"].device == BalloonDevice("virtio", stats_period=3)
    event = _settle(host)
    changed = DomainSpec("off", max_kib=8 * GIB, current_kib=6 * GIB, balloon="none")
    host.connection().defineXML(domain_xml(changed, UUID["off"], runstate=False))
    assert event.wait(5)
    assert by_name(host.poll())["off"].device == BalloonDevice("none")


def test_unchanged_domains_are_the_same_objects_and_changes_still_show(
    host: HostSession,
) -> None:
    """The poll reuses last tick's snapshot only while nothing it was built from moved."""
    first = by_name(host.poll())
    second = by_name(host.poll())
    assert all(second[name] is first[name] for name in first)
    dom = host.connection().lookupByName("run-down")
    dom.setMemoryFlags(GIB, libvirt.VIR_DOMAIN_AFFECT_LIVE)  # from outside balloon-tui
    third = by_name(host.poll())
    assert third["run-down"] is not first["run-down"]
    assert third["run-down"].actual_kib == GIB
    assert third["run-down"].target_outside  # a move nobody here asked for
    assert all(third[name] is first[name] for name in first if name != "run-down")
    # A target set while nothing moved is still picked up on the next tick.
    host.targets.record((host.uri, UUID["run-max"]), GIB, 2 * GIB, NOW)
    fourth = by_name(host.poll())
    assert fourth["run-max"].target_kib == GIB
    assert fourth["run-max"].progress.state is Convergence.PENDING


def test_vanished_domain_leaves_the_snapshot(host: HostSession) -> None:
    host.poll()
    dom = host.connection().lookupByUUIDString(UUID["run-max"])
    dom.destroy()
    dom.undefine()
    names = {d.name for d in host.poll().domains}
    assert "run-max" not in names
    assert len(names) == len(SPECS) - 1


def test_a_thousand_domains(node: Callable[..., str], sessions: Callable[..., HostSession]) -> None:
    specs = many_domains(1000)
    started = time.perf_counter()
    session = sessions(node(specs))
    opened = time.perf_counter()
    first = session.poll()
    polled = time.perf_counter()
    second = session.poll()
    again = time.perf_counter()
    print(
        f"\n1000 domains: open {opened - started:.3f} s, first poll {polled - opened:.3f} s "
        f"(XML read for each), next poll {again - polled:.3f} s "
        f"(fetch_seconds {second.fetch_seconds:.3f})"
    )
    for snap in (first, second):
        assert len(snap.domains) == 1000
        assert len({d.uuid for d in snap.domains}) == 1000
    domains = by_name(second)
    for i in (0, 1, 5, 7, 11, 33, 499, 999):
        spec = specs[i]
        d = domains[spec.name]
        assert d.maximum_kib == spec.max_kib
        assert d.actual_kib == spec.actual_kib
        expected_state = {1: DomainState.RUNNING, 3: DomainState.PAUSED, 5: DomainState.SHUTOFF}
        assert d.state is expected_state[spec.runstate]
        assert d.device.model == spec.balloon
        assert d.device.stats_period == spec.stats_period
    counts = Counter(d.state for d in second.domains)
    assert counts[DomainState.SHUTOFF] == sum(1 for s in specs if s.runstate == SHUTOFF)
    assert counts[DomainState.PAUSED] == sum(1 for s in specs if s.runstate == PAUSED)


# -- opening ---------------------------------------------------------------------------------
def test_open_missing_node_file(tmp_path: Path) -> None:
    session = HostSession(f"test://{tmp_path}/absent.xml")
    with pytest.raises(ConnectError) as info:
        session.open()
    assert "No such file" in info.value.reason
    assert not session.connected


def test_open_malformed_node_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<node><domain type='test'>")
    with pytest.raises(ConnectError) as info:
        HostSession(f"test://{path}").open()
    assert "not valid XML" in info.value.reason


def test_poll_without_a_connection_raises_libvirt_error() -> None:
    with pytest.raises(libvirt.libvirtError):
        HostSession("test:///nowhere.xml").poll()


def test_close_is_idempotent(node: Callable[..., str]) -> None:
    session = HostSession(node(SPECS[:1]))
    session.open()
    assert session.connected
    session.close()
    session.close()
    assert not session.connected


# -- writing ---------------------------------------------------------------------------------
def test_set_target_live(host: HostSession, memory_calls) -> None:
    result = host.set_target(request(host, "run-down", 3 * GIB))
    assert result.ok, result.message
    assert result.flags == libvirt.VIR_DOMAIN_AFFECT_LIVE == 1
    assert memory_calls.sizes() == [(3 * GIB, 1)]
    d = by_name(host.poll())["run-down"]
    assert d.actual_kib == 3 * GIB
    assert d.target_kib == 3 * GIB
    assert d.progress.state is Convergence.CONVERGED
    assert d.progress.start_kib == 2 * GIB
    assert not d.pending
    # Live only: the configuration keeps its boot size.
    inactive = host.connection().lookupByName("run-down").XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert ET.fromstring(inactive).findtext("currentMemory") == str(2 * GIB)


def test_set_target_live_and_persist_takes_two_calls_on_the_test_driver(
    host: HostSession, memory_calls
) -> None:
    result = host.set_target(request(host, "run-down", 3 * GIB, ApplyMode.LIVE_PERSIST))
    assert result.ok, result.message
    # LIVE|CONFIG refused as "mutually exclusive"; then LIVE, then CONFIG.
    assert memory_calls.accepted() == [(3 * GIB, 1), (3 * GIB, 2)]
    assert memory_calls.sizes() == [(3 * GIB, 3), (3 * GIB, 1), (3 * GIB, 2)]
    dom = host.connection().lookupByName("run-down")
    assert dom.info()[2] == 3 * GIB
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert ET.fromstring(inactive).findtext("currentMemory") == str(3 * GIB)
    assert by_name(host.poll())["run-down"].target_kib == 3 * GIB


def test_config_request_on_a_shut_off_domain_is_sent_as_config(
    host: HostSession, memory_calls
) -> None:
    mode = ApplyMode.LIVE.for_state(DomainState.SHUTOFF)  # what the app asks for
    assert mode is ApplyMode.CONFIG
    result = host.set_target(request(host, "off", 4 * GIB, mode))
    assert result.ok, result.message
    assert result.flags == libvirt.VIR_DOMAIN_AFFECT_CONFIG == 2
    assert "config" in result.message and "next boot" in result.message
    assert "(config only)" in result.summary
    assert memory_calls.sizes() == [(4 * GIB, 2)]
    d = by_name(host.poll())["off"]
    assert d.actual_kib == 4 * GIB  # the boot size of a shut-off guest
    assert d.state is DomainState.SHUTOFF


@pytest.mark.parametrize("mode", [ApplyMode.LIVE, ApplyMode.LIVE_PERSIST])
def test_live_request_on_a_shut_off_domain_is_refused(
    host: HostSession, memory_calls, mode: ApplyMode
) -> None:
    """It was running when the operator acted: sent as config, the log and the audit would
    say "live" for a config-only write."""
    result = host.set_target(request(host, "off", 4 * GIB, mode))
    assert not result.ok
    assert result.message.startswith("off is shut off now: nothing written")
    assert memory_calls.sizes() == []
    assert by_name(host.poll())["off"].actual_kib == 6 * GIB


def test_paused_domain_takes_a_live_target(host: HostSession, memory_calls) -> None:
    result = host.set_target(request(host, "paused", 1536 * MIB))
    assert result.ok, result.message
    assert memory_calls.sizes() == [(1536 * MIB, 1)]


@pytest.mark.parametrize(
    ("name", "kib", "words"),
    [
        ("no-balloon", 512 * MIB, "no balloon device"),  # the test driver would accept it!
        ("no-element", 512 * MIB, "no balloon device"),
        ("run-down", 4 * GIB + 1, "above the maximum"),
        ("run-down", 64 * GIB, "above the maximum"),
        ("off", 9 * GIB, "above the maximum"),
        ("run-down", 0, "more than zero"),
        ("run-down", -GIB, "more than zero"),
    ],
)
def test_refused_before_any_call(
    host: HostSession, memory_calls, name: str, kib: int, words: str
) -> None:
    before = host.connection().lookupByName(name).info()[2]
    result = host.set_target(request(host, name, kib))
    assert not result.ok
    assert words in result.message
    assert memory_calls.sizes() == []
    assert host.connection().lookupByName(name).info()[2] == before
    assert by_name(host.poll())[name].target_kib is None


def test_exactly_the_maximum_is_allowed(host: HostSession, memory_calls) -> None:
    assert host.set_target(request(host, "run-down", 4 * GIB)).ok
    assert memory_calls.sizes() == [(4 * GIB, 1)]


def test_read_only_connection_refuses_without_calling(
    node: Callable[..., str], sessions: Callable[..., HostSession], memory_calls
) -> None:
    session = sessions(node(SPECS), readonly=True)
    snap = session.poll()
    assert snap.readonly is True
    assert len(snap.domains) == len(SPECS)
    result = session.set_target(request(session, "run-down", 3 * GIB))
    assert not result.ok
    assert "read-only" in result.message
    assert memory_calls.sizes() == []
    assert session.connection().lookupByName("run-down").info()[2] == 2 * GIB


def test_vanished_domain_is_a_clear_refusal(host: HostSession, memory_calls) -> None:
    host.poll()  # the session has seen (and cached) it
    dom = host.connection().lookupByUUIDString(UUID["run-down"])
    dom.destroy()
    dom.undefine()
    result = host.set_target(request(host, "run-down", 3 * GIB))
    assert not result.ok
    assert "run-down" in result.message and "no longer exists" in result.message
    assert memory_calls.sizes() == []


def test_unknown_uuid_is_a_clear_refusal(host: HostSession, memory_calls) -> None:
    result = host.set_target(request(host, "ghost", GIB, uuid=uuid_for(4242)))
    assert not result.ok
    assert "no longer exists" in result.message
    assert memory_calls.sizes() == []


def test_disconnected_session_refuses(node: Callable[..., str], memory_calls) -> None:
    session = HostSession(node(SPECS))
    result = session.set_target(request(session, "run-down", GIB))
    assert not result.ok
    assert "disconnected" in result.message
    assert memory_calls.sizes() == []


def test_libvirt_refusal_is_a_result_not_an_exception(
    host: HostSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: libvirt.virDomain, memory: int, flags: int = 0) -> int:
        raise libvirt.libvirtError("virDomainSetMemoryFlags() failed")

    monkeypatch.setattr(libvirt.virDomain, "setMemoryFlags", refuse)
    result = host.set_target(request(host, "run-down", 3 * GIB))
    assert not result.ok
    assert "failed" in result.message
    assert by_name(host.poll())["run-down"].target_kib is None  # not remembered


def test_target_remembered_and_tracked(host: HostSession) -> None:
    host.poll()
    assert host.set_target(request(host, "run-down", 1536 * MIB)).ok
    record = host.targets.get((host.uri, UUID["run-down"]))
    assert record is not None
    assert (record.target_kib, record.actual_at_request) == (1536 * MIB, 2 * GIB)
    d = by_name(host.poll())["run-down"]
    assert d.target_kib == 1536 * MIB
    assert d.progress.state is Convergence.CONVERGED
    # Somebody else moves it (virsh setmem on the same host): flagged, target kept.
    host.connection().lookupByName("run-down").setMemoryFlags(GIB, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    d = by_name(host.poll())["run-down"]
    assert d.target_outside is True
    assert d.target_kib == 1536 * MIB
    assert d.pending
    # A new request of ours clears it.
    assert host.set_target(request(host, "run-down", 3 * GIB)).ok
    d = by_name(host.poll())["run-down"]
    assert d.target_outside is False
    assert d.progress.state is Convergence.CONVERGED


def test_config_only_write_is_not_a_live_target(host: HostSession) -> None:
    assert host.set_target(request(host, "off", 5 * GIB, ApplyMode.CONFIG)).ok
    assert host.targets.get((host.uri, UUID["off"])) is None


# -- metadata --------------------------------------------------------------------------------
def _remembered(dom: libvirt.virDomain) -> tuple[str | None, ...]:
    return metadata.remembered(domainxml.parse(dom.XMLDesc(0)))


def test_metadata_written_and_read_back(host: HostSession) -> None:
    dom = host.connection().lookupByUUIDString(UUID["run-down"])
    assert _remembered(dom) == ()
    assert host.set_target(request(host, "run-down", 3 * GIB)).ok
    assert _remembered(dom) == (str(3 * GIB),)
    raw = dom.metadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        "https://balloon-tui.dev/xmlns/target/1",
        libvirt.VIR_DOMAIN_AFFECT_LIVE,
    )
    element = ET.fromstring(raw)
    assert element.get("kib") == str(3 * GIB)
    assert element.get("by")
    assert abs(int(element.get("at", "0")) - time.time()) < 60


def test_metadata_garbage_is_not_a_target(host: HostSession) -> None:
    dom = host.connection().lookupByUUIDString(UUID["run-max"])
    for xml, found in [
        ("<target kib='lots'/>", ("lots",)),
        ("<target kib='-5'/>", ("-5",)),
        ("<target/>", (None,)),
        ("<target kib='5'><target kib='6'/></target>", (None,)),
        ("<other kib='5'/>", (None,)),
    ]:
        dom.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT,
            xml,
            "btui",
            "https://balloon-tui.dev/xmlns/target/1",
            libvirt.VIR_DOMAIN_AFFECT_LIVE,
        )
        assert _remembered(dom) == found, xml
        assert check_remembered(found, 2 * GIB).target_kib is None, xml


def test_a_new_session_adopts_the_target_from_metadata(
    host: HostSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later run (or another operator) on the same host sees the remembered target."""
    assert host.set_target(request(host, "run-down", 3 * GIB)).ok
    shared = host.connection()
    monkeypatch.setattr("balloon_tui.virt.session.open_connection", lambda *_a, **_k: shared)
    later = HostSession(host.uri, clock=lambda: NOW + 60)
    later.open()  # the same libvirt connection: test:/// files are per open
    d = by_name(later.poll())["run-down"]
    assert d.target_kib == 3 * GIB
    assert d.progress.state is Convergence.CONVERGED
    record = later.targets.get((host.uri, UUID["run-down"]))
    assert record is not None and record.actual_at_request is None  # adopted
    assert by_name(later.poll())["run-max"].target_kib is None


# -- audit integration -----------------------------------------------------------------------
def _audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_write_is_audited_ok_and_refused(
    node: Callable[..., str], sessions: Callable[..., HostSession], tmp_path: Path
) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    session = sessions(node(SPECS), audit=AuditLog(path))
    outcomes = [
        session.set_target(request(session, "run-down", 3 * GIB)),
        session.set_target(request(session, "no-balloon", 512 * MIB)),
        session.set_target(request(session, "run-down", 99 * GIB)),
        session.set_target(request(session, "off", 5 * GIB, ApplyMode.CONFIG)),
    ]
    assert [r.ok for r in outcomes] == [True, False, False, True]
    records = _audit_lines(path)
    assert len(records) == 8
    for i, result in enumerate(outcomes):
        attempt, done = records[2 * i], records[2 * i + 1]
        assert (attempt["phase"], done["phase"]) == ("attempt", "result")
        assert attempt["id"] == done["id"]
        assert done["name"] == result.request.name
        assert done["target_kib"] == result.request.target_kib
        assert done["uri"] == session.uri
        assert done["ok"] is result.ok
        assert done["result"] == ("ok" if result.ok else result.message)
    assert records[0]["flags"] == 1
    assert (records[7]["flags"], records[7]["mode"]) == (2, "config")  # shut off: its config
    assert len({r["id"] for r in records}) == 4


def test_read_only_refusal_is_audited(
    node: Callable[..., str], sessions: Callable[..., HostSession], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    session = sessions(node(SPECS), readonly=True, audit=AuditLog(path))
    assert not session.set_target(request(session, "run-down", GIB)).ok
    attempt, result = _audit_lines(path)
    assert result["ok"] is False and "read-only" in str(result["result"])
    assert attempt["id"] == result["id"]


def test_unwritable_audit_log_means_not_sent(
    node: Callable[..., str], sessions: Callable[..., HostSession], tmp_path: Path, memory_calls
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    session = sessions(node(SPECS), audit=AuditLog(blocker / "audit.jsonl"))
    result = session.set_target(request(session, "run-down", 3 * GIB))
    assert not result.ok
    assert "not sent" in result.message
    assert "audit" in result.message
    assert memory_calls.sizes() == []
    assert session.connection().lookupByName("run-down").info()[2] == 2 * GIB
    assert by_name(session.poll())["run-down"].target_kib is None
    refused = session.set_target(request(session, "no-balloon", GIB))
    assert not refused.ok and "no balloon device" in refused.message
    assert memory_calls.sizes() == []


# -- domain XML ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("xml", "device"),
    [
        ("<domain/>", BalloonDevice()),
        ("<domain><devices/></domain>", BalloonDevice()),
        ("<domain><devices><memballoon model='none'/></devices></domain>", BalloonDevice()),
        (
            "<domain><devices><memballoon model='virtio'/></devices></domain>",
            BalloonDevice("virtio"),
        ),
        (
            "<domain><devices><memballoon model='virtio-non-transitional' autodeflate='on' "
            "freePageReporting='on'><stats period='10'/></memballoon></devices></domain>",
            BalloonDevice("virtio-non-transitional", True, True, 10),
        ),
        (
            "<domain><devices><memballoon model='virtio' autodeflate='off' "
            "freePageReporting='off'><stats period='x'/></memballoon></devices></domain>",
            BalloonDevice("virtio"),
        ),
        ("not xml at all <", BalloonDevice()),
    ],
    ids=["bare", "no-balloon", "model-none", "virtio", "all-features", "off-and-junk", "junk"],
)
def test_balloon_device_from_xml(xml: str, device: BalloonDevice) -> None:
    assert domainxml.balloon_device(domainxml.parse(xml)) == device
