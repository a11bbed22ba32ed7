"""The safety floor: how far a balloon may shrink a guest before it starts to suffer.

floor = used + margin, margin = max(128 MiB, 20 % of used), never above the maximum.
Both margin numbers are settings (`--floor-margin`, `--floor-fraction`).
Without fresh guest stats the floor is unknown, and every shrink needs confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.sizes import MIB, SizeError, format_compact, parse_percent, parse_size

DEFAULT_MIN_MARGIN_KIB = 128 * MIB
DEFAULT_MARGIN_FRACTION = 0.20


class SafetyError(ValueError):
    """A margin setting that makes no sense; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class Assessment:
    needs_confirmation: bool
    floor_kib: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    min_margin_kib: int = DEFAULT_MIN_MARGIN_KIB
    margin_fraction: float = DEFAULT_MARGIN_FRACTION

    def __post_init__(self) -> None:
        if not isinstance(self.min_margin_kib, int) or self.min_margin_kib < 0:
            raise SafetyError(
                f"the floor margin must be 0 or more KiB, not {self.min_margin_kib!r}"
            )
        fraction = self.margin_fraction
        if not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0:
            raise SafetyError(f"the floor fraction must be 0 to 1 (0 % to 100 %), not {fraction!r}")

    @property
    def summary(self) -> str:
        """The rule in words, for the log and the help."""
        return (
            f"safety floor = used + max({format_compact(self.min_margin_kib)}, "
            f"{self.margin_fraction * 100:g} % of used), at most the maximum"
        )

    def margin_kib(self, used_kib: int) -> int:
        return max(self.min_margin_kib, int(used_kib * self.margin_fraction))

    def floor_kib(self, domain: DomainSnapshot, now: float) -> int | None:
        """None when the guest's own numbers are missing or stale."""
        used = domain.used_kib
        if used is None or domain.stats_stale(now):
            return None
        return min(domain.balloon_ceiling_kib, used + self.margin_kib(used))

    def assess(
        self,
        domain: DomainSnapshot,
        target_kib: int,
        now: float,
        current_kib: int | None = None,
    ) -> Assessment:
        """Does setting `target_kib` need the operator's explicit confirmation?

        `current_kib` is the target in force now (the app's latest request, which a
        snapshot may not carry yet); by default the snapshot's target, else actual.
        Only a shrink of a running (or paused) guest can need it: below what the guest has
        now (actual) or below the target in force. Growing never hurts, and a shut-off
        guest only gets a new boot size. (A target remembered from an earlier run that the
        balloon never reached does not excuse taking memory the guest has now.)
        """
        floor = self.floor_kib(domain, now)
        current = domain.effective_target_kib if current_kib is None else current_kib
        shrinking = target_kib < max(current, domain.actual_kib)
        if not shrinking or not domain.state.is_active:
            return Assessment(False, floor, "")
        if floor is None:
            return Assessment(
                True,
                None,
                f"{domain.name}: {self._unknown_why(domain, now)}, so its safety floor is "
                f"unknown. If it needs more than {format_compact(target_kib)}, it will swap "
                "or its OOM killer will end processes; a guest squeezed far enough hangs.",
            )
        if target_kib >= floor:
            return Assessment(False, floor, "")
        used = domain.used_kib or 0
        if target_kib < used:
            outcome = (
                "less than it uses now: expect heavy swapping, the OOM killer ending "
                "processes, or a hung guest"
            )
        else:
            outcome = "inside its safety margin: its page cache is dropped and it may start to swap"
        return Assessment(
            True,
            floor,
            f"{domain.name} uses {format_compact(used)}; its safety floor is "
            f"{format_compact(floor)}. {format_compact(target_kib)} is {outcome}.",
        )

    @staticmethod
    def _unknown_why(domain: DomainSnapshot, now: float) -> str:
        if domain.used_kib is not None:
            age = domain.stats_age(now)
            old = f" ({age:.0f} s old)" if age is not None else ""
            return f"its guest stats are stale{old}"
        if domain.device.stats_period <= 0:
            return "guest stats are off (stats period 0)"
        return "the guest reports no stats (is its virtio_balloon driver loaded?)"


DEFAULT_POLICY = SafetyPolicy()


def parse_margin(text: str) -> int:
    """`--floor-margin`: a size (plain numbers are MiB) or 0; returns KiB."""
    if text.strip() in ("0", "0.0"):
        return 0
    if text.strip().endswith("%"):
        raise SafetyError(
            f"--floor-margin takes a size like 256M or 1G, not a percentage ({text.strip()}); "
            "use --floor-fraction for the share of used memory"
        )
    try:
        return parse_size(text)
    except SizeError as exc:
        raise SafetyError(f"--floor-margin: {exc}") from None


def parse_fraction(text: str) -> float:
    """`--floor-fraction`: a percentage of used memory, 0 to 100 ("20" or "20%")."""
    try:
        return parse_percent(text, "--floor-fraction", 0, 100, "use 0 to 100, like 20")
    except SizeError as exc:
        raise SafetyError(str(exc)) from None
