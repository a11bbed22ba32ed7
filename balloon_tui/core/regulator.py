"""The regulator's policy: a proposed target for every guest of one host, with its reason.

Pure and deterministic: the same guests, budget, settings and time give the same plan
(guests are taken in key order; ties go to the smaller key). docs/regulator.md has the rules
and their sources; every number is a field of `RegulatorSettings`.

A round runs for every guest of a host each autopilot interval, so the per-guest work is
kept lean (docs/regulator.md "Cost"): reasons are put into words only when read, and a
guest's samples are damped again only when they changed (`GuestInput.signals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from balloon_tui.core.model import CONVERGED_TOLERANCE_KIB, DomainKey, DomainState
from balloon_tui.core.regulator_inputs import GuestInput, Signals, summarise
from balloon_tui.core.regulator_settings import DEFAULT_SETTINGS, RegulatorSettings
from balloon_tui.core.regulator_words import (
    Proposal,
    Words,
    at_need_words,
    at_share_words,
    change_words,
    duration,
    faults_words,
    low_usable_words,
    not_responding_words,
    stalled_words,
    swap_veto_words,
    swapping_words,
    waits_words,
)
from balloon_tui.core.sizes import MINIMUM_KIB, format_compact

_RUNNING = frozenset({DomainState.RUNNING, DomainState.BLOCKED})
_ACTIVE = frozenset(state for state in DomainState if state.is_active)
_KEY = attrgetter("key")


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
    key: DomainKey
    actual: int
    need: int
    high: int
    shares: int
    held: Words | None  # why it may not shrink this round (None if it may)
    pressure: Words | None  # what the pressure is (None if none)
    share: int = 0
    target: int = 0


def _stalled(guest: GuestInput, settings: RegulatorSettings) -> bool:
    """We asked for a target, and the actual has not moved toward it for a while."""
    asked, actual = guest.asked_kib, guest.actual_kib
    return (
        asked is not None
        and (asked - actual > CONVERGED_TOLERANCE_KIB or actual - asked > CONVERGED_TOLERANCE_KIB)
        and (guest.stalled_s or 0.0) >= settings.not_responding_s
    )


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


def _prepare(
    guest: GuestInput, signals: Signals, used: int, shares: int, settings: RegulatorSettings
) -> _Guest:
    # Comparisons rather than min()/max(): this runs for every guest of every round, and a
    # builtin call costs several comparisons (docs/regulator.md "Cost").
    safety = settings.safety
    margin = int(used * safety.margin_fraction)
    if margin < safety.min_margin_kib:
        margin = safety.min_margin_kib
    if guest.autodeflate:
        margin = int(margin * settings.autodeflate_margin_factor)
    high = guest.maximum_kib
    if guest.max_kib and guest.max_kib < high:
        high = guest.max_kib
    # The floor on used, at least min (when set), never above high nor below the minimum.
    need = used + margin
    if need > high:
        need = high
    if need < MINIMUM_KIB:
        need = MINIMUM_KIB
    if guest.min_kib and guest.min_kib > need:
        need = guest.min_kib
    if need > high:
        need = high
    actual = guest.actual_kib
    asked = guest.asked_kib
    held: Words | None = None
    pressure: Words | None = None
    if asked is not None and _stalled(guest, settings):
        held = (not_responding_words, asked, actual, guest.stalled_s or 0.0)
        need = max(need, min(actual, high))
    elif signals.swap_out_rate:
        held = (swap_veto_words, signals.swap_out_rate)
        need = max(need, min(actual, high))
    fault_recent = signals.fault_recent
    if signals.swap_out_recent:
        pressure = (swapping_words, signals.swap_out_recent)
    elif (
        fault_recent is not None
        and fault_recent > settings.major_fault_floor_per_s
        and fault_recent > settings.major_fault_rise_factor * (signals.fault_before or 0.0)
    ):
        pressure = (faults_words, fault_recent, signals.fault_before)
    elif signals.usable_kib is not None and signals.usable_kib < margin:
        pressure = (low_usable_words, signals.usable_kib, margin)
    if pressure is not None:
        need = max(need, min(high, actual + margin))
    return _Guest(guest, signals, guest.key, actual, need, high, shares, held, pressure)


def _share_out(movable: list[_Guest], surplus: int) -> None:
    """Water-filling: the surplus by shares, each guest up to its high; integers, exact."""
    for g in movable:
        g.share = g.need
    open_ = [g for g in movable if g.high > g.need]
    # Guests whose room fills first (room per share smallest) leave the water level first;
    # `movable` is in key order and the sort is stable, so ties go to the smaller key.
    per_share = [(g.high - g.need) / g.shares for g in open_]
    open_ = [open_[i] for i in sorted(range(len(open_)), key=per_share.__getitem__)]
    weight = sum([g.shares for g in open_])
    remaining = surplus
    for index, g in enumerate(open_):
        room = g.high - g.need
        if room * weight <= g.shares * remaining:
            g.share = g.high
            remaining -= room
            weight -= g.shares
            continue
        for rest in open_[index:]:
            room = rest.high - rest.need
            part = rest.shares * remaining // weight
            rest.share = rest.need + (part if part < room else room)
        return


def _targets(movable: list[_Guest], room: int, settings: RegulatorSettings) -> None:
    """Each guest's target this round: shrinks paced, growth above need paced and funded."""
    step_kib, step_fraction = settings.step_kib, settings.step_fraction
    # Growth above the need, funded from the room left: guests under pressure first, then
    # in key order (the order of `movable`).
    urgent: list[tuple[int, _Guest]] = []
    calm: list[tuple[int, _Guest]] = []
    for g in movable:
        actual, share = g.actual, g.share
        step = int(actual * step_fraction)
        if step < step_kib:
            step = step_kib
        if share < actual:
            # One step down, not below the share, and at once down to high (max's cap).
            target = actual - step
            if target > g.high:
                target = g.high
            if target < share:
                target = share
        else:
            # Up to the need at once; above it, one step (all of it under pressure).
            target = g.need if g.need < share else share
            if target < actual:
                target = actual
            if g.pressure is not None:
                if share > target:
                    urgent.append((share - target, g))
            elif share > target:
                calm.append((step if step < share - target else share - target, g))
        g.target = target
        room -= target
    for want, g in urgent + calm:
        if room <= 0:
            break
        granted = want if want < room else room
        g.target += granted
        room -= granted


