"""`--once` with virtio-mem devices: the table's mark and the JSON's `virtio_mem` list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nodefiles import GIB, MIB, SHUTOFF, DomainSpec, VirtioMem, write_node_file

from balloon_tui.cli import main
from balloon_tui.core.model import DomainSnapshot, DomainState, MemoryDevice
from balloon_tui.report import virtio_mem_cell

SPECS = [
    DomainSpec(
        "elastic",
        max_kib=4 * GIB,
        current_kib=GIB,
        stats_period=2,
        virtio_mem=(VirtioMem(2 * GIB), VirtioMem(GIB, 4 * MIB, 0, "ua-two", node=0)),
    ),
    DomainSpec("plain", max_kib=2 * GIB, current_kib=GIB),
    DomainSpec(
        "sleeping",
        max_kib=3 * GIB,
        runstate=SHUTOFF,
        virtio_mem=(VirtioMem(GIB, requested_kib=512 * MIB, alias=None),),
    ),
]


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real ~/.local/state audit log."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return write_node_file(tmp_path / "vmem.xml", SPECS)


def test_json_lists_each_device_as_the_issue_names_it(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", uri, "--once", "--json"]) == 0
    (host,) = json.loads(capsys.readouterr().out)["hosts"]
    domains = {d["name"]: d for d in host["domains"]}
    assert domains["elastic"]["virtio_mem"] == [
        {
            "alias": "ua-vmem0",
            "node": 0,
            "block_kib": 2 * MIB,
            "size_kib": 2 * GIB,
            "requested_kib": 0,
            "current_kib": 0,
        },
        {
            "alias": "ua-two",
            "node": 0,
            "block_kib": 4 * MIB,
            "size_kib": GIB,
            "requested_kib": 0,
            "current_kib": 0,
        },
    ]
    assert "memory_devices" not in domains["elastic"]  # one name for one list
    assert domains["elastic"]["maximum_kib"] == 4 * GIB  # boot 1 GiB + both devices whole
    assert domains["elastic"]["derived"]["balloon_ceiling_kib"] == GIB  # nothing plugged
    assert domains["plain"]["virtio_mem"] == []
    assert domains["plain"]["derived"]["balloon_ceiling_kib"] == 2 * GIB
    # A shut-off guest: its config has no `<current>` (null) and no alias here ("")
    (config,) = domains["sleeping"]["virtio_mem"]
    assert config["current_kib"] is None and config["alias"] == ""
    assert config["requested_kib"] == 512 * MIB


def test_the_table_marks_guests_with_devices(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", uri, "--once"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    assert "virtio 2s ⊞ virtio-mem 0 KiB/3.00 GiB" in rows["elastic"]
    assert "⊞" not in rows["plain"]
    assert "⊞ virtio-mem ?/1.00 GiB" in rows["sleeping"]  # nothing known to be plugged


def _guest(*devices: MemoryDevice) -> DomainSnapshot:
    return DomainSnapshot(
        "test:///x", "u", "g", DomainState.RUNNING, 4 * GIB, 2 * GIB, memory_devices=devices
    )


def test_the_cell_says_plugged_of_size_and_whether_one_moves() -> None:
    settled = MemoryDevice("a", 0, 2 * MIB, GIB, 512 * MIB, 512 * MIB)
    moving = MemoryDevice("b", 1, 2 * MIB, GIB, GIB, 256 * MIB)
    assert virtio_mem_cell(_guest(settled)) == "⊞ virtio-mem 512 MiB/1.00 GiB"
    assert virtio_mem_cell(_guest(settled, moving)) == "⊞ virtio-mem 768 MiB/2.00 GiB…"
    unknown = MemoryDevice("", None, 2 * MIB, GIB, GIB, None)
    assert virtio_mem_cell(_guest(settled, unknown)) == "⊞ virtio-mem ?/2.00 GiB"
