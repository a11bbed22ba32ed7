"""A real guest's virtio-mem device, seen and moved with plain libvirt-python.

The test's own "other client" (like guests.py): it reads the live XML's `<memory
model='virtio-mem'>` and asks for a new `<requested>` size the way `virsh
update-memory-device --requested-size N --live` does (virDomainUpdateDeviceFlags with the
device's own XML, `<current>` left out), independent of balloon_tui's writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

import guests as g
import libvirt

_UNITS_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "m": 1024, "mib": 1024}
_UNITS_KIB |= {"g": 1024 * 1024, "gib": 1024 * 1024}


@dataclass(frozen=True)
class Device:
    alias: str
    node: int | None
    block_kib: int
    size_kib: int
    requested_kib: int
    current_kib: int | None


def _kib(element: ET.Element | None) -> int | None:
    if element is None or element.text is None:
        return None
    return int(int(element.text) * _UNITS_KIB[element.get("unit", "KiB").lower()])


def _device_element(xml: str) -> ET.Element:
    found = ET.fromstring(xml).findall("devices/memory[@model='virtio-mem']")
    assert len(found) == 1, f"expected one virtio-mem device, found {len(found)}"
    return found[0]


def device(conn: libvirt.virConnect, guest: g.Guest, flags: int = 0) -> Device:
    """The guest's one virtio-mem device as libvirt describes it (live XML by default)."""
    el = _device_element(conn.lookupByUUIDString(guest.uuid).XMLDesc(flags))
    target = el.find("target")
    assert target is not None
    node = target.findtext("node")
    alias = el.find("alias")
    return Device(
        alias="" if alias is None else alias.get("name", ""),
        node=None if node is None else int(node),
        block_kib=_kib(target.find("block")) or 0,
        size_kib=_kib(target.find("size")) or 0,
        requested_kib=_kib(target.find("requested")) or 0,
        current_kib=_kib(target.find("current")),
    )


def request(conn: libvirt.virConnect, guest: g.Guest, kib: int) -> None:
    """Ask the running guest's device for `kib` (live only), as virsh update-memory-device."""
    dom = conn.lookupByUUIDString(guest.uuid)
    el = _device_element(dom.XMLDesc(0))
    target = el.find("target")
    assert target is not None
    current = target.find("current")
    if current is not None:
        target.remove(current)  # libvirt's own output, not something a request may set
    requested = target.find("requested")
    assert requested is not None
    requested.text = str(kib)
    requested.set("unit", "KiB")
    dom.updateDeviceFlags(ET.tostring(el, encoding="unicode"), libvirt.VIR_DOMAIN_AFFECT_LIVE)


def balloon_current_kib(conn: libvirt.virConnect, guest: g.Guest) -> int:
    """`balloon.current` from getAllDomainStats, what balloon_tui reads as actual."""
    dom = conn.lookupByUUIDString(guest.uuid)
    ((_, stats),) = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BALLOON)
    return int(stats["balloon.current"])


def balloon_maximum_kib(conn: libvirt.virConnect, guest: g.Guest) -> int:
    dom = conn.lookupByUUIDString(guest.uuid)
    ((_, stats),) = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_BALLOON)
    return int(stats["balloon.maximum"])


def guest_total_kib(conn: libvirt.virConnect, guest: g.Guest) -> int | None:
    """The guest's own MemTotal (the balloon driver's "available"): grows only when the
    guest has onlined what was plugged, so it proves the guest uses it."""
    value = conn.lookupByUUIDString(guest.uuid).memoryStats().get("available")
    return None if value is None else int(value)


def settle(conn: libvirt.virConnect, guest: g.Guest, kib: int, timeout: float = 10.0) -> None:
    """Bring the device to `kib` plugged and wait until it is (a test's known start)."""
    if device(conn, guest).current_kib != kib:
        request(conn, guest, kib)
    g.wait_for(
        f"{guest.name}: virtio-mem settled at {kib} KiB",
        lambda: device(conn, guest).current_kib == kib,
        timeout,
        interval=0.1,
    )


def balloon_flags(conn: libvirt.virConnect, guest: g.Guest, flags: int) -> tuple[bool, bool]:
    """(autodeflate, freePageReporting) of the guest's `<memballoon>`; absent means off."""
    balloon = ET.fromstring(conn.lookupByUUIDString(guest.uuid).XMLDesc(flags)).find(
        "devices/memballoon"
    )
    assert balloon is not None
    return (balloon.get("autodeflate") == "on", balloon.get("freePageReporting") == "on")
