"""The balloon device's own settings (`D`): autodeflate, free page reporting, the stats period.

autodeflate (QEMU's deflate-on-oom: the guest takes memory back from the balloon before its
OOM killer runs) and free page reporting (the guest hands free pages back to the host) are
fixed when QEMU starts the device: libvirt changes them only in the persistent config, and
they take effect at the next boot. The stats period can change now (live) and in the config.
A transient guest has no config: only its live stats period can be set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from balloon_tui.core.model import BalloonDevice, DomainKey
from balloon_tui.core.statsperiod import MAX_STATS_PERIOD
from balloon_tui.core.writes import WriteSource

NEXT_BOOT = "takes effect at the next boot"


@dataclass(frozen=True, slots=True)
class BalloonKnobs:
    autodeflate: bool = False
    free_page_reporting: bool = False
    stats_period: int = 0  # seconds; 0: no guest stats

    @classmethod
    def of(cls, device: BalloonDevice) -> BalloonKnobs:
        return cls(device.autodeflate, device.free_page_reporting, max(0, device.stats_period))


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _period(seconds: int) -> str:
    return f"every {seconds} s" if seconds > 0 else "off"


def _stats(seconds: int) -> str:
    return f"stats {seconds} s" if seconds > 0 else "no stats"


def knobs_words(knobs: BalloonKnobs) -> str:
    return (
        f"autodeflate {_on(knobs.autodeflate)} · free page reporting "
        f"{_on(knobs.free_page_reporting)} · {_stats(knobs.stats_period)}"
    )


def period_problem(period: object) -> str | None:
    """Why `period` cannot be a stats period to store (0 turns guest stats off), or None."""
    if isinstance(period, bool) or not isinstance(period, int):
        return f"the stats period must be whole seconds, not {period!r}"
    if not 0 <= period <= MAX_STATS_PERIOD:
        return f"the stats period must be 0 (off) to {MAX_STATS_PERIOD} seconds, not {period}"
    return None


@dataclass(frozen=True, slots=True)
class KnobsQuery:
    """Read a guest's balloon settings, live and in its config, before the dialog opens."""

    host_uri: str
    uuid: str
    name: str

    @property
    def key(self) -> DomainKey:
        return (self.host_uri, self.uuid)


@dataclass(frozen=True, slots=True)
class KnobsLook:
    """What libvirt says of the guest's balloon: `config` None for a transient guest (no
    config), `live` None for one that is not running."""

    query: KnobsQuery
    ok: bool
    message: str = ""
    model: str = "none"
    config: BalloonKnobs | None = None
    live: BalloonKnobs | None = None


@dataclass(frozen=True, slots=True)
class KnobsRequest:
    """Store `config` in the persistent config (None: leave it) and set `live_period` on the
    running guest (None: leave it). `previous` is the config the operator saw: a config that
    changed meanwhile is not overwritten."""

    host_uri: str
    uuid: str
    name: str
    config: BalloonKnobs | None
    previous: BalloonKnobs | None
    live_period: int | None = None
    previous_live_period: int | None = None
    source: WriteSource = field(default=WriteSource.TYPED, kw_only=True)

    @property
    def key(self) -> DomainKey:
        return (self.host_uri, self.uuid)

    @property
    def changes(self) -> tuple[str, ...]:
        """Each change in words, the config's marked with when it takes effect."""
        lines = []
        new, old = self.config, self.previous
        if new is not None and old is not None:
            for word, before, after in (
                ("autodeflate", _on(old.autodeflate), _on(new.autodeflate)),
                (
                    "free page reporting",
                    _on(old.free_page_reporting),
                    _on(new.free_page_reporting),
                ),
                ("stats", _period(old.stats_period), _period(new.stats_period)),
            ):
                if before != after:
                    lines.append(f"{word}: {before} → {after} (config: {NEXT_BOOT})")
        live, live_before = self.live_period, self.previous_live_period
        if live is not None and live != live_before:
            before = "unknown" if live_before is None else _period(live_before)
            lines.append(f"stats: {before} → {_period(live)} (live: now)")
        return tuple(lines)


@dataclass(frozen=True, slots=True)
class KnobsResult:
    request: KnobsRequest
    ok: bool
    message: str
    error_code: int | None = None
    flags: int = 0

    @property
    def key(self) -> DomainKey:
        return self.request.key

    @property
    def summary(self) -> str:
        if self.ok:
            return f"{self.request.name}: balloon settings stored ({self.message})"
        return f"{self.request.name}: balloon settings not stored: {self.message}"
