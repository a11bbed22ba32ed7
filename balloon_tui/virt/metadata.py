"""Targets shared across runs and operators: live domain metadata in our XML namespace."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import libvirt

from balloon_tui.virt.domainxml import METADATA_NAMESPACE, METADATA_PREFIX


def read_target(dom: libvirt.virDomain) -> int | None:
    try:
        text = dom.metadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NAMESPACE, libvirt.VIR_DOMAIN_AFFECT_LIVE
        )
    except libvirt.libvirtError:
        return None  # none written yet, or the domain is not running
    try:
        value = int(ET.fromstring(text).get("kib", ""))
    except (ET.ParseError, ValueError):
        return None
    return value if value > 0 else None


def write_target(dom: libvirt.virDomain, target_kib: int, user: str) -> bool:
    element = ET.Element("target", kib=str(target_kib), by=user, at=str(int(time.time())))
    try:
        dom.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT,
            ET.tostring(element, encoding="unicode"),
            METADATA_PREFIX,
            METADATA_NAMESPACE,
            libvirt.VIR_DOMAIN_AFFECT_LIVE,
        )
    except libvirt.libvirtError:
        return False
    return True
