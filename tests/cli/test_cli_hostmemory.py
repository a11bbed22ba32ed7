"""`--once`: each host's own memory and KSM, as JSON (null where the driver says nothing) and
as two lines under the host's table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nodefiles import DomainSpec, write_node_file
from rich.console import Console

from balloon_tui.cli import main
from balloon_tui.core.model import FleetSnapshot, HostSnapshot, HostStatus, KsmState, NodeMemory
from balloon_tui.report import print_table, snapshot_json


def test_the_test_driver_reports_neither_so_both_are_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = write_node_file(tmp_path / "n.xml", [DomainSpec("only")])
    assert main(["-c", uri, "--readonly", "--once", "--json"]) == 0
    (host,) = json.loads(capsys.readouterr().out)["hosts"]
    assert host["node_memory"] is None and host["ksm"] is None
    assert main(["-c", uri, "--readonly", "--once"]) == 0
    out = capsys.readouterr().out
    assert "host memory: unknown (this driver does not report it)" in out
    assert "KSM: unknown (this driver does not report it)" in out


def test_known_values_and_the_saving_in_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    host = HostSnapshot(
        "test:///x",
        HostStatus.OK,
        taken_at=1.0,
        node_memory=NodeMemory(total_kib=4096, free_kib=1024, buffers_kib=None, cached_kib=8),
        ksm=KsmState(pages_shared=1, pages_sharing=3, page_size_kib=4),
    )
    (data,) = json.loads(snapshot_json(FleetSnapshot((host,))))["hosts"]
    assert data["node_memory"] == {
        "total_kib": 4096,
        "free_kib": 1024,
        "buffers_kib": None,
        "cached_kib": 8,
    }
    assert data["ksm"] == {
        "pages_shared": 1,
        "pages_sharing": 3,
        "pages_unshared": None,
        "pages_volatile": None,
        "full_scans": None,
        "page_size_kib": 4,
        "saved_kib": 12,
    }
    print_table(FleetSnapshot((host,)), Console(width=200, highlight=False))
    out = capsys.readouterr().out
    assert "host memory: total 4.00 MiB · free 1.00 MiB · buffers unknown · cached 8 KiB" in out
    assert "KSM: saves 12 KiB · 1 pages shared by 3 more" in out
