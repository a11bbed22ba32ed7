"""The virtio-mem devices a host's guests have, as their XML last said, and which guests'
live XML must be read on every tick so that a device's `<current>` follows the guest."""

from __future__ import annotations

from collections.abc import Collection

from balloon_tui.core.model import MemoryDevice


class MemoryDevices:
    """Per host session. Only guests with devices are kept, so a guest without one costs a
    set lookup per tick; the session calls `keep` under its lock, whenever it reads an XML."""

    __slots__ = ("_devices", "_following")

    def __init__(self) -> None:
        self._devices: dict[str, tuple[MemoryDevice, ...]] = {}
        # Guests whose live XML has a `<current>`: it moves as the guest plugs and unplugs,
        # which no poll of the balloon shows, so their XML is read again on every tick.
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
        if any(d.current_kib is not None for d in devices):
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
