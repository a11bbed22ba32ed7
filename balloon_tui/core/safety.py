"""The safety floor: how far a balloon may shrink a guest before it starts to suffer.

floor = used + margin, margin = max(128 MiB, 20 % of used), never above the maximum.
Without fresh guest stats the floor is unknown, and every shrink needs confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass

from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.sizes import MIB, format_compact


@dataclass(frozen=True, slots=True)
class SafetyPolicy:
    min_margin_kib: int = 128 * MIB
    margin_fraction: float = 0.20

    def floor_kib(self, domain: DomainSnapshot, now: float) -> int | None:
        """None when the guest's own numbers are missing or stale."""
        used = domain.used_kib
        if used is None or domain.stats_stale(now):
            return None
        margin = max(self.min_margin_kib, int(used * self.margin_fraction))
        return min(domain.maximum_kib, used + margin)

    def assess(self, domain: DomainSnapshot, target_kib: int, now: float) -> Assessment:
        current = domain.effective_target_kib
        if target_kib >= current or not domain.state.is_active:
            # Growing never hurts a guest; a shut-off guest only gets a new boot size.
            return Assessment(False, self.floor_kib(domain, now), "")
        floor = self.floor_kib(domain, now)
        if floor is None:
            if domain.used_kib is None:
                why = (
                    "there are no guest stats (stats period off or no driver), so how "
                    "much memory the guest uses is unknown"
                )
            else:
                why = "the guest stats are stale, so what the guest uses now is unknown"
            return Assessment(
                True,
                None,
                f"Shrinking {domain.name} to {format_compact(target_kib)}: {why}. "
                "If the guest needs more than that, it will swap or its OOM killer "
                "will end processes; a guest squeezed far enough hangs.",
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
            outcome = "inside its safety margin: page cache is dropped and it may start to swap"
        return Assessment(
            True,
            floor,
            f"{domain.name} uses {format_compact(used)}; its safety floor is "
            f"{format_compact(floor)}. {format_compact(target_kib)} is {outcome}.",
        )


@dataclass(frozen=True, slots=True)
class Assessment:
    needs_confirmation: bool
    floor_kib: int | None
    reason: str


DEFAULT_POLICY = SafetyPolicy()
