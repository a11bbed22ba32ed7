"""Targets shared across runs and operators: live domain metadata in our XML namespace.

Read from the domain XML the session fetches anyway (one call, and it shows every element
of ours, where `virDomainGetMetadata` returns only the first). Any client of libvirtd can
write there: what is read is checked by `core.targets.check_remembered` before use.

The guest's regulator policy lives in a namespace of its own: libvirt keeps one element per
namespace and replaces it whole on every write, so the target (written on every move) and
the policy (written when the operator edits it) never overwrite each other. It is checked by
`core.guestpolicy.check_policy`.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import libvirt

from balloon_tui.core.guestpolicy import PolicyRead, check_policy, policy_attributes
from balloon_tui.core.model import GuestPolicy
from balloon_tui.core.targets import Remembered, check_remembered
from balloon_tui.virt.domainxml import METADATA_NAMESPACE, METADATA_PREFIX, maximum_kib

_OURS = f"{{{METADATA_NAMESPACE}}}"
_TARGET = f"{_OURS}target"
POLICY_NAMESPACE = "https://balloon-tui.dev/xmlns/policy/1"
POLICY_PREFIX = "btuipolicy"
_POLICY_OURS = f"{{{POLICY_NAMESPACE}}}"
_POLICY = f"{_POLICY_OURS}policy"


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


def policies(root: ET.Element | None) -> tuple[dict[str, str] | None, ...]:
    """The attributes of each element in the policy namespace in `<metadata>`; None for one
    that is not a plain `<policy …/>`."""
    block = root.find("./metadata") if root is not None else None
    if block is None:
        return ()
    return tuple(
        dict(element.attrib) if element.tag == _POLICY and len(element) == 0 else None
        for element in block
        if element.tag.startswith(_POLICY_OURS)
    )


def checked_policy(root: ET.Element | None) -> PolicyRead:
    """The guest's policy, if it is well formed and fits; else the defaults and why."""
    return check_policy(policies(root), maximum_kib(root))


def policy_element(policy: GuestPolicy, user: str, now: float) -> str:
    element = ET.Element("policy", policy_attributes(policy), by=user, at=str(int(now)))
    return ET.tostring(element, encoding="unicode")


def write_policy(dom: libvirt.virDomain, policy: GuestPolicy, user: str, flags: int) -> None:
    """Store `policy` (live and/or config, by `flags`); raises libvirt.libvirtError."""
    dom.setMetadata(
        libvirt.VIR_DOMAIN_METADATA_ELEMENT,
        policy_element(policy, user, time.time()),
        POLICY_PREFIX,
        POLICY_NAMESPACE,
        flags,
    )


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
