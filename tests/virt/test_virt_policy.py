"""A guest's regulator policy in its metadata: read with the XML, checked as foreign input,
stored (audited) live and in the config of a persistent guest, next to the remembered target
without either overwriting the other. On libvirt's test driver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from nodefiles import GIB, SHUTOFF, DomainSpec, add_metadata, uuid_for

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult
from balloon_tui.core.model import (
    DEFAULT_GUEST_POLICY,
    DomainSnapshot,
    GuestPolicy,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteSource
from balloon_tui.virt import domainxml, metadata
from balloon_tui.virt.fleet import Fleet
from balloon_tui.virt.metadata import POLICY_NAMESPACE
from balloon_tui.virt.session import HostSession

SPECS = [
    DomainSpec("guest", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2),
    DomainSpec("off", max_kib=4 * GIB, current_kib=3 * GIB, runstate=SHUTOFF),
]
GUEST, OFF = uuid_for(1), uuid_for(2)
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
Sessions = Callable[..., HostSession]


def policy_xml(**attributes: object) -> str:
    text = " ".join(f"{k.replace('_', '-')}='{v}'" for k, v in attributes.items())
    return f"<p:policy xmlns:p='{POLICY_NAMESPACE}' {text}/>"


def domain(session: HostSession, name: str) -> DomainSnapshot:
    return next(d for d in session.poll().domains if d.name == name)


def request(session: HostSession, uuid: str, name: str, policy: GuestPolicy) -> PolicyRequest:
    return PolicyRequest(session.uri, uuid, name, policy, DEFAULT_GUEST_POLICY)


def xml_policy(session: HostSession, uuid: str, flags: int = 0) -> tuple[object, ...]:
    root = domainxml.parse(session.connection().lookupByUUIDString(uuid).XMLDesc(flags))
    return metadata.policies(root)


def test_no_policy_is_the_defaults_without_a_note(node: Callable[..., str], sessions: Sessions):
    d = domain(sessions(node(SPECS)), "guest")
    assert (d.policy, d.policy_note) == (DEFAULT_GUEST_POLICY, None)


@pytest.mark.parametrize("name", ["guest", "off"])
def test_a_policy_that_fits_is_read_for_running_and_shut_off_guests(
    node: Callable[..., str], sessions: Sessions, name: str
):
    xml = policy_xml(min_kib=GIB, max_kib=3 * GIB, shares=250, by="someone", at=1)
    d = domain(sessions(add_metadata(node(SPECS), name, xml)), name)
    assert (d.policy, d.policy_note) == (GuestPolicy(GIB, 3 * GIB, 250), None)


@pytest.mark.parametrize(
    ("elements", "note"),
    [
        ((policy_xml(shares="lots"),), "shares 'lots' is not a whole number"),
        ((policy_xml(max_kib=8 * GIB),), "max 8.00 GiB is above the maximum 4.00 GiB"),
        ((policy_xml(min_kib=3 * GIB, max_kib=GIB),), "min 3.00 GiB is above max 1.00 GiB"),
        ((f"<p:rules xmlns:p='{POLICY_NAMESPACE}'/>",), "not a <policy …/> element"),
    ],
    ids=["word", "above-maximum", "min-above-max", "other-element"],
)
def test_a_policy_that_does_not_fit_is_ignored_with_a_note(
    node: Callable[..., str], sessions: Sessions, elements: tuple[str, ...], note: str
):
    d = domain(sessions(add_metadata(node(SPECS), "guest", *elements)), "guest")
    assert d.policy == DEFAULT_GUEST_POLICY
    assert d.policy_note is not None and note in d.policy_note


def test_a_stored_policy_is_live_and_in_the_config_and_audited(
    node: Callable[..., str], sessions: Sessions, tmp_path: Path
):
    path = tmp_path / "audit.jsonl"
    session = sessions(node(SPECS), audit=AuditLog(path))
    assert domain(session, "guest").policy == DEFAULT_GUEST_POLICY  # XML read, domain cached
    wanted = GuestPolicy(GIB, 2 * GIB, 0)
    result = session.set_policy(request(session, GUEST, "guest", wanted))
    assert (result.ok, result.message, result.flags) == (True, "live + config", LIVE | CONFIG)
    assert domain(session, "guest").policy == wanted  # read back from the XML
    stored = {"min-kib": str(GIB), "max-kib": str(2 * GIB), "shares": "0"}
    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE):
        [attributes] = xml_policy(session, GUEST, flags)
        assert isinstance(attributes, dict) and stored.items() <= attributes.items()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["action"], r["phase"], r["source"]) for r in lines] == [
        ("policy", "attempt", "typed"),
        ("policy", "result", "typed"),
    ]
    assert (lines[1]["min_kib"], lines[1]["max_kib"], lines[1]["shares"]) == (GIB, 2 * GIB, 0)
    assert lines[1]["previous"] == {"min_kib": None, "max_kib": None, "shares": 1000}
    assert lines[1]["ok"] is True and lines[1]["flags"] == LIVE | CONFIG


def test_a_shut_off_guest_keeps_its_policy_in_its_config(
    node: Callable[..., str], sessions: Sessions
):
    session = sessions(node(SPECS))
    result = session.set_policy(request(session, OFF, "off", GuestPolicy(shares=5)))
    assert (result.ok, result.flags) == (True, CONFIG)
    assert domain(session, "off").policy == GuestPolicy(shares=5)


def test_a_transient_guest_keeps_its_policy_live_only(node: Callable[..., str], sessions: Sessions):
    session = sessions(node(SPECS))
    conn = session.connection()
    xml = conn.lookupByName("guest").XMLDesc(0)
    conn.lookupByName("guest").undefine()  # running, no config left: transient
    assert not conn.lookupByUUIDString(GUEST).isPersistent(), xml
    result = session.set_policy(request(session, GUEST, "guest", GuestPolicy(shares=9)))
    assert (result.ok, result.flags) == (True, LIVE)
    assert domain(session, "guest").policy == GuestPolicy(shares=9)


def test_target_and_policy_never_overwrite_each_other(node: Callable[..., str], sessions: Sessions):
    session = sessions(node(SPECS))
    policy = GuestPolicy(GIB, None, 300)
    assert session.set_policy(request(session, GUEST, "guest", policy)).ok
    target = TargetRequest(
        session.uri, GUEST, "guest", 2 * GIB, ApplyMode.LIVE, source=WriteSource.KEY
    )
    assert session.set_target(target).ok
    root = domainxml.parse(session.connection().lookupByUUIDString(GUEST).XMLDesc(0))
    assert metadata.remembered(root) == (str(2 * GIB),)
    assert metadata.checked_policy(root).policy == policy
    assert session.set_policy(request(session, GUEST, "guest", GuestPolicy(shares=1))).ok
    root = domainxml.parse(session.connection().lookupByUUIDString(GUEST).XMLDesc(0))
    assert metadata.remembered(root) == (str(2 * GIB),)
    assert metadata.checked_policy(root).policy == GuestPolicy(shares=1)
    d = domain(session, "guest")
    assert (d.target_kib, d.policy) == (2 * GIB, GuestPolicy(shares=1))


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (GuestPolicy(shares=100_001), "shares must be 0 to 100000"),
        (GuestPolicy(max_kib=8 * GIB), "above the maximum"),
        (GuestPolicy(min_kib=2 * GIB, max_kib=GIB), "is above max"),
    ],
)
def test_a_policy_no_guest_can_have_is_refused_audited_and_not_written(
    node: Callable[..., str],
    sessions: Sessions,
    tmp_path: Path,
    policy: GuestPolicy,
    problem: str,
):
    path = tmp_path / "audit.jsonl"
    session = sessions(node(SPECS), audit=AuditLog(path))
    result = session.set_policy(request(session, GUEST, "guest", policy))
    assert not result.ok and problem in result.message
    assert xml_policy(session, GUEST) == ()
    attempt, refused = (json.loads(line) for line in path.read_text().splitlines())
    assert (attempt["phase"], refused["phase"], refused["ok"]) == ("attempt", "result", False)
    assert problem in refused["result"]


def test_read_only_and_gone_guests_are_refused(
    node: Callable[..., str], sessions: Sessions, tmp_path: Path
):
    path = tmp_path / "audit.jsonl"
    readonly = sessions(node(SPECS), readonly=True, audit=AuditLog(path))
    result = readonly.set_policy(request(readonly, GUEST, "guest", GuestPolicy(shares=1)))
    assert not result.ok and "read-only" in result.message
    assert [json.loads(line)["phase"] for line in path.read_text().splitlines()] == [
        "attempt",
        "result",
    ]
    session = sessions(node(SPECS))
    gone = session.set_policy(request(session, uuid_for(9), "ghost", GuestPolicy()))
    assert not gone.ok and gone.message == f"ghost no longer exists on {session.uri}"


def test_the_fleet_stores_a_policy_on_the_writer_thread_and_polls_it_back(
    node: Callable[..., str],
):
    uri = node(SPECS)
    seen: list[HostSnapshot] = []
    fleet = Fleet([uri], interval=60, on_snapshot=seen.append)
    fleet.start()
    try:
        wait_for(lambda: any(s.status is HostStatus.OK for s in list(seen)), "a snapshot")
        results: list[tuple[PolicyResult, str]] = []
        policy = GuestPolicy(GIB, 3 * GIB, 42)
        fleet.set_policy(
            PolicyRequest(uri, GUEST, "guest", policy),
            lambda r: results.append((r, threading.current_thread().name)),
        )
        wait_for(lambda: bool(results), "the result")
        [(result, thread)] = results
        assert result.ok and thread == f"write {uri}"
        wait_for(
            lambda: any(d.policy == policy for s in list(seen) for d in s.domains),
            "the policy polled back",
        )
        unknown: list[PolicyResult] = []
        fleet.set_policy(PolicyRequest("test:///nowhere", "u", "x", policy), unknown.append)
        assert not unknown[0].ok and "unknown host" in unknown[0].message
    finally:
        fleet.stop()


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 5
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
