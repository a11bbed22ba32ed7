"""The virtio-mem devices a host's guests have, as their XML last said, and which guests'
live XML must be read on every tick so that a device's `<current>` follows the guest.

libvirt changes `<current>` when QEMU reports a new plugged size, and says so with
`VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE`. With that event a settled device (current =
requested) is read again only when it fires; a device on its way, or any device on a
connection without the event, is read on every tick."""

from __future__ import annotations

from collections.abc import Collection

from balloon_tui.core.model import MemoryDevice


class MemoryDevices:
    """Per host session. Only guests with devices are kept, so a guest without one costs a
    set lookup per tick; the session calls `keep` under its lock, whenever it reads an XML."""

    __slots__ = ("_devices", "_following", "events")

    def __init__(self) -> None:
        self.events = False  # the connection delivers MEMORY_DEVICE_SIZE_CHANGE
        self._devices: dict[str, tuple[MemoryDevice, ...]] = {}
        # Guests whose live XML has a `<current>` that may move with no event to say so.
        self._following: set[str] = set()

    def of(self, uuid: str) -> tuple[MemoryDevice, ...]:
        return self._devices.get(uuid, ())

    def follows(self, uuid: str) -> bool:
        return uuid in self._following

    def keep(self, uuid: str, devices: tuple[MemoryDevice, ...]) -> None:
        if devices:
            self._devices[uuid] = devices
        else:
            self._devices.pop(uuid, None)
        live = [d for d in devices if d.current_kib is not None]
        if live and (not self.events or any(d.pending for d in live)):
            self._following.add(uuid)
        else:
            self._following.discard(uuid)

    def forget_missing(self, present: Collection[str]) -> None:
        for uuid in [u for u in self._devices if u not in present]:
            del self._devices[uuid]
        self._following.intersection_update(present)

    def clear(self) -> None:
        self._devices.clear()
        self._following.clear()
