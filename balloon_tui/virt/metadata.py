"""Targets shared across runs and operators: live domain metadata in our XML namespace.

Read from the domain XML the session fetches anyway (one call, and it shows every element
of ours, where `virDomainGetMetadata` returns only the first). Any client of libvirtd can
write there: what is read is checked by `core.targets.check_remembered` before use.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import libvirt

from balloon_tui.core.targets import Remembered, check_remembered
from balloon_tui.virt.domainxml import METADATA_NAMESPACE, METADATA_PREFIX, maximum_kib

_OURS = f"{{{METADATA_NAMESPACE}}}"
_TARGET = f"{_OURS}target"


def remembered(root: ET.Element | None) -> tuple[str | None, ...]:
    """The `kib` text of each element of ours in `<metadata>`; None for one that is not a
    plain `<target kib=…/>` (children, another name, no `kib`)."""
    block = root.find("./metadata") if root is not None else None
    if block is None:
        return ()
    found: list[str | None] = []
    for element in block:
        if not element.tag.startswith(_OURS):
            continue
        kib = element.get("kib")
        plain = element.tag == _TARGET and len(element) == 0
        found.append(kib if plain else None)
    return tuple(found)


def checked(root: ET.Element | None) -> Remembered:
    """The remembered target, if this guest can have it; else why it is ignored."""
    return check_remembered(remembered(root), maximum_kib(root))


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
