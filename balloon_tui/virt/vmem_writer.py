"""Setting a virtio-mem device's requested size: checks first, audit before, one result always.

libvirt changes `<requested>` through `virDomainUpdateDeviceFlags` with the device's XML, as
`virsh update-memory-device` does: it finds the device by its address/alias in that XML and
refuses a change to anything else, so the XML sent is the device's own element from the
domain's XML (live for a live write, the inactive one for config only) with only
`<requested>` replaced.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import libvirt

from balloon_tui.core.audit import AuditError
from balloon_tui.core.model import DomainState
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.writes import TargetRequest, WriteResult
from balloon_tui.virt.errors import code_of, describe
from balloon_tui.virt.target_writer import CONFIG, LIVE, flags_for, refuse

if TYPE_CHECKING:
    from balloon_tui.virt.session import HostSession

VIRTIO_MEM_XPATH = "./devices/memory[@model='virtio-mem']"


def device_element(root: ET.Element, alias: str) -> ET.Element | None:
    """The `<memory model='virtio-mem'>` element called `alias`.

    An inactive XML carries no aliases (libvirt gives them at start): there the devices are
    named as libvirt will name them, `virtiomem<N>` in XML order."""
    devices = root.findall(VIRTIO_MEM_XPATH)
    for element in devices:
        found = element.find("alias")
        if found is not None and found.get("name") == alias:
            return element
    if any(element.find("alias") is not None for element in devices):
        return None
    return next((e for i, e in enumerate(devices) if f"virtiomem{i}" == alias), None)


def _kib(element: ET.Element, path: str) -> int | None:
    """A size libvirt wrote (always KiB in its own XML); None when absent or not that."""
    found = element.find(path)
    if found is None or found.get("unit", "KiB") != "KiB":
        return None
    text = (found.text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 16 else None


def request_xml(element: ET.Element, requested_kib: int) -> str:
    """The device's XML with `<requested>` set to `requested_kib` (the element is copied)."""
    device = ET.fromstring(ET.tostring(element))
    target = device.find("target")
    if target is None:
        target = ET.SubElement(device, "target")
    requested = target.find("requested")
    if requested is None:
        requested = ET.SubElement(target, "requested")
    requested.attrib = {"unit": "KiB"}
    requested.text = str(int(requested_kib))
    # `<current>` is the guest's, read-only: libvirt ignores it; sent back it would only
    # tell libvirt an old number.
    current = target.find("current")
    if current is not None:
        target.remove(current)
    device.tail = None
    return ET.tostring(device, encoding="unicode")


def write_device(
    session: HostSession, conn: libvirt.virConnect, request: TargetRequest
) -> WriteResult:
    """What `write_target` is for the balloon, for `request.device`."""
    audit = session.audit
    flags = flags_for(request.mode)
    problem, dom, xml = _check(session, conn, request, flags)
    if problem is not None or dom is None or xml is None:
        return refuse(audit, request, problem or "nothing to send")
    attempt_id = None
    if audit is not None:
        try:
            attempt_id = audit.attempt(request, flags)
        except AuditError as exc:
            return WriteResult(request, False, f"not sent: {exc}", None, flags)
    result = _send(session, dom, request, flags, xml)
    if audit is not None and attempt_id is not None:
        try:
            audit.result(attempt_id, result)
        except AuditError as exc:
            result = WriteResult(
                request, result.ok, f"{result.message}; but {exc}", result.error_code, flags
            )
    return result


def _check(
    session: HostSession, conn: libvirt.virConnect, request: TargetRequest, flags: int
) -> tuple[str | None, libvirt.virDomain | None, dict[int, str] | None]:
    """Refuse before any call what libvirt would refuse or get wrong; else the domain and
    the XML to send per flag (LIVE from the live XML, CONFIG from the inactive one)."""
    alias = request.device or ""
    if session.readonly:
        return "read-only connection: balloon-tui does not write", None, None
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        state = DomainState.from_code(int(dom.info()[0]))
        if request.mode.for_state(state) is not request.mode:
            return (
                f"{request.name} is {state.word} now: nothing written "
                f"({request.mode.label} needs a running guest; set it again for its config)",
                None,
                None,
            )
        xml: dict[int, str] = {}
        for flag, xml_flags in ((LIVE, 0), (CONFIG, libvirt.VIR_DOMAIN_XML_INACTIVE)):
            if not flags & flag:
                continue
            problem, text = _device_xml(dom.XMLDesc(xml_flags), alias, request)
            if problem is not None:
                return problem, None, None
            xml[flag] = text
    except libvirt.libvirtError as exc:
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            return f"{request.name} no longer exists on {session.uri}", None, None
        return describe(exc), None, None
    return None, dom, xml


def _device_xml(domain_xml: str, alias: str, request: TargetRequest) -> tuple[str | None, str]:
    try:
        root = ET.fromstring(domain_xml)
    except ET.ParseError:
        return "libvirt gave a domain XML that does not parse", ""
    element = device_element(root, alias)
    if element is None:
        return f"{request.name} has no virtio-mem device {alias} (any more)", ""
    size, block = _kib(element, "target/size"), _kib(element, "target/block")
    if size is None or not block:
        return f"{alias}: its size or block size is not in its XML", ""
    wanted = request.target_kib
    if wanted < 0 or wanted > size or wanted % block:
        # The UI rounds and bounds every request: this one did not come from there.
        return (
            f"{format_compact(wanted)} is not a whole number of {format_compact(block)} "
            f"blocks within 0 to {format_compact(size)}",
            "",
        )
    return None, request_xml(element, wanted)


def _send(
    session: HostSession,
    dom: libvirt.virDomain,
    request: TargetRequest,
    flags: int,
    xml: dict[int, str],
) -> WriteResult:
    try:
        if flags == LIVE | CONFIG:
            try:
                dom.updateDeviceFlags(xml[LIVE], flags)
            except libvirt.libvirtError as exc:
                if code_of(exc) != libvirt.VIR_ERR_INVALID_ARG:
                    raise
                # The live and the inactive XML may name the device differently: one call
                # each, with that side's own XML.
                dom.updateDeviceFlags(xml[LIVE], LIVE)
                dom.updateDeviceFlags(xml[CONFIG], CONFIG)
        else:
            dom.updateDeviceFlags(xml[flags], flags)
    except libvirt.libvirtError as exc:
        message = describe(exc)
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            message = f"{request.name} no longer exists on {session.uri}"
        return WriteResult(request, False, message, code_of(exc), flags)
    session.mark_changed(request.uuid)  # the next poll reads `<requested>` back from the XML
    where = "config only: applies at next boot" if flags == CONFIG else request.mode.label
    return WriteResult(request, True, where, None, flags)
