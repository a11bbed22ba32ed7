"""Setting a balloon target: checks first, audit before, one result always."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libvirt

from balloon_tui.core.audit import AuditError, AuditLog
from balloon_tui.core.model import DomainState
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult
from balloon_tui.virt import metadata
from balloon_tui.virt.errors import code_of, describe

if TYPE_CHECKING:
    from balloon_tui.virt.session import HostSession

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
_FLAGS = {ApplyMode.LIVE: LIVE, ApplyMode.LIVE_PERSIST: LIVE | CONFIG, ApplyMode.CONFIG: CONFIG}


def flags_for(mode: ApplyMode) -> int:
    return int(_FLAGS[mode])


def write_target(
    session: HostSession, conn: libvirt.virConnect, request: TargetRequest
) -> WriteResult:
    audit = session.audit
    problem, flags = _check(session, conn, request)
    if problem is not None:
        result = WriteResult(request, False, problem, None, flags)
        if audit is not None:
            try:
                audit.result(audit.attempt(request, flags), result)
            except AuditError as exc:
                return WriteResult(request, False, f"{problem}; and {exc}", None, flags)
        return result
    attempt_id = None
    if audit is not None:
        try:
            attempt_id = audit.attempt(request, flags)
        except AuditError as exc:
            return WriteResult(request, False, f"not sent: {exc}", None, flags)
    result = _send(session, conn, request, flags)
    if audit is not None and attempt_id is not None:
        try:
            audit.result(attempt_id, result)
        except AuditError as exc:
            result = WriteResult(
                request, result.ok, f"{result.message}; but {exc}", result.error_code, flags
            )
    return result


def _check(
    session: HostSession, conn: libvirt.virConnect, request: TargetRequest
) -> tuple[str | None, int]:
    """Refuse before any call what libvirt would refuse or get wrong; return the flags."""
    flags = _FLAGS[request.mode]
    if session.readonly:
        return "read-only connection: balloon-tui does not write", flags
    if request.target_kib <= 0:
        return "the target must be more than zero", flags
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        info = dom.info()
        state = DomainState.from_code(int(info[0]))
        maximum = int(info[1])
        device = session.device(dom, request.uuid, state)
    except libvirt.libvirtError as exc:
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            return f"{request.name} no longer exists on {session.uri}", flags
        return describe(exc), flags
    if request.target_kib > maximum:
        return (
            f"{format_compact(request.target_kib)} is above the maximum "
            f"{format_compact(maximum)}; balloon-tui does not change the maximum",
            flags,
        )
    if not device.present:
        return f"{request.name} has no balloon device (memballoon model='none')", flags
    if request.mode.for_state(state) is not request.mode:
        # The app asks a shut-off guest for config only; a live request means it was running
        # when the operator acted. Sent as config instead, the log and the audit would say
        # something else than what was done.
        return (
            f"{request.name} is {state.word} now: nothing written "
            f"({request.mode.label} needs a running guest; set it again for its config)",
            flags,
        )
    return None, flags


def _send(
    session: HostSession, conn: libvirt.virConnect, request: TargetRequest, flags: int
) -> WriteResult:
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        actual_before = int(dom.info()[2])
        if flags == LIVE | CONFIG:
            try:
                dom.setMemoryFlags(request.target_kib, flags)
            except libvirt.libvirtError as exc:
                if code_of(exc) != libvirt.VIR_ERR_INVALID_ARG:
                    raise
                # The test driver calls LIVE|CONFIG "mutually exclusive": two calls do it.
                dom.setMemoryFlags(request.target_kib, LIVE)
                dom.setMemoryFlags(request.target_kib, CONFIG)
        else:
            dom.setMemoryFlags(request.target_kib, flags)
    except libvirt.libvirtError as exc:
        message = describe(exc)
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            message = f"{request.name} no longer exists on {session.uri}"
        return WriteResult(request, False, message, code_of(exc), flags)
    if flags & LIVE:
        session.targets.record(request.key, request.target_kib, actual_before, session.clock())
        user = session.audit.user if session.audit is not None else "balloon-tui"
        metadata.write_target(dom, request.target_kib, user)
    session.on_event()
    where = "config only: applies at next boot" if flags == CONFIG else request.mode.label
    return WriteResult(request, True, where, None, flags)


def refuse(audit: AuditLog | None, request: TargetRequest, message: str) -> WriteResult:
    """A write refused before reaching libvirt: still one attempt and one result in the log."""
    flags = _FLAGS[request.mode]
    result = WriteResult(request, False, message, None, flags)
    if audit is None:
        return result
    try:
        audit.result(audit.attempt(request, flags), result)
    except AuditError as exc:
        return WriteResult(request, False, f"{message}; and {exc}", None, flags)
    return result
