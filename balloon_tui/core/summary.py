"""Per-host and fleet-wide sums: where memory is, how far it is promised, what is reclaimable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from balloon_tui.core.model import INACTIVE_STATES, HostSnapshot, HostStatus


@dataclass(frozen=True, slots=True)
class MemorySummary:
    hosts: int
    hosts_ok: int
    memory_total_kib: int | None
    memory_free_kib: int | None
    sum_maximum_kib: int
    sum_target_kib: int
    sum_actual_kib: int
    reclaimable_kib: int  # sum of usable (MemAvailable) of running guests with stats
    guests: int
    guests_running: int

    @property
    def overcommit(self) -> float | None:
        """Sum of maxima over host RAM: above 1.0 the guests cannot all have their maximum."""
        if not self.memory_total_kib:
            return None
        return self.sum_maximum_kib / self.memory_total_kib


def summarize(hosts: Iterable[HostSnapshot]) -> MemorySummary:
    hosts = list(hosts)
    totals = [h.memory_total_kib for h in hosts]
    frees = [h.memory_free_kib for h in hosts]
    # One pass over every guest: this runs for the whole fleet on every tick.
    maximum = target = actual = usable = running = 0
    for host in hosts:
        for d in host.domains:
            if d.state in INACTIVE_STATES:
                continue
            running += 1
            maximum += d.maximum_kib
            actual += d.actual_kib
            target += d.actual_kib if d.target_kib is None else d.target_kib
            usable += d.stats.usable or 0
    return MemorySummary(
        hosts=len(hosts),
        hosts_ok=sum(1 for h in hosts if h.status in (HostStatus.OK, HostStatus.SLOW)),
        # Unknown on any host makes the sum unknown: a partial sum would mislead.
        memory_total_kib=None if None in totals else sum(t for t in totals if t is not None),
        memory_free_kib=None if None in frees else sum(f for f in frees if f is not None),
        sum_maximum_kib=maximum,
        sum_target_kib=target,
        sum_actual_kib=actual,
        reclaimable_kib=usable,
        guests=sum(len(h.domains) for h in hosts),
        guests_running=running,
    )
