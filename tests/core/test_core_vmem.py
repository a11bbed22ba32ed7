"""core/vmem.py and the device side of writes, audit and undo: requests in whole blocks within
[0, size], the guest's total after an unplug, pending/converging/stalled per device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import Convergence, DomainSnapshot, DomainState, MemoryDevice
from balloon_tui.core.sizes import MIB
from balloon_tui.core.undo import UndoHistory
from balloon_tui.core.vmem import (
    DeviceTracker,
    find_device,
    largest_request,
    round_request,
    total_after,
)
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource

DEV = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 64 * MIB, 64 * MIB)


def _domain(*devices: MemoryDevice, state: DomainState = DomainState.RUNNING) -> DomainSnapshot:
    return DomainSnapshot(
        host_uri="test:///x.xml",
        uuid="00000000-0000-4000-8000-000000000001",
        name="vm",
        state=state,
        maximum_kib=1024 * MIB,
        actual_kib=576 * MIB,  # 512 MiB boot + 64 MiB plugged
        memory_devices=devices,
    )


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        (64 * MIB, 64 * MIB),
        (65 * MIB, 66 * MIB),  # half a block rounds up
        (65 * MIB - 1, 64 * MIB),
        (101 * MIB + 512, 102 * MIB),
        (0, 0),
        (-5 * MIB, 0),
        (10_000 * MIB, 512 * MIB),
        (513 * MIB, 512 * MIB),
    ],
)
def test_requests_round_to_the_block_and_stay_within_zero_and_size(asked: int, sent: int) -> None:
    assert round_request(DEV, asked) == sent


def test_a_size_that_is_not_whole_blocks_caps_at_the_last_whole_block() -> None:
    odd = MemoryDevice("m", None, 2 * MIB, 511 * MIB, 0)
    assert largest_request(odd) == 510 * MIB
    assert round_request(odd, 511 * MIB) == 510 * MIB


def test_an_absurd_block_size_of_zero_does_not_divide_by_zero() -> None:
    weird = MemoryDevice("m", None, 0, 100, 0)
    assert round_request(weird, 57) == 57


def test_the_total_after_an_unplug_drops_by_what_is_unplugged() -> None:
    domain = _domain(DEV)
    assert total_after(domain, DEV, 0) == 512 * MIB
    assert total_after(domain, DEV, 448 * MIB) == 960 * MIB
    # Not plugged yet (current behind requested): the total moves from what is plugged.
    lagging = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 100 * MIB)
    assert total_after(_domain(lagging), lagging, 448 * MIB) == 576 * MIB + 348 * MIB
    assert find_device(domain, "virtiomem0") is DEV
    assert find_device(domain, "virtiomem1") is None


def test_convergence_pending_then_stalled_then_converged() -> None:
    tracker = DeviceTracker(stall_seconds=10)
    asked = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 64 * MIB)
    domain = _domain(asked)
    tracker.observe(domain, 100.0)
    assert tracker.progress(domain, asked, 101.0).state is Convergence.PENDING
    assert "plugging: 384 MiB to go" in tracker.progress(domain, asked, 101.0).message
    moving = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 200 * MIB)
    tracker.observe(_domain(moving), 108.0)
    # It moved at 108: 10 s after that is a stall, not 10 s after the request.
    assert tracker.progress(_domain(moving), moving, 117.0).state is Convergence.PENDING
    stalled = tracker.progress(_domain(moving), moving, 118.5)
    assert stalled.state is Convergence.STALLED and "not plugging" in stalled.message
    there = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 448 * MIB)
    tracker.observe(_domain(there), 119.0)
    assert tracker.progress(_domain(there), there, 500.0).state is Convergence.CONVERGED


def test_convergence_of_an_unplug_that_the_guest_refuses_says_so() -> None:
    tracker = DeviceTracker(stall_seconds=5)
    stuck = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 0, 300 * MIB)
    tracker.observe(_domain(stuck), 0.0)
    progress = tracker.progress(_domain(stuck), stuck, 6.0)
    assert progress.state is Convergence.STALLED
    assert "giving the blocks back" in progress.message


def test_paused_and_shut_off_guests() -> None:
    tracker = DeviceTracker()
    asked = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 64 * MIB)
    paused = _domain(asked, state=DomainState.PAUSED)
    tracker.observe(paused, 0.0)
    assert tracker.progress(paused, asked, 1000.0).state is Convergence.PENDING
    assert "paused" in tracker.progress(paused, asked, 1000.0).message
    config = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, None)
    off = _domain(config, state=DomainState.SHUTOFF)
    assert tracker.progress(off, config, 0.0).state is Convergence.NONE


def test_a_device_request_is_its_own_slot_and_says_what_it_sets() -> None:
    balloon = TargetRequest("u", "id", "vm", 512 * MIB, source=WriteSource.KEY)
    device = TargetRequest("u", "id", "vm", 64 * MIB, source=WriteSource.KEY, device="virtiomem0")
    assert balloon.key == device.key
    assert balloon.slot != device.slot
    assert device.slot == ("u", "id", "virtiomem0")
    assert WriteResult(device, True, "live").summary == "vm: virtiomem0 requested 64.0 MiB (live)"
    assert "virtiomem0 not set to 64.0 MiB: nope" in WriteResult(device, False, "nope").summary


def test_audit_lines_of_a_device_write_name_the_device_and_its_alias(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    request = TargetRequest(
        "u",
        "id",
        "vm",
        64 * MIB,
        ApplyMode.LIVE_PERSIST,
        previous_kib=448 * MIB,
        source=WriteSource.SLIDER,
        device="virtiomem0",
    )
    log.result(log.attempt(request, 3), WriteResult(request, True, "ok", flags=3))
    balloon = TargetRequest("u", "id", "vm", 64 * MIB, source=WriteSource.KEY)
    log.attempt(balloon, 1)
    attempt, result, plain = (json.loads(line) for line in path.read_text().splitlines())
    for line in (attempt, result):
        assert line["device"] == "virtio-mem" and line["alias"] == "virtiomem0"
        assert line["target_kib"] == 64 * MIB and line["previous_kib"] == 448 * MIB
    assert result["ok"] is True
    assert "device" not in plain and "alias" not in plain


def test_undo_is_per_guest_and_device() -> None:
    undo = UndoHistory()
    key = ("u", "id")
    undo.sent(key, 1024, 512, undo=False)
    undo.sent(key, 64, 448, undo=False, device="virtiomem0")
    undo.sent(key, 0, 2, undo=False, device="virtiomem1")
    assert undo.last(key) == 1024
    assert undo.last(key, "virtiomem0") == 64
    assert undo.last(key, "virtiomem1") == 0
    undo.sent(key, 448, 64, undo=True, device="virtiomem0")
    assert undo.last(key, "virtiomem0") is None
    assert undo.last(key) == 1024  # the balloon's history is untouched
    undo.forget(key)
    assert undo.last(key) is None and undo.last(key, "virtiomem1") is None
