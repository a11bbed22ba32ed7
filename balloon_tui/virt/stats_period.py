"""Arming guest stats: a live `setMemoryStatsPeriod`, checked first and audited like a write."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libvirt

from balloon_tui.core.audit import AuditError
from balloon_tui.core.model import DomainState
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult, check_period
from balloon_tui.virt.errors import code_of, describe

if TYPE_CHECKING:
    from balloon_tui.virt.session import HostSession

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE

_NOT_SUPPORTED = (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)


def arm_stats(
    session: HostSession, conn: libvirt.virConnect | None, request: StatsPeriodRequest
) -> StatsPeriodResult:
    """Never raises. Refusals before libvirt are audited too (one attempt, one result)."""
    problem = _check(session, conn, request)
    audit = session.audit
    if problem is not None:
        result = StatsPeriodResult(request, False, problem)
        if audit is not None:
            try:
                audit.stats_result(audit.stats_attempt(request, LIVE), result, LIVE)
            except AuditError as exc:
                return StatsPeriodResult(request, False, f"{problem}; and {exc}")
        return result
    assert conn is not None
    attempt_id = None
    if audit is not None:
        try:
            attempt_id = audit.stats_attempt(request, LIVE)
        except AuditError as exc:
            return StatsPeriodResult(request, False, f"not sent: {exc}")
    result = _send(session, conn, request)
    if audit is not None and attempt_id is not None:
        try:
            audit.stats_result(attempt_id, result, LIVE)
        except AuditError as exc:
            result = StatsPeriodResult(
                request, result.ok, f"{result.message}; but {exc}", result.error_code
            )
    return result


def _check(
    session: HostSession, conn: libvirt.virConnect | None, request: StatsPeriodRequest
) -> str | None:
    if session.readonly:
        return "read-only connection: balloon-tui does not write"
    if conn is None:
        return f"{session.uri} is disconnected"
    bad_period = check_period(request.period)
    if bad_period is not None:
        return bad_period
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        state = DomainState.from_code(int(dom.info()[0]))
        device = session.device(dom, request.uuid, state)
    except libvirt.libvirtError as exc:
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            return f"{request.name} no longer exists on {session.uri}"
        return describe(exc)
    if not device.present:
        return f"{request.name} has no balloon device: there are no guest stats to arm"
    if not state.is_active or state is DomainState.CRASHED:
        return f"{request.name} is {state.word}: a stats period is set on a running guest"
    return None


def _send(
    session: HostSession, conn: libvirt.virConnect, request: StatsPeriodRequest
) -> StatsPeriodResult:
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        dom.setMemoryStatsPeriod(request.period, LIVE)
    except libvirt.libvirtError as exc:
        code = code_of(exc)
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            message = f"{request.name} no longer exists on {session.uri}"
        elif code in _NOT_SUPPORTED:
            message = (
                f"this hypervisor driver cannot set a stats period ({describe(exc)}); "
                "set <memballoon><stats period='N'/></memballoon> in the domain XML instead"
            )
        else:
            message = describe(exc)
        return StatsPeriodResult(request, False, message, code)
    except AttributeError:  # pragma: no cover - bindings without the call (libvirt < 1.1.1)
        return StatsPeriodResult(request, False, "these libvirt bindings cannot set a stats period")
    session.mark_changed(request.uuid)  # the device facts (stats period) are read again
    return StatsPeriodResult(request, True, f"every {request.period} s")
