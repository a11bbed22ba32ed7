"""The memory maths with virtio-mem devices (core/model.py): libvirt's maximum counts the
devices whole, the balloon's actual is boot + plugged − balloon, and a balloon target can
give at most boot + plugged (the ceiling) — which the floor, the regulator and every
target the app sends respect."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
from nodefiles import GIB, MIB

from balloon_tui.core.model import (
    BalloonDevice,
    DomainSnapshot,
    DomainState,
    GuestStats,
    HostSnapshot,
    HostStatus,
    MemoryDevice,
)
from balloon_tui.core.regulator_feed import RegulatorFeed
from balloon_tui.core.safety import SafetyPolicy

NOW = 1_700_000_000.0
BOOT = 2 * GIB


def vmem(size: int, current: int | None, requested: int | None = None) -> MemoryDevice:
    return MemoryDevice(
        "virtiomem0", 0, 2 * MIB, size, current if requested is None else requested, current
    )


def guest(
    *devices: MemoryDevice,
    actual: int | None = None,
    state: DomainState = DomainState.RUNNING,
    usable: int | None = None,
) -> DomainSnapshot:
    """Boot memory 2 GiB; the maximum counts every device whole, as libvirt's does."""
    plugged = sum(d.current_kib or 0 for d in devices)
    maximum = BOOT + sum(d.size_kib for d in devices)
    return DomainSnapshot(
        "test:///x",
        "u",
        "elastic",
        state,
        maximum,
        BOOT + plugged if actual is None else actual,
        stats=GuestStats(usable=usable, unused=usable, last_update=int(NOW) - 1),
        device=BalloonDevice("virtio", stats_period=2),
        memory_devices=devices,
    )


def test_without_devices_the_ceiling_is_the_maximum() -> None:
    plain = dataclasses.replace(guest(), maximum_kib=4 * GIB)
    assert plain.unplugged_kib == 0
    assert plain.balloon_ceiling_kib == 4 * GIB


def test_the_ceiling_is_boot_plus_plugged() -> None:
    half = guest(vmem(2 * GIB, 512 * MIB))
    assert half.maximum_kib == 4 * GIB
    assert half.unplugged_kib == 1536 * MIB
    assert half.balloon_ceiling_kib == BOOT + 512 * MIB


def test_several_devices_add_up() -> None:
    two = guest(vmem(GIB, GIB), vmem(2 * GIB, 256 * MIB))
    assert two.maximum_kib == 5 * GIB
    assert two.unplugged_kib == 2 * GIB - 256 * MIB
    assert two.balloon_ceiling_kib == BOOT + GIB + 256 * MIB


def test_an_unknown_current_is_not_subtracted() -> None:
    # No `<current>` (not a live XML): nothing is known to be missing, the maximum holds.
    unknown = guest(vmem(2 * GIB, None, requested=GIB), actual=BOOT)
    assert unknown.unplugged_kib == 0
    assert unknown.balloon_ceiling_kib == 4 * GIB


def test_a_guest_without_live_memory_has_the_maximum() -> None:
    # A shut-off guest's target is its configured size, which libvirt takes up to the maximum.
    off = guest(vmem(2 * GIB, 0), state=DomainState.SHUTOFF, actual=BOOT)
    assert off.unplugged_kib == 0
    assert off.balloon_ceiling_kib == off.maximum_kib


def test_the_ceiling_is_never_below_what_the_guest_has() -> None:
    # XML and balloon read a moment apart while a device unplugs: actual still counts it.
    racing = guest(vmem(2 * GIB, 0), actual=BOOT + 256 * MIB)
    assert racing.balloon_ceiling_kib == BOOT + 256 * MIB
    # Junk from a foreign XML (devices larger than the maximum) never goes below actual.
    junk = dataclasses.replace(guest(vmem(2 * GIB, 0)), maximum_kib=GIB, actual_kib=GIB)
    assert junk.balloon_ceiling_kib == GIB


@given(
    sizes=st.lists(st.integers(min_value=2 * MIB, max_value=64 * GIB), max_size=4),
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=4, max_size=4),
    balloon=st.integers(min_value=0, max_value=BOOT),
)
def test_actual_never_above_the_ceiling_nor_the_ceiling_above_the_maximum(
    sizes: list[int], fractions: list[float], balloon: int
) -> None:
    devices = [vmem(s, int(s * f)) for s, f in zip(sizes, fractions, strict=False)]
    plugged = sum(d.current_kib or 0 for d in devices)
    d = guest(*devices, actual=BOOT + plugged - balloon)
    assert d.actual_kib <= d.balloon_ceiling_kib <= d.maximum_kib
    assert d.balloon_ceiling_kib == BOOT + plugged  # boot + plugged, whatever the balloon


def test_the_safety_floor_is_at_most_the_ceiling() -> None:
    # The guest uses nearly everything it has: the floor cannot ask for unplugged memory.
    busy = guest(vmem(2 * GIB, 0), usable=64 * MIB)
    floor = SafetyPolicy().floor_kib(busy, NOW)
    assert floor == busy.balloon_ceiling_kib == BOOT
    assert not SafetyPolicy().assess(busy, BOOT, NOW).needs_confirmation


def test_the_regulator_never_proposes_above_the_ceiling() -> None:
    feed = RegulatorFeed()
    starving = guest(vmem(2 * GIB, 0), usable=0)
    host = HostSnapshot("test:///x", HostStatus.OK, "h", 64 * GIB, None, (starving,), NOW)
    feed.add(host)
    (inputs,) = feed.inputs(host, NOW)
    assert inputs.maximum_kib == BOOT
