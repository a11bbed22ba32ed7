"""Targets we asked for and have not yet seen in a snapshot: what the operator sees first.

A write takes a round trip (writer thread, libvirt, next poll) before a snapshot carries
the new target. Without this the slider and the table would jump back to the old target
for a tick, and a second `+` would step from the old value instead of the new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import DomainKey, DomainSnapshot
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

    def sent(self, request: TargetRequest) -> None:
        self._entries[request.key] = _Entry(request)
        self._failed.pop(request.key, None)

    def result(self, result: WriteResult) -> bool:
        """Take a write's outcome; True when it is the outcome of the latest request."""
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

    def observe(self, domain: DomainSnapshot) -> None:
        """A fresh snapshot of the domain: drop our value once the snapshot has it."""
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

    def __bool__(self) -> bool:
        return bool(self._entries) or bool(self._failed)

    def has(self, key: DomainKey) -> bool:
        """Anything of ours for this guest: a write on its way, or one that failed."""
        return key in self._entries or key in self._failed

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
