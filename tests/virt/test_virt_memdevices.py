"""virtio-mem devices: read from the domain XML (foreign input: every field checked), kept
on the snapshot, and their live XML read on every tick (only for guests that have them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import libvirt
import pytest
from nodefiles import GIB, MIB, SHUTOFF, DomainSpec, VirtioMem, uuid_for

from balloon_tui.core.model import DomainState, MemoryDevice
from balloon_tui.virt import domainxml
from balloon_tui.virt.memfollow import MemoryDevices
from balloon_tui.virt.session import HostSession


def device(
    *,
    size: str = "<size unit='KiB'>1048576</size>",
    block: str = "<block unit='KiB'>2048</block>",
    requested: str = "<requested unit='KiB'>524288</requested>",
    current: str = "<current unit='KiB'>262144</current>",
    node: str = "<node>0</node>",
    alias: str = "<alias name='virtiomem0'/>",
    model: str = "virtio-mem",
) -> str:
    return (
        f"<memory model='{model}'><target>{size}{node}{block}{requested}{current}</target>"
        f"{alias}</memory>"
    )


def parsed(*devices: str) -> tuple[MemoryDevice, ...]:
    return domainxml.memory_devices(
        domainxml.parse(f"<domain><devices>{''.join(devices)}</devices></domain>")
    )


GOOD = MemoryDevice("virtiomem0", 0, 2 * MIB, GIB, 512 * MIB, 256 * MIB)


def test_one_device_every_field() -> None:
    assert parsed(device()) == (GOOD,)
    assert GOOD.pending  # 256 MiB plugged of the 512 MiB asked


def test_several_devices_in_xml_order_and_others_left_out() -> None:
    second = device(
        alias="<alias name='virtiomem1'/>",
        node="<node>1</node>",
        size="<size unit='GiB'>2</size>",
        block="<block unit='MiB'>4</block>",
        requested="<requested unit='GiB'>2</requested>",
        current="<current unit='GiB'>2</current>",
    )
    dimm = "<memory model='dimm'><target><size unit='KiB'>524288</size></target></memory>"
    pmem = device(model="virtio-pmem")
    found = parsed(device(), dimm, pmem, second)
    assert found == (
        GOOD,
        MemoryDevice("virtiomem1", 1, 4 * MIB, 2 * GIB, 2 * GIB, 2 * GIB),
    )
    assert [d.pending for d in found] == [True, False]


def test_none_and_unreadable_xml() -> None:
    assert parsed() == ()
    assert domainxml.memory_devices(None) == ()
    assert domainxml.memory_devices(domainxml.parse("<domain/>")) == ()


@pytest.mark.parametrize(
    ("unit", "kib"),
    [
        ("b", 1),  # 1024 bytes
        ("bytes", 1),
        ("KiB", 1024),
        ("k", 1024),
        ("K", 1024),
        ("KB", 1000),  # libvirt: a B alone is a power of 1000
        ("M", 1024 * 1024),
        ("MiB", 1024 * 1024),
        ("mib", 1024 * 1024),  # libvirt reads the letters in either case
        ("MB", 1000 * 1000),
        ("GiB", 1024**3),
        ("TiB", 1024**4),
    ],
)
def test_libvirt_units(unit: str, kib: int) -> None:
    element = domainxml.parse(f"<size unit='{unit}'>1024</size>")
    assert domainxml.size_kib(element) == kib


def test_sizes_round_up_to_whole_kib_and_default_to_kib() -> None:
    assert domainxml.size_kib(domainxml.parse("<size unit='bytes'>1025</size>")) == 2
    assert domainxml.size_kib(domainxml.parse("<size>7</size>")) == 7
    assert domainxml.size_kib(domainxml.parse("<size unit=''>7</size>")) == 7
    assert domainxml.size_kib(domainxml.parse("<size> 7 </size>")) == 7


@pytest.mark.parametrize(
    "text",
    ["", "-1", "1.5", "0x10", "lots", "١٢", "1e3", "9" * 21, str(2**64)],
)
def test_sizes_that_are_not_sizes(text: str) -> None:
    assert domainxml.size_kib(domainxml.parse(f"<size unit='KiB'>{text}</size>")) is None


@pytest.mark.parametrize("unit", ["parsecs", "KiBB", "iB", "Ki", "ZiB", "%"])
def test_unknown_units(unit: str) -> None:
    assert domainxml.unit_bytes(unit) is None
    assert domainxml.size_kib(domainxml.parse(f"<size unit='{unit}'>5</size>")) is None


def test_beyond_any_machine_is_junk() -> None:
    assert domainxml.size_kib(domainxml.parse("<size unit='EiB'>8</size>")) == 2**53
    assert domainxml.size_kib(domainxml.parse("<size unit='EiB'>9</size>")) is None


@pytest.mark.parametrize(
    "broken",
    [
        {"size": ""},  # no size
        {"size": "<size unit='KiB'>0</size>"},
        {"size": "<size unit='KiB'>-1048576</size>"},
        {"size": "<size unit='KiB'>big</size>"},
        {"size": "<size unit='furlongs'>1</size>"},
        {"block": ""},
        {"block": "<block unit='KiB'>0</block>"},
        {"block": "<block unit='GiB'>2</block>"},  # a block larger than the device
        {"requested": ""},
        {"requested": "<requested unit='KiB'>-1</requested>"},
        {"requested": "<requested unit='GiB'>2</requested>"},  # more than the device
    ],
)
def test_a_device_without_a_true_size_block_or_request_is_skipped(broken: dict[str, str]) -> None:
    assert parsed(device(**broken), device()) == (GOOD,)


def test_a_device_without_target_is_skipped() -> None:
    assert parsed("<memory model='virtio-mem'><alias name='x'/></memory>", device()) == (GOOD,)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"current": ""}, {"current_kib": None}),  # a shut-off guest's config XML
        ({"current": "<current unit='KiB'>-5</current>"}, {"current_kib": None}),
        ({"current": "<current unit='GiB'>3</current>"}, {"current_kib": None}),  # > size
        ({"current": "<current unit='KiB'>0</current>"}, {"current_kib": 0}),
        ({"requested": "<requested unit='KiB'>0</requested>"}, {"requested_kib": 0}),
        ({"node": ""}, {"node": None}),
        ({"node": "<node>-1</node>"}, {"node": None}),
        ({"node": "<node>zero</node>"}, {"node": None}),
        ({"node": "<node>99999</node>"}, {"node": None}),
        ({"alias": ""}, {"alias": ""}),  # aliases come when the guest starts
        ({"alias": "<alias/>"}, {"alias": ""}),
        ({"alias": "<alias name='ua-&#x202e;x'/>"}, {"alias": "ua-\u202ex"}),  # kept exact
    ],
)
def test_missing_or_absurd_optional_fields_are_unknown(
    fields: dict[str, str], expected: dict[str, Any]
) -> None:
    (found,) = parsed(device(**fields))
    for name, value in expected.items():
        assert getattr(found, name) == value


def test_a_flood_of_devices_is_cut() -> None:
    found = parsed(*(device() for _ in range(domainxml.MAX_MEMORY_DEVICES + 10)))
    assert len(found) == domainxml.MAX_MEMORY_DEVICES


# -- on the test driver ----------------------------------------------------------------------
SPECS = [
    DomainSpec(
        "elastic",
        max_kib=3 * GIB,
        current_kib=GIB,
        stats_period=2,
        virtio_mem=(VirtioMem(GIB, requested_kib=0), VirtioMem(GIB, 4 * MIB, 0, "ua-second")),
    ),
    DomainSpec("plain", max_kib=2 * GIB, current_kib=GIB, stats_period=2),
    DomainSpec(
        "sleeping", max_kib=2 * GIB, runstate=SHUTOFF, virtio_mem=(VirtioMem(GIB, alias=None),)
    ),
    # asked for 256 MiB; the test driver's `<current>` stays 0: a device on its way
    DomainSpec("growing", max_kib=2 * GIB, virtio_mem=(VirtioMem(GIB, requested_kib=256 * MIB),)),
]


@pytest.fixture
def host(node: Callable[..., str], sessions: Callable[..., HostSession]) -> HostSession:
    return sessions(node(SPECS))


@pytest.fixture
def xml_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    reads: Counter[str] = Counter()
    original = libvirt.virDomain.XMLDesc

    def counting(self: libvirt.virDomain, flags: int = 0) -> str:
        reads[self.name()] += 1
        return original(self, flags)

    monkeypatch.setattr(libvirt.virDomain, "XMLDesc", counting)
    return reads


def test_the_test_driver_keeps_the_devices(host: HostSession) -> None:
    domains = {d.name: d for d in host.poll().domains}
    elastic = domains["elastic"]
    assert elastic.memory_devices == (
        MemoryDevice("ua-vmem0", 0, 2 * MIB, GIB, 0, 0),
        MemoryDevice("ua-second", 0, 4 * MIB, GIB, 0, 0),
    )
    # libvirt's maximum counts the devices whole, plugged or not (boot memory is 1 GiB)
    assert elastic.maximum_kib == 3 * GIB
    assert elastic.balloon_ceiling_kib == GIB
    assert domains["plain"].memory_devices == ()
    # a shut-off guest: its config, no `<current>` (and no alias without a user alias)
    sleeping = domains["sleeping"]
    assert sleeping.state is DomainState.SHUTOFF
    assert sleeping.memory_devices == (MemoryDevice("", 0, 2 * MIB, GIB, 0, None),)


def test_live_xml_read_each_tick_only_while_a_device_moves(
    host: HostSession, xml_reads: Counter[str]
) -> None:
    assert host._memory.events  # the test driver takes the size-change registration
    first = host.poll()
    for _ in range(4):
        last = host.poll()
    # on its way (current ≠ requested): read on every tick, so `<current>` follows ...
    assert xml_reads["growing"] == 5
    # ... settled: read again only when MEMORY_DEVICE_SIZE_CHANGE says it moved
    assert xml_reads["elastic"] == 1
    # and nothing more for the others (a shut-off guest's config has no `<current>`)
    assert xml_reads["plain"] == 1
    assert xml_reads["sleeping"] == 1
    # an unchanged guest is still the very same snapshot object, read or not
    before = {d.name: d for d in first.domains}
    for d in last.domains:
        assert d is before[d.name]


def test_without_the_event_every_live_device_is_read_each_tick(
    host: HostSession, xml_reads: Counter[str]
) -> None:
    host._memory.events = False  # as on a connection that refused the registration
    for _ in range(5):
        host.poll()
    assert xml_reads["growing"] == xml_reads["elastic"] == 5
    assert xml_reads["plain"] == xml_reads["sleeping"] == 1


def test_a_device_that_goes_away_leaves_the_snapshot(host: HostSession) -> None:
    host.poll()
    conn = host.connection()
    conn.lookupByName("elastic").destroy()
    domains = {d.name: d for d in host.poll().domains}
    # its config still has the devices, without `<current>`: no longer read every tick
    assert domains["elastic"].memory_devices[0].current_kib is None
    assert not host._memory.follows(uuid_for(1))
    assert host._memory.follows(uuid_for(4))  # "growing", still on its way
    conn.lookupByName("elastic").undefine()
    host.poll()
    assert host._memory.of(uuid_for(1)) == ()


class _Conn:
    """Records what the session registers; libvirt's test driver never emits a virtio-mem
    size change, so the callback is called here as libvirt would call it."""

    def __init__(self) -> None:
        self.callbacks: dict[int, Callable[..., None]] = {}

    def domainEventRegisterAny(self, _dom: object, event: int, callback: Any, _o: object) -> int:
        self.callbacks[event] = callback
        return event

    def registerCloseCallback(self, *_args: object) -> None:
        pass


class _Dom:
    def UUIDString(self) -> str:
        return uuid_for(1)


def test_a_size_change_event_marks_the_guest_for_a_read_and_wakes_the_poller() -> None:
    session = HostSession("test:///default")
    woken: list[bool] = []
    session.on_event = lambda: woken.append(True)
    conn = _Conn()
    session._register_events(conn)  # type: ignore[arg-type]
    callback = conn.callbacks[libvirt.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE]
    callback(conn, _Dom(), "virtiomem0", 448 * MIB, None)  # (conn, dom, alias, size, opaque)
    assert uuid_for(1) in session._dirty
    assert woken == [True]


def test_which_guests_are_followed() -> None:
    book = MemoryDevices()
    settled = MemoryDevice("a", 0, 2 * MIB, GIB, 0, 0)
    moving = MemoryDevice("b", 0, 2 * MIB, GIB, GIB, 0)
    config = MemoryDevice("", 0, 2 * MIB, GIB, GIB, None)  # no `<current>`: nothing moves
    book.keep("no-event", (settled,))
    assert book.follows("no-event")  # without the event, a live device is read each tick
    book.events = True
    book.keep("settled", (settled,))
    book.keep("moving", (settled, moving))
    book.keep("config", (config,))
    book.keep("none", ())
    assert [u for u in ("settled", "moving", "config", "none") if book.follows(u)] == ["moving"]
    assert book.of("moving") == (settled, moving) and book.of("none") == ()
    book.keep("moving", (settled,))  # arrived
    assert not book.follows("moving")
    book.forget_missing({"settled"})
    assert book.of("moving") == () and not book.follows("no-event")
    assert book.of("settled") == (settled,)
