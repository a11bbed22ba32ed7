"""The regulator's numbers, each a setting with its source, and the host budget.

Sources (see docs/regulator.md): oVirt MoM, Proxmox VE pvestatd, XenServer squeezed,
Hyper-V dynamic memory, Kubernetes VPA, mvysny/virtui. Where no source gives a number, the
comment says the number is ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from balloon_tui.core.safety import DEFAULT_POLICY, SafetyPolicy
from balloon_tui.core.sizes import MIB, SizeError, format_size, parse_percent, parse_size


class RegulatorError(ValueError):
    """A regulator setting or budget that makes no sense; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class RegulatorSettings:
    # Proxmox VE keeps the host at 80 % of its RAM; the budget when none is given.
    budget_fraction: float = 0.80
    # Damping: the p95 of used over the last 5 minutes. VPA recommends from the p95 of its
    # history; MoM averages its input; the issue asks for "the last few minutes".
    window_s: float = 300.0
    percentile: float = 0.95
    # "Rising" swap-out and major faults are judged over the last three Proxmox rounds
    # (pvestatd runs every 10 s), so one busy second does not count.
    pressure_window_s: float = 30.0
    # A shrink step, and a step of growth above the need without pressure: the larger of
    # Proxmox's 100 MiB per round and MoM's 5 % of the current size. Each source's number is
    # its bound at its own scale; the larger keeps a 256 GiB guest reachable in minutes,
    # while the need (the floor on damped used) and the swap veto keep the guest safe.
    step_kib: int = 100 * MIB
    step_fraction: float = 0.05
    # No proposal for a change smaller than this (Proxmox's dead band is ±10 MiB, MoM's
    # gate 0.25 %; the issue sets 16 MiB).
    change_gate_kib: int = 16 * MIB
    # A balloon that made no progress toward our target for this long is not responding
    # (XenServer squeezed: 5 s; the issue and core/targets.py STALL_SECONDS: 10 s).
    not_responding_s: float = 10.0
    # Stats older than this many stats periods are stale (core/model.py stats_stale).
    stale_periods: int = 3
    # Proxmox's default shares; 0 means "leave this guest alone".
    default_shares: int = 1000
    # autodeflate lets the guest take memory back from the balloon on OOM (libvirt
    # <memballoon autodeflate='on'>), so its floor keeps only this part of the safety
    # margin. Ours: half.
    autodeflate_margin_factor: float = 0.5
    # Major faults "rising": the last pressure window's rate is above this many per second
    # and above `major_fault_rise_factor` times the rate before it. Ours: no source gives
    # a number (virtui votes on faults without one).
    major_fault_floor_per_s: float = 50.0
    major_fault_rise_factor: float = 2.0
    # The safety floor (used + max(128 MiB, 20 % of used)), shared with the write path.
    safety: SafetyPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        fractions = {
            "budget_fraction": (self.budget_fraction, 0.01, 1.0),
            "percentile": (self.percentile, 0.0, 1.0),
            "step_fraction": (self.step_fraction, 0.0, 1.0),
            "autodeflate_margin_factor": (self.autodeflate_margin_factor, 0.0, 1.0),
        }
        for name, (value, low, high) in fractions.items():
            if not (isinstance(value, (int, float)) and low <= value <= high):
                raise RegulatorError(f"{name} must be {low:g} to {high:g}, not {value!r}")
        positives = {
            "window_s": self.window_s,
            "pressure_window_s": self.pressure_window_s,
            "not_responding_s": self.not_responding_s,
            "stale_periods": self.stale_periods,
            "major_fault_rise_factor": self.major_fault_rise_factor,
        }
        for name, number in positives.items():
            if not (isinstance(number, (int, float)) and math.isfinite(number) and number > 0):
                raise RegulatorError(f"{name} must be a positive number, not {number!r}")
        counts = {
            "step_kib": self.step_kib,
            "change_gate_kib": self.change_gate_kib,
            "default_shares": self.default_shares,
        }
        for name, count in counts.items():
            if not isinstance(count, int) or count < 0:
                raise RegulatorError(f"{name} must be a whole number 0 or more, not {count!r}")
        if not (
            isinstance(self.major_fault_floor_per_s, (int, float))
            and self.major_fault_floor_per_s >= 0
        ):
            raise RegulatorError(
                f"major_fault_floor_per_s must be 0 or more, not {self.major_fault_floor_per_s!r}"
            )

    def step(self, actual_kib: int) -> int:
        """The most one round moves a guest (shrink, or growth above its need)."""
        return max(self.step_kib, int(actual_kib * self.step_fraction))


