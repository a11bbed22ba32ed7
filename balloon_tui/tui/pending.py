"""Targets we asked for and have not yet seen in a snapshot: what the operator sees first.

A write takes a round trip (writer thread, libvirt, next poll) before a snapshot carries
the new target. Without this the slider and the table would jump back to the old target
for a tick, and a second `+` would step from the old value instead of the new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import DomainKey, DomainSnapshot
from balloon_tui.core.vmem import find_device
from balloon_tui.core.writes import TargetRequest, WriteResult

# After libvirt accepted the write, show our value for at most this many more snapshots
# of that host (normally the first one already carries it).
CONFIRM_TICKS = 2


@dataclass(slots=True)
class _Entry:
    request: TargetRequest
    accepted: bool = False
    ticks: int = 0


class PendingWrites:
    """UI-thread only."""

    def __init__(self) -> None:
        self._entries: dict[DomainKey, _Entry] = {}
        self._failed: dict[DomainKey, str] = {}
        # virtio-mem requests, per guest and alias: beside the balloon's, never instead.
        self._devices: dict[tuple[DomainKey, str], _Entry] = {}
        self._devices_failed: dict[tuple[DomainKey, str], str] = {}

    def sent(self, request: TargetRequest) -> None:
        if request.device is not None:
            self._devices[(request.key, request.device)] = _Entry(request)
            self._devices_failed.pop((request.key, request.device), None)
            return
        self._entries[request.key] = _Entry(request)
        self._failed.pop(request.key, None)

    def result(self, result: WriteResult) -> bool:
        """Take a write's outcome; True when it is the outcome of the latest request."""
        if result.request.device is not None:
            return self._device_result(result, (result.key, result.request.device))
        entry = self._entries.get(result.key)
        if entry is None or entry.request != result.request:
            # Superseded by a newer request for the same domain: that one decides.
            return False
        if result.ok:
            entry.accepted = True
        else:
            del self._entries[result.key]
            self._failed[result.key] = result.message
        return True

    def _device_result(self, result: WriteResult, slot: tuple[DomainKey, str]) -> bool:
        entry = self._devices.get(slot)
        if entry is None or entry.request != result.request:
            return False
        if result.ok:
            entry.accepted = True
        else:
            del self._devices[slot]
            self._devices_failed[slot] = result.message
        return True

    def _observe_devices(self, domain: DomainSnapshot) -> None:
        for slot in [s for s in self._devices if s[0] == domain.key]:
            entry = self._devices[slot]
            if not entry.accepted:
                continue
            device = find_device(domain, slot[1])
            entry.ticks += 1
            if (
                device is None
                or device.requested_kib == entry.request.target_kib
                or entry.ticks >= CONFIRM_TICKS
            ):
                del self._devices[slot]

    def observe(self, domain: DomainSnapshot) -> None:
        """A fresh snapshot of the domain: drop our value once the snapshot has it."""
        self._observe_devices(domain)
        entry = self._entries.get(domain.key)
        if entry is None or not entry.accepted:
            return
        wanted = entry.request.target_kib
        if domain.target_kib == wanted or (
            not domain.state.is_active and domain.actual_kib == wanted
        ):
            del self._entries[domain.key]
            return
        entry.ticks += 1
        if entry.ticks >= CONFIRM_TICKS:
            del self._entries[domain.key]

    def forget_missing(self, host_uri: str, present: set[DomainKey]) -> None:
        for key in [k for k in self._entries if k[0] == host_uri and k not in present]:
            del self._entries[key]
        for key in [k for k in self._failed if k[0] == host_uri and k not in present]:
            del self._failed[key]
        for table in (self._devices, self._devices_failed):
            for slot in [s for s in table if s[0][0] == host_uri and s[0] not in present]:
                del table[slot]

    def __bool__(self) -> bool:
        return any((self._entries, self._failed, self._devices, self._devices_failed))

    def has(self, key: DomainKey) -> bool:
        """Anything of ours for this guest: a write on its way, or one that failed."""
        return (
            key in self._entries
            or key in self._failed
            or any(s[0] == key for s in (*self._devices, *self._devices_failed))
        )

    # -- virtio-mem devices, by alias ---------------------------------------------------------
    def device_target(self, key: DomainKey, alias: str) -> int | None:
        """Our request for the device while it travels (None: the snapshot's is current)."""
        entry = self._devices.get((key, alias))
        return entry.request.target_kib if entry else None

    def device_writing(self, key: DomainKey, alias: str) -> bool:
        entry = self._devices.get((key, alias))
        return entry is not None and not entry.accepted

    def device_failed(self, key: DomainKey, alias: str) -> str | None:
        return self._devices_failed.get((key, alias))

    def target(self, key: DomainKey) -> int | None:
        entry = self._entries.get(key)
        return entry.request.target_kib if entry else None

    def writing(self, key: DomainKey) -> bool:
        entry = self._entries.get(key)
        return entry is not None and not entry.accepted

    def failed(self, key: DomainKey) -> str | None:
        return self._failed.get(key)

    def clear_failed(self, key: DomainKey) -> None:
        self._failed.pop(key, None)

    def shown_target(self, domain: DomainSnapshot) -> int | None:
        """The target to show: ours while it travels, else what the snapshot says."""
        mine = self.target(domain.key)
        return mine if mine is not None else domain.target_kib
