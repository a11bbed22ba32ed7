"""virtio-mem devices: what a request may be, what it does to the guest's total, and whether
the guest follows it.

A device plugs whole blocks, at most its size: a request is rounded to the nearest block and
kept within [0, size]. What the guest has is boot memory + plugged − balloon (the balloon's
actual already counts what is plugged), so an unplug of N KiB lowers that total by N KiB;
the safety floor, which is about the total, is checked against `total_after`.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import (
    Convergence,
    DomainKey,
    DomainSnapshot,
    DomainState,
    MemoryDevice,
)
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.targets import STALL_SECONDS

VIRTIO_MEM = "virtio-mem"  # the audit's "device" for these writes


def find_device(domain: DomainSnapshot, alias: str) -> MemoryDevice | None:
    return next((d for d in domain.memory_devices if d.alias == alias), None)


def largest_request(device: MemoryDevice) -> int:
    """The most a request can be: the size, in whole blocks."""
    block = max(1, device.block_kib)
    return max(0, device.size_kib - device.size_kib % block)


def round_request(device: MemoryDevice, kib: int) -> int:
    """`kib` to the nearest whole block (half a block rounds up), within [0, size]."""
    block = max(1, device.block_kib)
    blocks = (int(kib) + block // 2) // block
    return max(0, min(blocks * block, largest_request(device)))


def plugged_kib(device: MemoryDevice) -> int:
    """What the guest has from the device now (the requested size when no live XML says)."""
    return device.requested_kib if device.current_kib is None else device.current_kib


def total_after(domain: DomainSnapshot, device: MemoryDevice, requested_kib: int) -> int:
    """The guest's actual once the device holds `requested_kib` (balloon unchanged)."""
    return max(0, domain.actual_kib + requested_kib - plugged_kib(device))


@dataclass(frozen=True, slots=True)
class DeviceProgress:
    state: Convergence
    message: str = ""


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What the panel shows of the device its slider is on (`v`)."""

    device: MemoryDevice
    requested_kib: int  # ours while it travels, else the snapshot's `<requested>`
    floor_kib: int | None  # the smallest request that keeps the guest at its safety floor
    writing: bool
    failed: str | None
    progress: DeviceProgress

    @property
    def label(self) -> str:
        return f"virtio-mem {self.device.alias}"


@dataclass(slots=True)
class _Seen:
    requested_kib: int
    current_kib: int | None
    since: float  # when the request was first seen, or `current` last moved


DeviceKey = tuple[str, str, str]  # host URI, domain UUID, alias


class DeviceTracker:
    """Per device, from successive snapshots: is `current` on its way to `requested`?

    A request the guest has not met is pending while `current` moves (or the request is
    new), stalled once `current` has stood still for `stall_seconds`."""

    def __init__(self, stall_seconds: float = STALL_SECONDS) -> None:
        self.stall_seconds = stall_seconds
        self._seen: dict[DeviceKey, _Seen] = {}

    def observe(self, domain: DomainSnapshot, now: float) -> None:
        present = {d.alias for d in domain.memory_devices}
        for key in [k for k in self._seen if k[:2] == domain.key and k[2] not in present]:
            del self._seen[key]
        for device in domain.memory_devices:
            key = (*domain.key, device.alias)
            seen = self._seen.get(key)
            if seen is None:
                self._seen[key] = _Seen(device.requested_kib, device.current_kib, now)
            elif seen.requested_kib != device.requested_kib or seen.current_kib != (
                device.current_kib
            ):
                seen.requested_kib, seen.current_kib, seen.since = (
                    device.requested_kib,
                    device.current_kib,
                    now,
                )

    def forget_missing(self, host_uri: str, present: set[DomainKey]) -> None:
        for key in [k for k in self._seen if k[0] == host_uri and k[:2] not in present]:
            del self._seen[key]

    def progress(self, domain: DomainSnapshot, device: MemoryDevice, now: float) -> DeviceProgress:
        if not domain.state.is_active or device.current_kib is None:
            return DeviceProgress(Convergence.NONE, "shut off: the request applies at boot")
        if device.current_kib == device.requested_kib:
            return DeviceProgress(Convergence.CONVERGED, "plugged as requested")
        seen = self._seen.get((*domain.key, device.alias))
        still = now - seen.since if seen is not None else 0.0
        way = "plugging" if device.current_kib < device.requested_kib else "unplugging"
        left = format_compact(abs(device.requested_kib - device.current_kib))
        if domain.state is DomainState.PAUSED:
            return DeviceProgress(Convergence.PENDING, f"paused: {left} to go when it runs")
        if still >= self.stall_seconds:
            return DeviceProgress(
                Convergence.STALLED,
                f"stalled: {left} short for {still:.0f} s — the guest's virtio_mem driver "
                "is not "
                + ("plugging (not loaded?)" if way == "plugging" else "giving the blocks back"),
            )
        return DeviceProgress(Convergence.PENDING, f"{way}: {left} to go")