DEFAULT_SETTINGS = RegulatorSettings()


@dataclass(frozen=True, slots=True)
class Budget:
    """`--budget`: an absolute size, or a fraction of the host's RAM."""

    kib: int | None = None
    fraction: float | None = None

    def __post_init__(self) -> None:
        if (self.kib is None) == (self.fraction is None):
            raise RegulatorError("a budget is either a size or a percentage of host RAM")

    def resolve(self, host_memory_kib: int | None) -> int | None:
        """KiB for this host; None when it is a percentage and the host's RAM is unknown."""
        if self.kib is not None:
            return self.kib
        if host_memory_kib is None or self.fraction is None:
            return None
        return int(host_memory_kib * self.fraction)

    @property
    def text(self) -> str:
        if self.fraction is not None:
            return f"{self.fraction * 100:g} % of host RAM"
        return format_size(self.kib or 0)


DEFAULT_BUDGET = Budget(fraction=DEFAULT_SETTINGS.budget_fraction)


def parse_budget(text: str) -> Budget:
    """`--budget SIZE|PCT`: 48G, 49152 (MiB) or 75% of the host's RAM (1 to 100 %)."""
    raw = text.strip() if isinstance(text, str) else ""
    if raw.endswith("%"):
        try:
            fraction = parse_percent(raw, "--budget", 1, 100, "use 1% to 100% of host RAM")
        except SizeError as exc:
            raise RegulatorError(str(exc)) from None
        return Budget(fraction=fraction)
    try:
        return Budget(kib=parse_size(raw))
    except SizeError:
        shown = raw[:40] or "(empty)"
        raise RegulatorError(
            f"--budget: not a size: {shown!r}; use a size like 48G, a plain number of MiB "
            "like 49152, or a percentage of host RAM like 80%"
        ) from None


@dataclass(frozen=True, slots=True)
class Budgets:
    """Each host's budget: `per_host` (URI -> Budget) where given, else `default`.

    Precedence, decided where they are read (cli.py): `--budget` on the command line sets
    `default` and wins over config.toml's for every host; a host's own entry in config.toml
    wins over both for that host."""

    default: Budget = DEFAULT_BUDGET
    per_host: tuple[tuple[str, Budget], ...] = ()

    def for_host(self, uri: str) -> Budget:
        for host_uri, budget in self.per_host:
            if host_uri == uri:
                return budget
        return self.default


# `--autopilot-interval`: a round every 10 s, as Proxmox VE's pvestatd.
DEFAULT_ROUND_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class RegulatorOptions:
    """Everything the app's regulator is started with (cli.py builds it)."""

    settings: RegulatorSettings = DEFAULT_SETTINGS
    budgets: Budgets = Budgets()
    autopilot: bool = False  # --autopilot: on for every host from the start
    round_s: float = DEFAULT_ROUND_SECONDS  # --autopilot-interval: seconds between rounds
    # The human wins: the autopilot leaves a guest alone this long after an operator set
    # its target by hand (any source but the regulator's).
    hand_pause_s: float = 300.0

    def __post_init__(self) -> None:
        for name, value in (("round_s", self.round_s), ("hand_pause_s", self.hand_pause_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise RegulatorError(f"{name} must be a positive number, not {value!r}")


DEFAULT_OPTIONS = RegulatorOptions()
