"""The regulator's policy: a proposed target for every guest of one host, with its reason.

Pure and deterministic: the same guests, budget, settings and time give the same plan
(guests are taken in key order; ties go to the smaller key). docs/regulator.md has the rules
and their sources; every number is a field of `RegulatorSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balloon_tui.core.model import CONVERGED_TOLERANCE_KIB, DomainKey, DomainState
from balloon_tui.core.regulator_inputs import GuestInput, Signals, summarise
from balloon_tui.core.regulator_settings import DEFAULT_SETTINGS, RegulatorSettings
from balloon_tui.core.sizes import MINIMUM_KIB, format_compact

_RUNNING = frozenset({DomainState.RUNNING, DomainState.BLOCKED})


@dataclass(frozen=True, slots=True)
class Proposal:
    """A target to set (or None) and why, in an operator's words."""

    key: DomainKey
    target_kib: int | None
    reason: str
    need_kib: int | None = None  # floor on damped used, at least min, raised under pressure
    share_kib: int | None = None  # need plus its share of the rest of the budget
    # Where the guest is counted without a proposal: the target of a move under way, else
    # actual. The change gate is measured from here.
    current_kib: int | None = None
    not_responding: bool = False
    pressure: bool = False


@dataclass(frozen=True, slots=True)
class HostPlan:
    budget_kib: int
    actual_kib: int  # sum of the actual sizes of the guests with live memory
    need_kib: int  # sum of the needs of the guests the regulator moves, plus the others' actual
    change_kib: int  # what the proposals would add (> 0: need) or free (< 0)
    short_kib: int  # how far the needs exceed the budget (0: they fit)
    proposals: dict[DomainKey, Proposal]

    def get(self, key: DomainKey) -> Proposal | None:
        return self.proposals.get(key)

    @property
    def summary(self) -> str:
        """One line for a status bar or a report."""
        if self.change_kib < 0:
            change = f"proposals free {format_compact(-self.change_kib)}"
        elif self.change_kib > 0:
            change = f"proposals need {format_compact(self.change_kib)}"
        else:
            change = "nothing to change"
        short = f" · short by {format_compact(self.short_kib)}" if self.short_kib else ""
        return (
            f"budget {format_compact(self.budget_kib)} · actual "
            f"{format_compact(self.actual_kib)} · {change}{short}"
        )


@dataclass(slots=True)
class _Guest:
    """Working state for one guest the regulator moves this round."""

    guest: GuestInput
    signals: Signals
    floor: int
    need: int
    high: int
    shares: int
    held: str  # why it may not shrink this round ("" if it may)
    pressure: str  # what the pressure is ("" if none)
    share: int = 0
    target: int = 0


