"""Guest memory statistics as libvirt words them: getAllDomainStats' "balloon.*" keys or
memoryStats()' dict, into the model's GuestStats."""

from __future__ import annotations

from typing import Any

from balloon_tui.core.model import GuestStats

_GUEST_STAT_KEYS = (
    "unused",
    "available",
    "usable",
    "disk_caches",
    "rss",
    "swap_in",
    "swap_out",
    "major_fault",
    "minor_fault",
)


def guest_stats(values: dict[str, Any], prefix: str, now: float) -> GuestStats:
    fields = {k: int(values[prefix + k]) for k in _GUEST_STAT_KEYS if prefix + k in values}
    update = values.get(prefix + "last-update", values.get(prefix + "last_update"))
    # A last-update that is no wall-clock time is no time: the test driver's is synthetic,
    # a guest without a balloon driver reports 0.
    if update is not None and not now - 86400 * 365 < update < now + 60:
        update = None
    return GuestStats(**fields, last_update=int(update) if update is not None else None)
