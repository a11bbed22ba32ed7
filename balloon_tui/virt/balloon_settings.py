"""The balloon device's settings (`D`): read live and from the config; written checked, audited.

autodeflate and free page reporting go to the persistent config only (libvirt cannot change
them on a running guest; neither QEMU's nor the test driver's `virDomainUpdateDeviceFlags`
updates a memballoon): the config XML (with its secrets, as `virsh edit` reads it) gets its
memballoon edited and goes back through `defineXML`, then is read again to prove it kept the
values. The stats period goes in the same config, and live through `setMemoryStatsPeriod`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libvirt

from balloon_tui.core.audit import AuditError
from balloon_tui.core.balloonknobs import (
    BalloonKnobs,
    KnobsLook,
    KnobsQuery,
    KnobsRequest,
    KnobsResult,
    knobs_words,
    period_problem,
)
from balloon_tui.core.model import DomainState
from balloon_tui.virt import domainxml
from balloon_tui.virt.errors import code_of, describe
from balloon_tui.virt.memballoonxml import MemballoonXmlError, with_knobs

if TYPE_CHECKING:
    from balloon_tui.virt.session import HostSession

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_CONFIG_XML = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


class _Refused(Exception):
    """A reason not to write, for the operator."""


def _gone(session: HostSession, name: str) -> str:
    return f"{name} no longer exists on {session.uri}"


def _device_of(xml_text: str) -> tuple[str, BalloonKnobs]:
    device = domainxml.balloon_device(domainxml.parse(xml_text))
    return device.model, BalloonKnobs.of(device)


def read_knobs(
    session: HostSession, conn: libvirt.virConnect | None, query: KnobsQuery
) -> KnobsLook:
    """Never raises. Reading changes nothing: not audited."""
    if conn is None:
        return KnobsLook(query, False, f"{session.uri} is disconnected")
    try:
        dom = conn.lookupByUUIDString(query.uuid)
        active = DomainState.from_code(int(dom.info()[0])).is_active
        model, live = _device_of(dom.XMLDesc(0)) if active else ("none", None)
        config = None
        if dom.isPersistent():
            flags = libvirt.VIR_DOMAIN_XML_INACTIVE  # no secrets needed to look
            model, config = _device_of(dom.XMLDesc(flags))
    except libvirt.libvirtError as exc:
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            return KnobsLook(query, False, _gone(session, query.name))
        return KnobsLook(query, False, describe(exc))
    if model == "none":
        return KnobsLook(query, False, f"{query.name} has no balloon device", model)
    return KnobsLook(query, True, "", model, config, live)


def write_knobs(
    session: HostSession, conn: libvirt.virConnect | None, request: KnobsRequest
) -> KnobsResult:
    """Never raises: every outcome is a KnobsResult, and every attempt is audited."""
    flags = (CONFIG if request.config is not None else 0) | (
        LIVE if request.live_period is not None else 0
    )
    audit = session.audit
    attempt_id = None
    if audit is not None:
        try:
            attempt_id = audit.knobs_attempt(request, flags)
        except AuditError as exc:
            return KnobsResult(request, False, f"not sent: {exc}", None, flags)
    if session.readonly:
        result = KnobsResult(
            request, False, "read-only connection: balloon-tui does not write", None, flags
        )
    elif conn is None:
        result = KnobsResult(request, False, f"{session.uri} is disconnected", None, flags)
    else:
        result = _write(session, conn, request, flags)
    if audit is not None and attempt_id is not None:
        try:
            audit.knobs_result(attempt_id, result)
        except AuditError as exc:
            result = KnobsResult(
                request, result.ok, f"{result.message}; but {exc}", result.error_code, flags
            )
    return result


def _write(
    session: HostSession, conn: libvirt.virConnect, request: KnobsRequest, flags: int
) -> KnobsResult:
    done: list[str] = []
    try:
        config_period = request.config.stats_period if request.config is not None else None
        for period in (request.live_period, config_period):
            problem = period_problem(period) if period is not None else None
            if problem is not None:
                raise _Refused(problem)
        if not flags:
            raise _Refused("nothing to change")
        dom = conn.lookupByUUIDString(request.uuid)
        if request.config is not None:
            _write_config(conn, dom, request, request.config)
            done.append("config: next boot")
        if request.live_period is not None:
            if not DomainState.from_code(int(dom.info()[0])).is_active:
                raise _Refused(f"{request.name} is not running: no live stats period to set")
            dom.setMemoryStatsPeriod(request.live_period, LIVE)
            done.append("live")
    except _Refused as exc:
        return _failed(session, request, str(exc), None, flags, done)
    except libvirt.libvirtError as exc:
        message = describe(exc)
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            message = _gone(session, request.name)
        return _failed(session, request, message, code_of(exc), flags, done)
    session.mark_changed(request.uuid)  # the poller reads the device facts again
    return KnobsResult(request, True, " + ".join(done), None, flags)


def _failed(
    session: HostSession,
    request: KnobsRequest,
    message: str,
    code: int | None,
    flags: int,
    done: list[str],
) -> KnobsResult:
    if done:  # the config was stored before the live part failed: say so
        session.mark_changed(request.uuid)
        message = f"{' + '.join(done)} stored, but {message}"
    return KnobsResult(request, False, message, code, flags)


def _write_config(
    conn: libvirt.virConnect, dom: libvirt.virDomain, request: KnobsRequest, wanted: BalloonKnobs
) -> None:
    if not dom.isPersistent():
        raise _Refused(
            f"{request.name} is transient: it has no config to keep them in "
            "(libvirt cannot change autodeflate or free page reporting on a running guest)"
        )
    xml_text = dom.XMLDesc(_CONFIG_XML)
    model, now = _device_of(xml_text)
    if model == "none":
        raise _Refused(f"{request.name} has no balloon device in its config")
    if request.previous is not None and now != request.previous:
        raise _Refused(f"its config changed meanwhile (now {knobs_words(now)}): open D again")
    if now == wanted:
        return
    try:
        edited = with_knobs(xml_text, wanted)
    except MemballoonXmlError as exc:
        raise _Refused(str(exc)) from None
    conn.defineXML(edited)
    kept = _device_of(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))[1]
    if kept != wanted:
        raise _Refused(f"libvirt kept {knobs_words(kept)} in the config, not what was asked")
