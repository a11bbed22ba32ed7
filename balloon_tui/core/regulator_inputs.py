"""What the regulator knows of a guest, and its recent samples damped into signals.

Never one sample: used is the p95 over the damping window; swap and major faults are
cumulative counters turned into rates per second (a counter that drops was reset by a guest
reboot, and counts from zero again, as Prometheus' rate() does).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple, cast

from balloon_tui.core.model import DomainKey, DomainState
from balloon_tui.core.regulator_settings import RegulatorSettings


class GuestSample(NamedTuple):
    """One poll of a guest. Counters are cumulative since the guest booted."""

    at: float
    used_kib: int | None
    usable_kib: int | None = None
    swap_out_kib: int | None = None
    swap_in_kib: int | None = None
    major_faults: int | None = None


@dataclass(frozen=True, slots=True)
class GuestInput:
    """One guest for one round. `samples` are oldest first (as History keeps them)."""

    key: DomainKey
    name: str
    state: DomainState
    has_balloon: bool
    actual_kib: int
    maximum_kib: int
    samples: Sequence[GuestSample] = ()
    stats_age_s: float | None = None  # None: the guest reports no stats
    stats_period_s: int = 0
    autodeflate: bool = False
    # Per-guest policy from the domain's metadata; None takes the default.
    min_kib: int | None = None  # default: the safety floor
    max_kib: int | None = None  # default: the maximum
    shares: int | None = None  # default: settings.default_shares
    # Convergence: the last target we asked for, and how long the actual has not moved
    # toward it (None: it is moving, or nothing was asked).
    asked_kib: int | None = None
    stalled_s: float | None = None
    # The samples already damped at this round's time (SignalCache.signals): plan_host uses
    # them instead of damping `samples` again. None: plan_host damps `samples` itself.
    signals: Signals | None = None


@dataclass(frozen=True, slots=True)
class Signals:
    """A guest's samples, damped. Rates are per second; None where the data is missing."""

    samples: int  # samples in the damping window
    span_s: float  # seconds those samples cover
    used_kib: int | None  # p95 of used over the window
    usable_kib: int | None  # the latest
    swap_out_rate: float | None  # KiB/s over the window
    swap_out_recent: float | None  # KiB/s over the pressure window
    fault_recent: float | None  # major faults/s over the pressure window
    fault_before: float | None  # major faults/s in the window before the pressure window


NO_SIGNALS = Signals(0, 0.0, None, None, None, None, None, None)


def counter_rate(samples: Sequence[GuestSample], field: int, start: int, end: int) -> float | None:
    """Increase per second of one counter over samples[start:end]; resets count from 0."""
    return _column_rate(list(map(itemgetter(field), samples[start:end])), samples, start)


def _column_rate(
    values: list[int | None], samples: Sequence[GuestSample], offset: int
) -> float | None:
    """`values` is one counter of samples[offset:offset + len(values)].

    The common case (no gaps, no reset) is the last value minus the first, checked with
    C-level scans: this runs for every guest on every round.
    """
    if len(values) < 2:
        return None
    if None not in values:
        counts = cast("list[int]", values)
        if counts == sorted(counts):
            span = samples[offset + len(counts) - 1].at - samples[offset].at
            return (counts[-1] - counts[0]) / span if span > 0 else None
    total = 0
    previous: int | None = None
    first_at = last_at = 0.0
    for index, value in enumerate(values):
        if value is None:
            continue
        at = samples[offset + index].at
        if previous is None:
            first_at = at
        else:
            total += value - previous if value >= previous else value
        previous = value
        last_at = at
    if previous is None or last_at <= first_at:
        return None
    return total / (last_at - first_at)


def _rates(
    values: list[int | None],
    samples: Sequence[GuestSample],
    offset: int,
    parts: tuple[tuple[int, int], ...],
) -> list[float | None]:
    """`_column_rate` of values[a:b] for each (a, b) in `parts`, the column checked once:
    when it has no gaps and no reset, neither has any part of it."""
    if None in values or values != sorted(cast("list[int]", values)):
        return [_column_rate(values[a:b], samples, offset + a) for a, b in parts]
    counts = cast("list[int]", values)
    rates: list[float | None] = []
    for a, b in parts:
        span = samples[offset + b - 1].at - samples[offset + a].at if b - a >= 2 else 0.0
        rates.append((counts[b - 1] - counts[a]) / span if span > 0 else None)
    return rates


def percentile_of(values: list[int], fraction: float) -> int:
    """Nearest-rank percentile: a value that was really seen, never an interpolation."""
    values.sort()
    # Rounded first: 0.95 * 20 is 19.000000000000004 in floating point, and rank 19 is meant.
    rank = max(1, math.ceil(round(fraction * len(values), 9)))
    return values[min(rank, len(values)) - 1]


