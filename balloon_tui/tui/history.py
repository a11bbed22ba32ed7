"""The last minutes of actual, used and target per domain, kept while the app runs.

Kept as change points: a host's poll times once, and per guest only the polls where its
numbers moved. A fleet of guests that mostly stand still then costs an identity check per
guest per tick, and a sample list is rebuilt for the one guest the panel shows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import NamedTuple

from balloon_tui.core.model import DomainKey, DomainSnapshot

WINDOW_SECONDS = 600.0
# A hard bound whatever the refresh interval: a 0.1 s interval over 10 min is 6000.
MAX_SAMPLES = 6000


class Sample(NamedTuple):
    at: float
    actual_kib: int
    used_kib: int | None
    target_kib: int


# Stored as plain tuples: the garbage collector stops tracking tuples of numbers, and
# thousands of guests' change points would otherwise make every full collection slower.
_Row = tuple[float, int, int | None, int]


class History:
    """UI-thread only. Bounded deques; a domain's history goes when the domain goes."""

    def __init__(self, window: float = WINDOW_SECONDS, max_samples: int = MAX_SAMPLES) -> None:
        self.window = window
        self.max_samples = max_samples
        self._polls: dict[str, deque[float]] = {}  # host URI -> when it was polled
        self._changes: dict[DomainKey, deque[_Row]] = {}  # guest -> where its numbers moved
        self._recorded: dict[DomainKey, DomainSnapshot] = {}  # the snapshot last looked at

    def add(
        self,
        domain: DomainSnapshot,
        at: float,
        target_kib: int | None = None,
        key: DomainKey | None = None,
    ) -> None:
        """One guest's numbers at one poll of its host."""
        key = domain.key if key is None else key
        targets = {key: target_kib} if target_kib is not None else None
        self.add_all(domain.host_uri, (domain,), at, targets)

    def add_all(
        self,
        host_uri: str,
        domains: Iterable[DomainSnapshot],
        at: float,
        targets: dict[DomainKey, int] | None = None,
    ) -> None:
        """Every guest of one poll. `targets` are shown targets that differ from the
        snapshots' (our writes in flight). The same poll delivered twice adds nothing."""
        polls = self._polls.get(host_uri)
        if polls is None:
            polls = self._polls[host_uri] = deque(maxlen=self.max_samples)
        if not polls or polls[-1] < at:
            polls.append(at)
            cutoff = at - self.window
            while polls[0] < cutoff:
                polls.popleft()
        targets = targets or {}
        recorded = self._recorded
        changes_of = self._changes
        cutoff = at - self.window
        for domain in domains:
            key = domain.key
            target: int | None
            if key in targets:
                target = targets[key]
                recorded.pop(key, None)  # our value, not the snapshot's: look again next poll
            elif recorded.get(key) is domain:
                continue  # the very snapshot of last poll, as it was recorded: nothing moved
            else:
                target = domain.target_kib
                recorded[key] = domain
            actual = domain.actual_kib
            row = (at, actual, domain.used_kib, actual if target is None else target)
            changes = changes_of.get(key)
            if changes is None:
                changes = changes_of[key] = deque(maxlen=self.max_samples)
            elif changes[-1][1:] == row[1:] or changes[-1][0] >= at:
                continue
            changes.append(row)
            # Keep one change point before the window: the value the window starts with.
            while len(changes) > 1 and changes[1][0] <= cutoff:
                changes.popleft()

    def forget_missing(self, host_uri: str, present: set[DomainKey]) -> None:
        for key in [k for k in self._changes if k[0] == host_uri and k not in present]:
            del self._changes[key]
            self._recorded.pop(key, None)

    def samples(self, key: DomainKey) -> list[Sample]:
        """One sample per poll of the guest's host since the guest was first seen."""
        changes = self._changes.get(key)
        polls = self._polls.get(key[0])
        if not changes or not polls:
            return []
        result = []
        index, last = -1, len(changes) - 1
        for at in polls:
            while index < last and changes[index + 1][0] <= at:
                index += 1
            if index >= 0:
                _, actual, used, target = changes[index]
                result.append(Sample(at, actual, used, target))
        return result

    def __len__(self) -> int:
        return len(self._changes)
