"""virt side of "safety and resilience": arming guest stats (setMemoryStatsPeriod, audited,
on the writer thread), credentials (a prompt-less open says it needs them; a skip is not
retried by itself), on test-driver node files."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import libvirt
import pytest
from nodefiles import AUTH_NODE, GIB, SHUTOFF, DomainSpec, uuid_for

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.virt.connection import ConnectError, open_connection
from balloon_tui.virt.fleet import Fleet
from balloon_tui.virt.session import HostSession

SPECS = [
    DomainSpec("quiet", max_kib=2 * GIB, stats_period=0),
    DomainSpec("off", max_kib=2 * GIB, runstate=SHUTOFF),
    DomainSpec("no-balloon", max_kib=GIB, balloon="none"),
]
UUID = {spec.name: uuid_for(i + 1) for i, spec in enumerate(SPECS)}


def arm(session: HostSession, name: str, period: int = 3) -> StatsPeriodResult:
    return session.arm_stats(StatsPeriodRequest(session.uri, UUID[name], name, period))


def test_arming_sets_a_live_period_and_the_stats_appear(
    node: Callable[..., str],
    sessions: Callable[..., HostSession],
    tmp_path: Path,
    periods: list[tuple[str, int, int]],
) -> None:
    audit = tmp_path / "audit.jsonl"
    session = sessions(node(SPECS), audit=AuditLog(audit))
    before = {d.name: d for d in session.poll().domains}["quiet"]
    assert before.device.stats_period == 0 and before.used_kib is None
    result = arm(session, "quiet")
    assert result.ok, result.message
    assert result.summary == "quiet: guest stats armed (every 3 s)"
    assert periods == [("quiet", 3, libvirt.VIR_DOMAIN_AFFECT_LIVE)]
    # The domain was marked changed: its XML (the period) is read again on the next poll.
    after = {d.name: d for d in session.poll().domains}["quiet"]
    assert after.device.stats_period == 3
    assert after.used_kib == GIB  # the test driver's synthetic stats: used = actual / 2
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["phase"], r["action"], r["period"], r["name"]) for r in records] == [
        ("attempt", "stats-period", 3, "quiet"),
        ("result", "stats-period", 3, "quiet"),
    ]
    assert records[1]["ok"] is True and records[0]["id"] == records[1]["id"]


@pytest.mark.parametrize(
    ("name", "period", "words"),
    [
        ("off", 3, ["shut off", "running guest"]),
        ("no-balloon", 3, ["no balloon device"]),
        ("quiet", 0, ["1 to 3600"]),
    ],
)
def test_arming_is_refused_before_libvirt_and_audited(
    node: Callable[..., str],
    sessions: Callable[..., HostSession],
    tmp_path: Path,
    periods: list[tuple[str, int, int]],
    name: str,
    period: int,
    words: list[str],
) -> None:
    audit = tmp_path / "audit.jsonl"
    session = sessions(node(SPECS), audit=AuditLog(audit))
    result = arm(session, name, period)
    assert not result.ok
    for word in words:
        assert word in result.message, (word, result.message)
    assert periods == []
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [r["phase"] for r in records] == ["attempt", "result"]
    assert records[1]["ok"] is False and records[1]["result"] == result.message


def test_read_only_and_vanished(
    node: Callable[..., str],
    sessions: Callable[..., HostSession],
    periods: list[tuple[str, int, int]],
) -> None:
    uri = node(SPECS)
    readonly = sessions(uri, readonly=True)
    result = arm(readonly, "quiet")
    assert not result.ok and "read-only" in result.message
    session = sessions(uri)
    session.connection().lookupByName("quiet").destroy()
    session.connection().lookupByName("quiet").undefine()
    gone = arm(session, "quiet")
    assert not gone.ok and "no longer exists" in gone.message
    session.close()
    closed = arm(session, "quiet")
    assert not closed.ok and "disconnected" in closed.message
    assert periods == []


def test_a_driver_without_stats_periods_says_so(
    node: Callable[..., str],
    sessions: Callable[..., HostSession],
    periods_unsupported: None,
) -> None:
    """The test driver supports it (test above); a driver that does not gets a clear line."""
    session = sessions(node(SPECS))
    result = arm(session, "quiet")
    assert not result.ok and result.error_code == libvirt.VIR_ERR_NO_SUPPORT
    assert "cannot set a stats period" in result.message
    assert "<stats period='N'/>" in result.message


def test_fleet_arms_on_the_hosts_writer_thread(
    node: Callable[..., str],
    periods: list[tuple[str, int, int]],
) -> None:
    uri = node(SPECS)
    seen: list[HostSnapshot] = []
    fleet = Fleet([uri], interval=60, on_snapshot=seen.append)
    fleet.start()
    try:
        deadline = time.monotonic() + 5
        while not any(s.status is HostStatus.OK for s in list(seen)):  # connected
            assert time.monotonic() < deadline, "no snapshot"
            time.sleep(0.01)
        done = threading.Event()
        results: list[tuple[StatsPeriodResult, str]] = []

        def finished(result: StatsPeriodResult) -> None:
            results.append((result, threading.current_thread().name))
            done.set()

        fleet.arm_stats(StatsPeriodRequest(uri, UUID["quiet"], "quiet", 2), finished)
        assert done.wait(5)
        [(result, thread)] = results
        assert result.ok and thread == f"write {uri}"
        # The poller is woken and reads the new period.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            quiet = [d for s in list(seen) for d in s.domains if d.name == "quiet"]
            if quiet and quiet[-1].device.stats_period == 2:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the new stats period was not polled")
        unknown: list[StatsPeriodResult] = []
        fleet.arm_stats(StatsPeriodRequest("test:///nowhere", "u", "x", 2), unknown.append)
        assert not unknown[0].ok and "unknown host" in unknown[0].message
    finally:
        fleet.stop()


# -- credentials ------------------------------------------------------------------------------
@pytest.fixture
def auth_uri(tmp_path: Path) -> str:
    path = tmp_path / "auth.xml"
    path.write_text(AUTH_NODE)
    return f"test://{path}"


def test_without_a_prompt_the_error_says_credentials_are_needed(auth_uri: str) -> None:
    with pytest.raises(ConnectError) as caught:
        open_connection(auth_uri)
    assert caught.value.needs_credentials and not caught.value.cancelled
    assert caught.value.code == libvirt.VIR_ERR_AUTH_FAILED
    assert "needs credentials" in caught.value.reason


def test_a_prompt_gets_libvirts_questions(auth_uri: str) -> None:
    asked: list[list[tuple[int, str]]] = []

    def prompt(uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        asked.append(questions)
        return [
            "admin" if kind == libvirt.VIR_CRED_AUTHNAME else "s3cret" for kind, _text in questions
        ]

    conn = open_connection(auth_uri, prompt=prompt)
    try:
        assert conn.lookupByName("guarded").name() == "guarded"
    finally:
        conn.close()
    assert [[kind for kind, _ in q] for q in asked] == [
        [libvirt.VIR_CRED_AUTHNAME],
        [libvirt.VIR_CRED_PASSPHRASE],
    ]

    def wrong(uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        return ["admin" if kind == libvirt.VIR_CRED_AUTHNAME else "nope" for kind, _ in questions]

    with pytest.raises(ConnectError) as caught:
        open_connection(auth_uri, prompt=wrong)
    assert caught.value.code == libvirt.VIR_ERR_AUTH_FAILED
    assert not caught.value.needs_credentials and not caught.value.cancelled

    def broken(uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        raise RuntimeError("the prompt itself failed")

    with pytest.raises(ConnectError) as caught:
        open_connection(auth_uri, prompt=broken)
    assert caught.value.cancelled  # never into libvirt's C callback


def test_a_skipped_host_is_not_asked_again_until_a_refresh(auth_uri: str) -> None:
    asked = threading.Semaphore(0)
    calls: list[str] = []

    def skip(uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        calls.append(uri)
        asked.release()
        return None

    seen: list[HostSnapshot] = []
    fleet = Fleet([auth_uri], interval=0.1, prompt=skip, on_snapshot=seen.append)
    fleet.start()
    try:
        assert asked.acquire(timeout=5)
        time.sleep(1.2)  # backoff would have tried again after 1 s
        assert len(calls) == 1
        skipped = [s for s in seen if s.status is HostStatus.SKIPPED]
        assert skipped and skipped[-1].error is None  # the status word says it
        assert "authentication skipped" in HostStatus.SKIPPED.word
        fleet.refresh()  # ctrl+r: ask again
        assert asked.acquire(timeout=5)
        assert len(calls) == 2
    finally:
        fleet.stop()