_AT = itemgetter(GuestSample._fields.index("at"))
_USED = itemgetter(GuestSample._fields.index("used_kib"))
_SWAP_OUT = itemgetter(GuestSample._fields.index("swap_out_kib"))
_FAULTS = itemgetter(GuestSample._fields.index("major_faults"))


def summarise(samples: Sequence[GuestSample], now: float, settings: RegulatorSettings) -> Signals:
    """Damp the samples of the last `settings.window_s` seconds into signals."""
    start, after = _bounds(samples, now, settings)
    return _damp(samples, start, after, settings)


def _bounds(
    samples: Sequence[GuestSample], now: float, settings: RegulatorSettings
) -> tuple[int, int]:
    """At `now`: the first sample in the damping window, and the first one after the
    pressure window's start (`len(samples)` for none)."""
    end = len(samples)
    start = bisect_left(samples, now - settings.window_s, key=_AT)
    if start >= end:
        return end, end
    return start, bisect_right(samples, now - settings.pressure_window_s, lo=start, key=_AT)


def _damp(
    samples: Sequence[GuestSample], start: int, after: int, settings: RegulatorSettings
) -> Signals:
    end = len(samples)
    if start >= end:
        return NO_SIGNALS
    # The pressure window's rate starts from the last sample at or before its start, so a
    # counter that moved between that sample and the first one inside counts.
    recent_from = max(start, after - 1)
    window = samples[start:end]
    used = list(map(_USED, window))
    if None in used:
        used = [u for u in used if u is not None]
    recent, count = recent_from - start, end - start
    swap_out_rate, swap_out_recent = _rates(
        list(map(_SWAP_OUT, window)), samples, start, ((0, count), (recent, count))
    )
    fault_recent, fault_before = _rates(
        list(map(_FAULTS, window)), samples, start, ((recent, count), (0, recent + 1))
    )
    return Signals(
        samples=count,
        span_s=samples[end - 1].at - samples[start].at,
        used_kib=percentile_of(cast("list[int]", used), settings.percentile) if used else None,
        usable_kib=samples[end - 1].usable_kib,
        swap_out_rate=swap_out_rate,
        swap_out_recent=swap_out_recent,
        fault_recent=fault_recent,
        fault_before=fault_before,
    )


@dataclass(slots=True)
class _Damped:
    """A guest's signals, and what they were damped from: the samples (their count, first
    and last) and the sample times either side of each window's start."""

    count: int
    first: GuestSample | None
    last: GuestSample | None
    window_keep: float  # the oldest sample in the window: still in while at >= now - window
    window_gone: float  # the sample before it: out while at < now - window
    pressure_in: float  # the first sample after the pressure window's start: at > cutoff
    pressure_out: float  # the one before it: at <= cutoff
    signals: Signals


class SignalCache:
    """Each guest's signals, damped again only when they can have changed.

    A guest's signals are a function of its samples and of where the damping window and the
    pressure window start among them. They change when a sample arrives (a counter reset
    arrives that way too) and when time moves a sample out of a window; between those the
    signals kept are exactly what `summarise` gives, and a round costs a few comparisons
    per guest instead of a pass over its samples.

    The samples of a key must be a history: appended at the end, dropped from the front,
    never edited in place (a change is recognised by the count and the first and last
    sample). The cache's settings must be the ones the plan uses.
    """

    def __init__(self, settings: RegulatorSettings) -> None:
        self.settings = settings
        self._damped: dict[DomainKey, _Damped] = {}

    def signals(self, key: DomainKey, samples: Sequence[GuestSample], now: float) -> Signals:
        """`summarise(samples, now, self.settings)`, from the cache when it still holds."""
        settings = self.settings
        cut = now - settings.window_s
        cutoff = now - settings.pressure_window_s
        kept = self._damped.get(key)
        count = len(samples)
        if (
            kept is not None
            and kept.count == count
            and kept.window_keep >= cut > kept.window_gone
            and kept.pressure_in > cutoff >= kept.pressure_out
            and (count == 0 or (samples[-1] == kept.last and samples[0] == kept.first))
        ):
            return kept.signals
        start, after = _bounds(samples, now, settings)
        signals = _damp(samples, start, after, settings)
        self._damped[key] = _Damped(
            count,
            samples[0] if count else None,
            samples[-1] if count else None,
            samples[start].at if start < count else math.inf,
            samples[start - 1].at if start > 0 else -math.inf,
            samples[after].at if after < count else math.inf,
            samples[after - 1].at if after > start else -math.inf,
            signals,
        )
        return signals

    def retain(self, keys: Collection[DomainKey]) -> None:
        """Forget the guests not in `keys` (gone from the host)."""
        for key in [key for key in self._damped if key not in keys]:
            del self._damped[key]

    def __len__(self) -> int:
        return len(self._damped)
