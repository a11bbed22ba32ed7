"""Arming guest stats: a live stats period, so the guest reports what it uses.

Guest stats exist only while a stats period is set, and it is off by default; without them
the safety floor is unknown. Setting one is a write like a target: audited, refused when
read-only, and it goes out on the host's writer thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import DomainKey

DEFAULT_STATS_PERIOD = 2  # seconds: the real-guest harness uses 2; stale after 3 periods
MAX_STATS_PERIOD = 3600


@dataclass(frozen=True, slots=True)
class StatsPeriodRequest:
    host_uri: str
    uuid: str
    name: str
    period: int = DEFAULT_STATS_PERIOD
    automatic: bool = False  # --arm-stats did it, not a key

    @property
    def key(self) -> DomainKey:
        return (self.host_uri, self.uuid)


@dataclass(frozen=True, slots=True)
class StatsPeriodResult:
    request: StatsPeriodRequest
    ok: bool
    message: str
    error_code: int | None = None

    @property
    def key(self) -> DomainKey:
        return self.request.key

    @property
    def summary(self) -> str:
        name, period = self.request.name, self.request.period
        if self.ok:
            return f"{name}: guest stats armed (every {period} s)"
        return f"{name}: guest stats not armed: {self.message}"


def check_period(period: int) -> str | None:
    """Why `period` cannot be a stats period, or None."""
    if isinstance(period, bool) or not isinstance(period, int):
        return f"the stats period must be whole seconds, not {period!r}"
    if not 1 <= period <= MAX_STATS_PERIOD:
        return f"the stats period must be 1 to {MAX_STATS_PERIOD} seconds, not {period}"
    return None


FRESH_SECONDS = 30.0  # stats this recent are flowing now


def period_looks_changed(known_period: int, last_update: float | None, now: float) -> bool:
    """Stats flowing while the domain's XML said no period, or stopped while it said one:
    someone changed the period outside balloon-tui (no libvirt event tells), so the XML is
    worth reading again. `last_update` is the guest stats' wall-clock time, if any."""
    if last_update is None:
        return False
    age = now - last_update
    if known_period <= 0:
        return age < FRESH_SECONDS
    return age > 3 * known_period + 2
