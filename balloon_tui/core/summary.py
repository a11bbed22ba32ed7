"""Per-host and fleet-wide sums: where memory is, how far it is promised, what is reclaimable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from balloon_tui.core.model import HostSnapshot, HostStatus, memory_sums


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
    sums = [memory_sums(h.domains) for h in hosts]
    return MemorySummary(
        hosts=len(hosts),
        hosts_ok=sum(1 for h in hosts if h.status in (HostStatus.OK, HostStatus.SLOW)),
        # Unknown on any host makes the sum unknown: a partial sum would mislead.
        memory_total_kib=None if None in totals else sum(t for t in totals if t is not None),
        memory_free_kib=None if None in frees else sum(f for f in frees if f is not None),
        sum_maximum_kib=sum(s.maximum_kib for s in sums),
        sum_target_kib=sum(s.target_kib for s in sums),
        sum_actual_kib=sum(s.actual_kib for s in sums),
        reclaimable_kib=sum(s.usable_kib for s in sums),
        guests=sum(len(h.domains) for h in hosts),
        guests_running=sum(s.running for s in sums),
    )
