"""core/audit.py: one JSON line before and one after every write, or no write at all."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from balloon_tui.core.audit import AuditError, AuditLog, default_audit_path
from balloon_tui.core.display import has_unsafe
from balloon_tui.core.sizes import GIB
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource

REQUEST = TargetRequest(
    host_uri="qemu+ssh://kvm-01/system",
    uuid="5d1b0a7e-0000-4000-8000-000000000001",
    name="web-frontend-01",
    target_kib=2 * GIB,
    mode=ApplyMode.LIVE_PERSIST,
    forced=True,
    previous_kib=3 * GIB,
    source=WriteSource.KEY,
)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_file_and_directory_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "balloon-tui" / "audit.jsonl"
    log = AuditLog(path)
    log.attempt(REQUEST, 3)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "d" / "audit.jsonl"
        AuditLog(path).attempt(REQUEST, 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_attempt_then_result_with_one_id(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    before = time.time()
    attempt_id = log.attempt(REQUEST, 3)
    assert len(lines(path)) == 1  # on disk before libvirt is called
    log.result(attempt_id, WriteResult(REQUEST, True, "live + persist", None, 3))
    attempt, result = lines(path)
    assert attempt["id"] == result["id"] == attempt_id
    assert (attempt["phase"], result["phase"]) == ("attempt", "result")
    for record in (attempt, result):
        assert record["uri"] == "qemu+ssh://kvm-01/system"
        assert record["uuid"] == REQUEST.uuid
        assert record["name"] == "web-frontend-01"
        assert record["previous_kib"] == 3 * GIB
        assert record["target_kib"] == 2 * GIB
        assert record["flags"] == 3
        assert record["forced"] is True
        assert record["mode"] == "live+persist"
        assert record["source"] == "key"
        assert "reason" not in record  # only the regulator's writes have one
        assert record["user"] == log.user and record["user"]
        stamp = time.mktime(time.strptime(str(record["time"])[:19], "%Y-%m-%dT%H:%M:%S"))
        assert before - 2 <= stamp <= time.time() + 2
    assert result["ok"] is True
    assert result["result"] == "ok"
    assert result["error_code"] is None
    assert "ok" not in attempt and "result" not in attempt


def test_a_failed_write_logs_the_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    request = TargetRequest("test:///x.xml", "u", "db", 1, ApplyMode.LIVE, source=WriteSource.TYPED)
    attempt_id = log.attempt(request, 1)
    log.result(attempt_id, WriteResult(request, False, "Requested operation is not valid", 55, 1))
    _, result = lines(path)
    assert result["ok"] is False
    assert result["result"] == "Requested operation is not valid"
    assert result["error_code"] == 55
    assert result["forced"] is False
    assert result["previous_kib"] is None


def test_lines_are_appended_never_truncated(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"earlier": true}\n')
    log = AuditLog(path)
    ids = [log.attempt(REQUEST, 1) for _ in range(3)]
    AuditLog(path).attempt(REQUEST, 2)  # a second run appends too
    records = lines(path)
    assert records[0] == {"earlier": True}
    assert [r["id"] for r in records[1:4]] == ids
    assert len(set(ids)) == 3
    assert records[4]["flags"] == 2


def test_odd_names_stay_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    odd = TargetRequest(
        "test:///x.xml", "u", 'evil\n{"forged": 1}\u2028ünï', GIB, source=WriteSource.SLIDER
    )
    AuditLog(path).attempt(odd, 1)
    text = path.read_text()
    assert text.count("\n") == 1
    assert json.loads(text)["name"] == odd.name


def test_concurrent_writers_do_not_interleave(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)

    def work() -> None:
        for _ in range(25):
            log.result(log.attempt(REQUEST, 1), WriteResult(REQUEST, True, "live", None, 1))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = lines(path)  # every line parses
    assert len(records) == 200
    by_id: dict[object, list[object]] = {}
    for r in records:
        by_id.setdefault(r["id"], []).append(r["phase"])
    assert all(phases == ["attempt", "result"] for phases in by_id.values())


def test_parent_is_a_file_raises_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.jsonl")
    with pytest.raises(AuditError) as info:
        log.attempt(REQUEST, 1)
    assert str(blocker / "audit.jsonl") in str(info.value)
    assert isinstance(info.value, OSError)


def test_path_is_a_directory_raises_audit_error(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    with pytest.raises(AuditError):
        log.attempt(REQUEST, 1)
    with pytest.raises(AuditError):
        log.result("x", WriteResult(REQUEST, True, "live", None, 1))


def test_unwritable_device_raises_audit_error() -> None:
    # Root ignores file modes; /proc refuses new files for everyone.
    log = AuditLog("/proc/balloon-tui-audit.jsonl")
    with pytest.raises(AuditError):
        log.attempt(REQUEST, 1)


def test_default_path_follows_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_audit_path() == tmp_path / "balloon-tui" / "audit.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_audit_path() == tmp_path / "home" / ".local" / "state" / "balloon-tui" / (
        "audit.jsonl"
    )


# -- the session line: the log proved writable at start ----------------------------------------
def test_a_session_starts_with_a_line_saying_who_and_what(tmp_path: Path) -> None:
    path = tmp_path / "state" / "audit.jsonl"
    AuditLog(path).session_start(["qemu:///system", "test:///default"], "9.9.9")
    [record] = lines(path)
    assert record["action"] == "session" and record["phase"] == "start"
    assert record["uris"] == ["qemu:///system", "test:///default"]
    assert record["version"] == "9.9.9" and record["pid"] == os.getpid()
    assert record["user"] and record["time"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("where", "reason"),
    [("directory", "Is a directory"), ("/proc/1/x", ""), ("/dev/full", "No space left")],
)
def test_an_unwritable_log_is_found_by_the_session_line(
    tmp_path: Path, where: str, reason: str
) -> None:
    path = tmp_path if where == "directory" else Path(where)
    with pytest.raises(AuditError) as info:
        AuditLog(path).session_start(["test:///default"], "0")
    assert str(path) in str(info.value) and reason in str(info.value)


def test_a_log_on_a_device_without_sync_is_still_written() -> None:
    # /dev/null takes the line but cannot fsync (EINVAL): written, nothing to make durable.
    AuditLog("/dev/null").session_start(["test:///default"], "0")


def test_controls_and_bidi_in_a_name_are_escaped_in_the_file(tmp_path: Path) -> None:
    name = "evil\x9b31m\u202ename\u2028ünï 名前\x1b\ud800"
    path = tmp_path / "audit.jsonl"
    AuditLog(path).attempt(dataclasses.replace(REQUEST, name=name), 1)
    raw = path.read_bytes().decode("utf-8")
    assert not has_unsafe(raw.rstrip("\n"))
    assert "ünï 名前" in raw  # ordinary text stays readable
    assert "\\u009b" in raw and "\\u202e" in raw and "\\u2028" in raw
    [record] = lines(path)
    assert record["name"] == name  # the exact string, for whoever reads the JSON


@pytest.mark.parametrize("source", list(WriteSource))
def test_every_source_is_written_with_its_reason(tmp_path: Path, source: WriteSource) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    reason = "shrink to 2.0G: 1.8G idle for 10 min" if source.needs_reason else None
    request = dataclasses.replace(REQUEST, source=source, reason=reason)
    log.result(log.attempt(request, 1), WriteResult(request, True, "live", None, 1))
    for record in lines(path):
        assert record["source"] == source.value
        assert record.get("reason") == reason


def test_an_operator_write_may_carry_a_reason_too(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    request = dataclasses.replace(REQUEST, source=WriteSource.TYPED, reason="ticket 4711")
    AuditLog(path).attempt(request, 1)
    [record] = lines(path)
    assert (record["source"], record["reason"]) == ("typed", "ticket 4711")


@pytest.mark.parametrize("source", [WriteSource.PROPOSAL, WriteSource.AUTOPILOT])
@pytest.mark.parametrize("reason", [None, ""])
def test_the_regulator_cannot_write_without_a_reason(
    source: WriteSource, reason: str | None
) -> None:
    with pytest.raises(ValueError, match="needs its reason"):
        dataclasses.replace(REQUEST, source=source, reason=reason)


def test_the_audit_sources_are_a_closed_set_of_plain_words() -> None:
    assert [s.value for s in WriteSource] == [
        "key",
        "slider",
        "typed",
        "undo",
        "floor",
        "maximum",
        "proposal",
        "autopilot",
        "arm-stats",
    ]


@pytest.mark.parametrize(("automatic", "source"), [(False, "key"), (True, "arm-stats")])
def test_stats_period_lines_say_who_armed(tmp_path: Path, automatic: bool, source: str) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    request = StatsPeriodRequest("test:///x.xml", "u", "db", 2, automatic=automatic)
    log.stats_result(log.stats_attempt(request, 1), StatsPeriodResult(request, True, "ok"), 1)
    assert [(r["action"], r["phase"], r["source"]) for r in lines(path)] == [
        ("stats-period", "attempt", source),
        ("stats-period", "result", source),
    ]
