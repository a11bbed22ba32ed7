"""Facts from a domain's XML: the balloon, the virtio-mem devices, the maximum (read when a
domain appears or changes, and each tick for a running guest with virtio-mem devices)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from balloon_tui.core.model import NO_BALLOON, BalloonDevice, MemoryDevice

METADATA_NAMESPACE = "https://balloon-tui.dev/xmlns/target/1"
METADATA_PREFIX = "btui"


def parse(xml_text: str) -> ET.Element | None:
    """The domain element, parsed once for the device, the maximum and the metadata."""
    try:
        return ET.fromstring(xml_text)
    except ET.ParseError:
        return None


def balloon_device(root: ET.Element | None) -> BalloonDevice:
    if root is None:
        return NO_BALLOON
    balloon = root.find("./devices/memballoon")
    if balloon is None:
        return NO_BALLOON
    period = 0
    stats = balloon.find("stats")
    if stats is not None:
        try:
            period = int(stats.get("period", "0"))
        except ValueError:
            period = 0
    return BalloonDevice(
        model=balloon.get("model", "none"),
        autodeflate=balloon.get("autodeflate") == "on",
        free_page_reporting=balloon.get("freePageReporting") == "on",
        stats_period=period,
    )


def maximum_kib(root: ET.Element | None) -> int | None:
    """`<memory>`: the maximum, as `info()[1]` and `balloon.maximum` give it (libvirt
    writes it in KiB); None when it is not there in that form."""
    memory = root.find("./memory") if root is not None else None
    if memory is None or memory.get("unit", "KiB") != "KiB":
        return None
    text = (memory.text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 16 else None


# Beyond this no machine has memory (8 EiB): a larger number is junk, not a size.
_MAX_KIB = 2**53
# A guest has at most a few hundred memory slots (`<maxMemory slots>`); more devices than
# this in a foreign XML are not read (each one costs the UI a line).
MAX_MEMORY_DEVICES = 256


def unit_bytes(unit: str) -> int | None:
    """Bytes in one of libvirt's memory units (its virScaleInteger: `b`/`bytes`; a letter
    K M G T P E alone or with `iB` is a power of 1024, with `B` a power of 1000; letters in
    either case); None for anything else."""
    if unit.lower() in ("b", "bytes"):
        return 1
    power = "kmgtpe".find(unit[:1].lower()) + 1
    rest = unit[1:].lower()
    if not unit or not power or rest not in ("", "ib", "b"):
        return None
    base: int = 1000 if rest == "b" else 1024
    return int(base**power)


def size_kib(element: ET.Element | None, default_unit: str = "KiB") -> int | None:
    """An element holding a size in libvirt's form (`<size unit='MiB'>512</size>`), in KiB
    rounded up as libvirt rounds; None when missing, not a whole number, of an unknown unit,
    negative or beyond any machine's memory."""
    if element is None:
        return None
    scale = unit_bytes(element.get("unit") or default_unit)
    text = (element.text or "").strip()
    if scale is None or not (text.isascii() and text.isdigit()) or len(text) > 20:
        return None
    kib = -(-int(text) * scale // 1024)
    return kib if kib <= _MAX_KIB else None


def _node(element: ET.Element | None) -> int | None:
    text = (element.text or "").strip() if element is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def memory_devices(root: ET.Element | None) -> tuple[MemoryDevice, ...]:
    """Every `<devices><memory model='virtio-mem'>`, in XML order.

    The XML is foreign input. A device whose size, block or requested size is missing, not
    a number or absurd (no size, no block, a block larger than the size, a request beyond
    the size) is skipped: nothing true could be drawn or asked of it. A `<current>` that is
    missing (the config XML of a shut-off guest) or beyond the size is unknown (None), as
    is an unreadable `<node>`; a missing alias (not given before the guest starts) is "".
    """
    if root is None:
        return ()
    found: list[MemoryDevice] = []
    for memory in root.iterfind("./devices/memory[@model='virtio-mem']"):
        if len(found) == MAX_MEMORY_DEVICES:
            break
        target = memory.find("target")
        if target is None:
            continue
        size = size_kib(target.find("size"))
        block = size_kib(target.find("block"))
        requested = size_kib(target.find("requested"))
        if not size or not block or block > size or requested is None or requested > size:
            continue
        current = size_kib(target.find("current"))
        alias = memory.find("alias")
        found.append(
            MemoryDevice(
                alias=alias.get("name", "") if alias is not None else "",
                node=_node(target.find("node")),
                block_kib=block,
                size_kib=size,
                requested_kib=requested,
                current_kib=current if current is not None and current <= size else None,
            )
        )
    return tuple(found)
