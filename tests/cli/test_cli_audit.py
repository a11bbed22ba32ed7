"""An audit log that cannot be written is found at start (one line, exit 2), not at the first
write; --readonly and --once never write, so they do not need one."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from program import run_program

from balloon_tui import __version__, cli
from balloon_tui.cli import demo_uri
from balloon_tui.tui.app import BalloonApp


@pytest.mark.parametrize(
    ("where", "reason"),
    [("directory", "Is a directory"), ("/proc/1/x", "/proc/1/x"), ("/dev/full", "No space left")],
)
def test_an_unwritable_audit_log_stops_the_program_at_start(
    tmp_path: Path, where: str, reason: str
) -> None:
    path = str(tmp_path) if where == "directory" else where
    # No terminal: had the check not stopped it, the app would have started and failed.
    proc = run_program(["--demo", "--audit-log", path], tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"balloon-tui: cannot write the audit log {path}: ")
    assert reason in lines[0] and "--readonly" in lines[0]
    assert proc.stdout == ""


@pytest.fixture
def no_ui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[BalloonApp]]:
    """cli.main builds the app as usual; `run` only records that it was asked to run."""
    runs: list[BalloonApp] = []

    def run(self: BalloonApp, **_options: Any) -> None:
        runs.append(self)
        self.main._fleet_factory.__self__.stop()  # type: ignore[attr-defined]

    monkeypatch.setattr(BalloonApp, "run", run)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    saved = {s: signal.getsignal(s) for s in cli.EXIT_SIGNALS}
    yield runs
    assert {s: signal.getsignal(s) for s in cli.EXIT_SIGNALS} == saved  # put back


def test_readonly_needs_no_audit_log(no_ui: list[BalloonApp]) -> None:
    assert cli.main(["--demo", "--readonly", "--audit-log", "/dev/full"]) == 0
    assert len(no_ui) == 1


def test_a_session_that_may_write_starts_its_audit_log(
    no_ui: list[BalloonApp], tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    assert cli.main(["--demo", "--audit-log", str(path)]) == 0
    assert len(no_ui) == 1
    [record] = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["action"] == "session" and record["phase"] == "start"
    assert record["uris"] == [demo_uri()] and record["version"] == __version__


def test_once_writes_no_audit_log(tmp_path: Path) -> None:
    proc = run_program(["--demo", "--once", "--audit-log", "/dev/full"], tmp_path)
    assert proc.returncode == 0, proc.stderr
