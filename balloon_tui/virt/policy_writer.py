"""Storing a guest's regulator policy in its metadata: checked first, audited, one result.

Live for a running guest (the regulator reads it now), and in the config of a persistent
guest (it outlives a restart); a shut-off guest has only its config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libvirt

from balloon_tui.core.audit import AuditError
from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult, policy_problem
from balloon_tui.virt import metadata
from balloon_tui.virt.errors import code_of, describe

if TYPE_CHECKING:
    from balloon_tui.virt.session import HostSession

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


def write_policy(
    session: HostSession, conn: libvirt.virConnect | None, request: PolicyRequest
) -> PolicyResult:
    """Never raises: every outcome is a PolicyResult, and every attempt is audited."""
    problem, flags, dom = _check(session, conn, request)
    audit = session.audit
    attempt_id = None
    if audit is not None:
        try:
            attempt_id = audit.policy_attempt(request, flags)
        except AuditError as exc:
            return PolicyResult(request, False, f"not sent: {exc}", None, flags)
    if problem is not None or dom is None:
        result = PolicyResult(request, False, problem or "not written", None, flags)
    else:
        result = _send(session, dom, request, flags)
    if audit is not None and attempt_id is not None:
        try:
            audit.policy_result(attempt_id, result)
        except AuditError as exc:
            result = PolicyResult(
                request, result.ok, f"{result.message}; but {exc}", result.error_code, flags
            )
    return result


def _check(
    session: HostSession, conn: libvirt.virConnect | None, request: PolicyRequest
) -> tuple[str | None, int, libvirt.virDomain | None]:
    """What libvirt would refuse, and what no guest can have; the flags the write takes."""
    if session.readonly:
        return "read-only connection: balloon-tui does not write", 0, None
    if conn is None:
        return f"{session.uri} is disconnected", 0, None
    try:
        dom = conn.lookupByUUIDString(request.uuid)
        maximum = int(dom.info()[1])
        flags = (LIVE if dom.isActive() else 0) | (CONFIG if dom.isPersistent() else 0)
    except libvirt.libvirtError as exc:
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            return f"{request.name} no longer exists on {session.uri}", 0, None
        return describe(exc), 0, None
    problem = policy_problem(request.policy, maximum)
    if problem is not None:
        return problem, flags, None
    if not flags:
        return f"{request.name} is neither running nor defined: nowhere to keep it", 0, None
    return None, flags, dom


def _send(
    session: HostSession, dom: libvirt.virDomain, request: PolicyRequest, flags: int
) -> PolicyResult:
    user = session.audit.user if session.audit is not None else "balloon-tui"
    try:
        try:
            metadata.write_policy(dom, request.policy, user, flags)
        except libvirt.libvirtError as exc:
            if flags != LIVE | CONFIG or code_of(exc) != libvirt.VIR_ERR_INVALID_ARG:
                raise
            # A driver that calls LIVE|CONFIG "mutually exclusive": two calls do it.
            metadata.write_policy(dom, request.policy, user, LIVE)
            metadata.write_policy(dom, request.policy, user, CONFIG)
    except libvirt.libvirtError as exc:
        message = describe(exc)
        if code_of(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            message = f"{request.name} no longer exists on {session.uri}"
        return PolicyResult(request, False, message, code_of(exc), flags)
    session.mark_changed(request.uuid)  # read back from the XML, like anyone else's
    where = {LIVE: "live", CONFIG: "config", LIVE | CONFIG: "live + config"}[flags]
    return PolicyResult(request, True, where, None, flags)
