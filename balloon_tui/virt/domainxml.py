"""Balloon facts from a domain's XML (read when a domain appears or changes, not per tick)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from balloon_tui.core.model import NO_BALLOON, BalloonDevice

METADATA_NAMESPACE = "https://balloon-tui.dev/xmlns/target/1"
METADATA_PREFIX = "btui"


def balloon_device_from_xml(xml_text: str) -> BalloonDevice:
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
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
