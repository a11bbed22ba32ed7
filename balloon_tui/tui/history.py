"""The last minutes of actual, used and target per domain, kept while the app runs."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from balloon_tui.core.model import DomainSnapshot

DomainKey = tuple[str, str]

WINDOW_SECONDS = 600.0
# A hard bound whatever the refresh interval: a 0.1 s interval over 10 min is 6000.
MAX_SAMPLES = 6000


class Sample(NamedTuple):
    at: float
    actual_kib: int
    used_kib: int | None
    target_kib: int


# Stored as plain tuples: the garbage collector stops tracking tuples of numbers, and
# 1000 guests x 10 minutes of samples would otherwise make every full collection slow.
_Row = tuple[float, int, int | None, int]


class History:
    """UI-thread only. Bounded deques; a domain's history goes when the domain goes."""

    def __init__(self, window: float = WINDOW_SECONDS, max_samples: int = MAX_SAMPLES) -> None:
        self.window = window
        self.max_samples = max_samples
        self._series: dict[DomainKey, deque[_Row]] = {}

    def add(
        self,
        domain: DomainSnapshot,
        at: float,
        target_kib: int | None = None,
        key: DomainKey | None = None,
    ) -> None:
        key = domain.key if key is None else key
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = deque(maxlen=self.max_samples)
        if series and series[-1][0] >= at:
            return  # the same poll delivered twice (e.g. a status-only update)
        target = domain.effective_target_kib if target_kib is None else target_kib
        series.append((at, domain.actual_kib, domain.used_kib, target))
        while series and series[0][0] < at - self.window:
            series.popleft()

    def add_all(
        self,
        domains: Iterable[DomainSnapshot],
        at: float,
        targets: dict[DomainKey, int] | None = None,
    ) -> None:
        """`add` for every guest of one poll (the whole fleet, every tick: kept tight).
        `targets` are shown targets that differ from the snapshots' (our writes in flight)."""
        series_of = self._series
        targets = targets or {}
        cutoff = at - self.window
        for domain in domains:
            key = domain.key
            series = series_of.get(key)
            if series is None:
                series = series_of[key] = deque(maxlen=self.max_samples)
            elif series[-1][0] >= at:
                continue  # the same poll delivered twice (e.g. a status-only update)
            target = targets.get(key, domain.target_kib)
            actual = domain.actual_kib
            series.append((at, actual, domain.used_kib, actual if target is None else target))
            while series[0][0] < cutoff:
                series.popleft()

    def forget_missing(self, host_uri: str, present: set[DomainKey]) -> None:
        for key in [k for k in self._series if k[0] == host_uri and k not in present]:
            del self._series[key]

    def samples(self, key: DomainKey) -> list[Sample]:
        return [Sample(*row) for row in self._series.get(key, ())]

    def __len__(self) -> int:
        return len(self._series)
