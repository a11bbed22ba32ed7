"""Balloon facts from a domain's XML (read when a domain appears or changes, not per tick)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from balloon_tui.core.model import NO_BALLOON, BalloonDevice

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