def _idle(g: _Guest, short: int, gate: int) -> Words:
    if g.held is not None:
        return g.held
    if short:
        return (at_need_words, g.need, short)
    if g.share - g.actual >= gate:
        return (waits_words, g.share)
    return (at_share_words, g.share)


def plan_host(
    guests: Sequence[GuestInput],
    budget_kib: int,
    settings: RegulatorSettings = DEFAULT_SETTINGS,
    now: float = 0.0,
) -> HostPlan:
    """One round for one host: the needs first, the rest of the budget by shares.

    A guest's `signals`, when given, stand for its samples damped at `now` with `settings`
    (SignalCache); otherwise its samples are damped here.
    """
    proposals: dict[DomainKey, Proposal] = {}
    fixed = actual_sum = 0
    movable: list[_Guest] = []
    default_shares = settings.default_shares
    stale_periods = settings.stale_periods
    for guest in sorted(guests, key=_KEY):
        active = guest.state in _ACTIVE
        if active:
            actual_sum += guest.actual_kib
        shares = default_shares if guest.shares is None else guest.shares
        age, period = guest.stats_age_s, guest.stats_period_s
        # _excluded's checks inline: most guests pass them, and this runs for each of them.
        if (
            guest.state in _RUNNING
            and guest.has_balloon
            and shares != 0
            and age is not None
            and period > 0
            and age <= stale_periods * period
        ):
            signals = guest.signals
            if signals is None:
                signals = summarise(guest.samples, now, settings)
            if signals.used_kib is not None:
                movable.append(_prepare(guest, signals, signals.used_kib, shares, settings))
                continue
            why = f"no used memory reported in the last {duration(settings.window_s)}"
        else:
            why = _excluded(guest, shares, settings) or ""
        if active:
            fixed += guest.actual_kib
        if guest.state in _RUNNING and guest.has_balloon and _stalled(guest, settings):
            # Asked and never answered (no driver: no stats either): shown as such, and
            # left alone like any guest without a proposal.
            proposals[guest.key] = Proposal(
                guest.key,
                None,
                (
                    stalled_words,
                    guest.asked_kib or 0,
                    guest.actual_kib,
                    guest.stalled_s or 0.0,
                    why,
                ),
                not_responding=True,
            )
            continue
        proposals[guest.key] = Proposal(guest.key, None, why)
    needs = sum([g.need for g in movable])
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
    gate = settings.change_gate_kib
    for g in movable:
        actual, target, held = g.actual, g.target, g.held
        asked = g.guest.asked_kib
        current = asked if asked is not None and held is None else actual
        words: Words
        if -gate < target - current < gate:
            proposed = None
            words = _idle(g, short, gate)
        else:
            proposed = target
            change += target - actual
            signals = g.signals
            words = (
                change_words,
                target,
                actual,
                signals.used_kib,
                None if signals.samples <= 1 else signals.span_s,
                g.share,
                g.need,
                g.pressure,
                host_over,
                short,
                g.guest.autodeflate,
                settings,
            )
        proposals[g.key] = Proposal(
            g.key,
            proposed,
            words,
            g.need,
            g.share,
            current,
            held is not None and held[0] is not_responding_words,
            g.pressure is not None,
        )
    return HostPlan(budget_kib, actual_sum, needs + fixed, change, short, proposals)
