"""The balloon device's settings (D) on libvirt's test driver: read live and from the config;
autodeflate, free page reporting and the stats period stored in the config (defineXML of the
edited config, read back), the period also live; refused and audited where they cannot go."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from nodefiles import GIB, SHUTOFF, DomainSpec, uuid_for

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.balloonknobs import BalloonKnobs, KnobsLook, KnobsQuery, KnobsRequest
from balloon_tui.virt import domainxml
from balloon_tui.virt.balloon_settings import read_knobs, write_knobs
from balloon_tui.virt.session import HostSession

SPECS = [
    DomainSpec("guest", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2),
    DomainSpec("off", max_kib=4 * GIB, runstate=SHUTOFF, autodeflate=True),
    DomainSpec("bare", balloon="none"),
]
GUEST, OFF, BARE = uuid_for(1), uuid_for(2), uuid_for(3)
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
Sessions = Callable[..., HostSession]


def look(session: HostSession, uuid: str, name: str) -> KnobsLook:
    return session.locked(lambda s, c: read_knobs(s, c, KnobsQuery(s.uri, uuid, name)))


def device(session: HostSession, uuid: str, flags: int) -> BalloonKnobs:
    xml = session.connection().lookupByUUIDString(uuid).XMLDesc(flags)
    return BalloonKnobs.of(domainxml.balloon_device(domainxml.parse(xml)))


def audit_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_reading_gives_the_config_and_what_runs(node: Callable[..., str], sessions: Sessions):
    session = sessions(node(SPECS))
    guest = look(session, GUEST, "guest")
    assert guest.ok and guest.model == "virtio"
    assert guest.config == guest.live == BalloonKnobs(False, False, 2)
    off = look(session, OFF, "off")
    assert off.ok and off.live is None and off.config == BalloonKnobs(True, False, 0)
    bare = look(session, BARE, "bare")
    assert not bare.ok and bare.message == "bare has no balloon device"


def test_a_running_guest_gets_all_three_in_its_config_and_the_period_live(
    node: Callable[..., str], sessions: Sessions, tmp_path: Path
):
    audit = AuditLog(tmp_path / "audit.jsonl")
    session = sessions(node(SPECS), audit=audit)
    old = BalloonKnobs(False, False, 2)
    wanted = BalloonKnobs(True, True, 7)
    request = KnobsRequest(session.uri, GUEST, "guest", wanted, old, 5, 2)
    result = session.locked(lambda s, c: write_knobs(s, c, request))
    assert result.ok, result.message
    assert result.summary == "guest: balloon settings stored (config: next boot + live)"
    assert device(session, GUEST, INACTIVE) == wanted
    # What runs keeps its device (autodeflate cannot change live); the period moved now.
    assert device(session, GUEST, 0) == BalloonKnobs(False, False, 5)
    attempt, outcome = audit_lines(tmp_path / "audit.jsonl")
    assert attempt["action"] == outcome["action"] == "balloon-settings"
    assert (attempt["phase"], outcome["phase"], outcome["ok"]) == ("attempt", "result", True)
    assert attempt["config"] == {
        "autodeflate": True,
        "free_page_reporting": True,
        "stats_period": 7,
    }
    assert attempt["previous"] == {
        "autodeflate": False,
        "free_page_reporting": False,
        "stats_period": 2,
    }
    assert (attempt["live_period"], attempt["previous_live_period"]) == (5, 2)
    assert (attempt["source"], attempt["name"], attempt["uuid"]) == ("typed", "guest", GUEST)
    assert attempt["flags"] == libvirt.VIR_DOMAIN_AFFECT_CONFIG | libvirt.VIR_DOMAIN_AFFECT_LIVE


def test_turning_off_and_no_period_leave_a_plain_device(
    node: Callable[..., str], sessions: Sessions
):
    session = sessions(node(SPECS))
    old = BalloonKnobs(True, False, 0)
    request = KnobsRequest(session.uri, OFF, "off", BalloonKnobs(False, False, 0), old)
    assert session.locked(lambda s, c: write_knobs(s, c, request)).ok
    xml = session.connection().lookupByUUIDString(OFF).XMLDesc(INACTIVE)
    assert "autodeflate='off'" in xml.replace('"', "'") and "<stats" not in xml
    assert device(session, OFF, INACTIVE) == BalloonKnobs()


def test_a_config_changed_meanwhile_is_not_overwritten(
    node: Callable[..., str], sessions: Sessions, tmp_path: Path
):
    audit = AuditLog(tmp_path / "audit.jsonl")
    session = sessions(node(SPECS), audit=audit)
    seen = BalloonKnobs(False, False, 0)  # not what the config says (autodeflate on)
    request = KnobsRequest(session.uri, OFF, "off", BalloonKnobs(False, True, 0), seen)
    result = session.locked(lambda s, c: write_knobs(s, c, request))
    assert not result.ok
    assert "its config changed meanwhile (now autodeflate on" in result.message
    assert device(session, OFF, INACTIVE) == BalloonKnobs(True, False, 0)
    assert [line["ok"] for line in audit_lines(tmp_path / "audit.jsonl")[1:]] == [False]


def test_a_transient_guest_has_no_config_but_its_period_moves_live(
    node: Callable[..., str], sessions: Sessions
):
    session = sessions(node(SPECS))
    conn = session.connection()
    xml = conn.lookupByUUIDString(OFF).XMLDesc(INACTIVE)
    conn.lookupByUUIDString(OFF).undefine()
    conn.createXML(xml, 0)  # running, transient
    seen = look(session, OFF, "off")
    assert seen.ok and seen.config is None and seen.live == BalloonKnobs(True, False, 0)
    config = KnobsRequest(session.uri, OFF, "off", BalloonKnobs(False, True, 0), seen.live)
    refused = session.locked(lambda s, c: write_knobs(s, c, config))
    assert not refused.ok and "off is transient: it has no config" in refused.message
    live = KnobsRequest(session.uri, OFF, "off", None, None, 3, 0)
    assert session.locked(lambda s, c: write_knobs(s, c, live)).ok
    assert device(session, OFF, 0).stats_period == 3


def test_read_only_and_vanished_guests_are_refused_and_audited(
    node: Callable[..., str], sessions: Sessions, tmp_path: Path
):
    uri = node(SPECS)
    audit = AuditLog(tmp_path / "audit.jsonl")
    readonly = sessions(uri, readonly=True, audit=audit)
    request = KnobsRequest(readonly.uri, GUEST, "guest", BalloonKnobs(True), BalloonKnobs())
    result = readonly.locked(lambda s, c: write_knobs(s, c, request))
    assert (result.ok, result.message) == (
        False,
        "read-only connection: balloon-tui does not write",
    )
    session = sessions(uri, audit=audit)
    session.connection().lookupByUUIDString(OFF).undefine()
    gone = KnobsRequest(session.uri, OFF, "off", BalloonKnobs(), BalloonKnobs(True))
    result = session.locked(lambda s, c: write_knobs(s, c, gone))
    assert not result.ok and result.message == f"off no longer exists on {session.uri}"
    assert result.error_code == libvirt.VIR_ERR_NO_DOMAIN
    assert look(session, OFF, "off").message == f"off no longer exists on {session.uri}"
    lines = audit_lines(tmp_path / "audit.jsonl")
    assert [(line["phase"], line.get("ok")) for line in lines] == [
        ("attempt", None),
        ("result", False),
        ("attempt", None),
        ("result", False),
    ]


@pytest.mark.parametrize("period", [-1, 3601, True])
def test_an_impossible_period_is_refused(
    node: Callable[..., str], sessions: Sessions, period: object
):
    session = sessions(node(SPECS))
    request = KnobsRequest(session.uri, GUEST, "guest", None, None, period, 2)  # type: ignore[arg-type]
    result = session.locked(lambda s, c: write_knobs(s, c, request))
    assert not result.ok and "the stats period must be" in result.message
    assert device(session, GUEST, 0).stats_period == 2