def _duration(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _rate(kib_per_s: float) -> str:
    return f"{format_compact(max(1, round(kib_per_s)))}/s"


def _excluded(guest: GuestInput, shares: int, settings: RegulatorSettings) -> str | None:
    """Why this guest gets no proposal at all, before its numbers are looked at."""
    if guest.state not in _RUNNING:
        if guest.state is DomainState.PAUSED:
            return "paused: its balloon cannot move"
        return f"{guest.state.word}: nothing to balloon"
    if not guest.has_balloon:
        return "no balloon device"
    if shares == 0:
        return "shares 0: left alone"
    age = guest.stats_age_s
    if age is None:
        return "no guest stats (is its virtio_balloon driver loaded?)"
    if guest.stats_period_s <= 0:
        return "guest stats are off (stats period 0)"
    if age > settings.stale_periods * guest.stats_period_s:
        return f"no fresh guest stats ({age:.0f} s old)"
    return None


def _prepare(guest: GuestInput, shares: int, now: float, settings: RegulatorSettings) -> _Guest:
    signals = summarise(guest.samples, now, settings)
    used = signals.used_kib or 0
    margin = settings.safety.margin_kib(used)
    if guest.autodeflate:
        margin = int(margin * settings.autodeflate_margin_factor)
    high = min(guest.maximum_kib, guest.max_kib or guest.maximum_kib)
    floor = max(MINIMUM_KIB, min(high, used + margin))
    need = min(high, max(floor, guest.min_kib or floor))
    actual = guest.actual_kib
    held = pressure = ""
    if (
        guest.asked_kib is not None
        and abs(guest.asked_kib - actual) > CONVERGED_TOLERANCE_KIB
        and (guest.stalled_s or 0.0) >= settings.not_responding_s
    ):
        held = (
            f"not responding: asked {format_compact(guest.asked_kib)}, still at "
            f"{format_compact(actual)} after {_duration(guest.stalled_s or 0.0)}; "
            "no further shrink"
        )
    elif signals.swap_out_rate:
        held = f"swapping {_rate(signals.swap_out_rate)}: no shrink"
    if signals.swap_out_recent:
        pressure = f"swapping {_rate(signals.swap_out_recent)}"
    elif (
        signals.fault_recent is not None
        and signals.fault_recent > settings.major_fault_floor_per_s
        and signals.fault_recent > settings.major_fault_rise_factor * (signals.fault_before or 0.0)
    ):
        before = signals.fault_before
        pressure = f"major faults {signals.fault_recent:.0f}/s" + (
            f", were {before:.0f}/s" if before is not None else ""
        )
    elif signals.usable_kib is not None and signals.usable_kib < margin:
        pressure = (
            f"only {format_compact(signals.usable_kib)} usable, margin {format_compact(margin)}"
        )
    if held:
        need = max(need, min(actual, high))
    if pressure:
        need = max(need, min(high, actual + margin))
    return _Guest(guest, signals, floor, need, high, shares, held, pressure)


def _share_out(movable: list[_Guest], surplus: int) -> None:
    """Water-filling: the surplus by shares, each guest up to its high; integers, exact."""
    for g in movable:
        g.share = g.need
    open_ = [g for g in movable if g.high > g.need]
    # Guests whose room fills first (room per share smallest) leave the water level first.
    open_.sort(key=lambda g: ((g.high - g.need) / g.shares, g.guest.key))
    weight = sum(g.shares for g in open_)
    remaining = surplus
    for index, g in enumerate(open_):
        room = g.high - g.need
        if room * weight <= g.shares * remaining:
            g.share = g.high
            remaining -= room
            weight -= g.shares
            continue
        for rest in open_[index:]:
            rest.share = rest.need + min(rest.high - rest.need, rest.shares * remaining // weight)
        return


def _targets(movable: list[_Guest], room: int, settings: RegulatorSettings) -> None:
    """Each guest's target this round: shrinks paced, growth above need paced and funded."""
    extra: list[tuple[bool, DomainKey, int, _Guest]] = []
    for g in movable:
        actual = g.guest.actual_kib
        if g.share < actual:
            g.target = max(g.share, min(g.high, actual - settings.step(actual)))
        else:
            g.target = max(actual, min(g.share, g.need))
            wanted = g.share if g.pressure else min(g.share, g.target + settings.step(actual))
            if wanted > g.target:
                extra.append((not g.pressure, g.guest.key, wanted - g.target, g))
        room -= g.target
    extra.sort(key=lambda item: (item[0], item[1]))
    for _calm, _key, want, g in extra:
        if room <= 0:
            break
        granted = min(want, room)
        g.target += granted
        room -= granted


def _reason(g: _Guest, host_over: int, short: int, settings: RegulatorSettings) -> str:
    actual = g.guest.actual_kib
    signals = g.signals
    target = format_compact(g.target)
    if signals.samples <= 1:
        basis = "from one sample, not damped"
    else:
        basis = f"p{settings.percentile * 100:g} of {_duration(signals.span_s)}"
    used = format_compact(signals.used_kib)
    if g.target < actual:
        words = (
            f"shrink to {target}: {format_compact(actual - (signals.used_kib or 0))} idle "
            f"({basis}), "
        )
        words += (
            f"host over budget by {format_compact(host_over)}"
            if host_over > 0
            else f"its share is {format_compact(g.share)}"
        )
        if g.target > g.share:
            words += f"; {format_compact(actual - g.target)} this round"
    elif g.pressure:
        words = f"grow to {target}: {g.pressure}"
    elif g.target <= g.need:
        words = f"grow to {target}: uses {used} ({basis}), needs {format_compact(g.need)}"
    else:
        words = f"grow to {target}: its share of the budget is {format_compact(g.share)}"
        if g.target < g.share:
            words += f"; {format_compact(g.target - actual)} this round"
    if g.guest.autodeflate:
        words += (
            f" (autodeflate: floor keeps {settings.autodeflate_margin_factor * 100:g} % "
            "of the margin)"
        )
    if short:
        words += f"; host short by {format_compact(short)}"
    return words


def _idle_reason(g: _Guest, short: int, gate: int) -> str:
    if g.held:
        return g.held
    if short:
        return f"at its need, {format_compact(g.need)}; host short by {format_compact(short)}"
    if g.share - g.guest.actual_kib >= gate:
        return (
            f"its share is {format_compact(g.share)}: waits for others to shrink under the budget"
        )
    return f"at its share, {format_compact(g.share)}"


def plan_host(
    guests: Sequence[GuestInput],
    budget_kib: int,
    settings: RegulatorSettings = DEFAULT_SETTINGS,
    now: float = 0.0,
) -> HostPlan:
    """One round for one host: the needs first, the rest of the budget by shares."""
    proposals: dict[DomainKey, Proposal] = {}
    fixed = actual_sum = 0
    movable: list[_Guest] = []
    for guest in sorted(guests, key=lambda g: g.key):
        if guest.state.is_active:
            actual_sum += guest.actual_kib
        shares = settings.default_shares if guest.shares is None else guest.shares
        why = _excluded(guest, shares, settings)
        if why is None:
            g = _prepare(guest, shares, now, settings)
            if g.signals.used_kib is not None:
                movable.append(g)
                continue
            why = f"no used memory reported in the last {_duration(settings.window_s)}"
        if guest.state.is_active:
            fixed += guest.actual_kib
        proposals[guest.key] = Proposal(guest.key, None, why)
    needs = sum(g.need for g in movable)
    available = budget_kib - fixed
    short = max(0, needs - available)
    if short:
        for g in movable:
            g.share = g.need
    else:
        _share_out(movable, available - needs)
    _targets(movable, available, settings)
    change = 0
    host_over = actual_sum - budget_kib
    for g in movable:
        guest = g.guest
        current = (
            guest.asked_kib if guest.asked_kib is not None and not g.held else guest.actual_kib
        )
        if abs(g.target - current) < settings.change_gate_kib:
            target, reason = None, _idle_reason(g, short, settings.change_gate_kib)
        else:
            target, reason = g.target, _reason(g, host_over, short, settings)
            change += g.target - guest.actual_kib
        proposals[guest.key] = Proposal(
            guest.key,
            target,
            reason,
            need_kib=g.need,
            share_kib=g.share,
            current_kib=current,
            not_responding=g.held.startswith("not responding"),
            pressure=bool(g.pressure),
        )
    return HostPlan(budget_kib, actual_sum, needs + fixed, change, short, proposals)
