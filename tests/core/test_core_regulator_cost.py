"""What makes a regulator round cheap, and that it changes no plan: reasons formatted only
when read (`Proposal`), signals given with the guest (`GuestInput.signals`), and the
`SignalCache` that damps a guest again only when its samples or its windows changed."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nodefiles import GIB, MIB
from test_core_regulator import AT_ONCE, NOW, fleets, guest, samples

import balloon_tui.core.regulator_words as words_module
from balloon_tui.core.regulator import plan_host
from balloon_tui.core.regulator_inputs import (
    GuestInput,
    GuestSample,
    SignalCache,
    Signals,
    _rates,
    counter_rate,
    summarise,
)
from balloon_tui.core.regulator_settings import DEFAULT_SETTINGS, RegulatorSettings
from balloon_tui.core.regulator_words import Proposal

KEY = ("qemu:///system", "uuid-a")
# Short windows, so that a few steps of time move samples across both window starts.
SHORT = RegulatorSettings(window_s=20.0, pressure_window_s=6.0)


def history(*rows: tuple[float, int, int]) -> tuple[GuestSample, ...]:
    """Samples from (seconds before NOW, used, swap-out counter)."""
    return tuple(GuestSample(NOW - ago, used, 1 * GIB, swap, 0, 0) for ago, used, swap in rows)


# --- SignalCache: when it damps again ----------------------------------------------------


def test_the_cache_keeps_the_signals_while_nothing_changed() -> None:
    cache = SignalCache(DEFAULT_SETTINGS)
    rows = samples(1 * GIB)
    first = cache.signals(KEY, rows, NOW)
    assert first == summarise(rows, NOW, DEFAULT_SETTINGS)
    # The same samples a second later (a copy, as a feed builds them): no sample crossed a
    # window start, so the signals kept are the answer.
    assert cache.signals(KEY, tuple(rows), NOW + 1.0) is first
    assert len(cache) == 1


def test_a_new_sample_damps_again() -> None:
    cache = SignalCache(SHORT)
    rows = history((10, 1 * GIB, 0), (8, 1 * GIB, 0), (6, 1 * GIB, 0))
    before = cache.signals(KEY, rows, NOW)
    grown = (*rows, GuestSample(NOW + 1, 3 * GIB, 1 * GIB, 0, 0, 0))
    after = cache.signals(KEY, grown, NOW + 1)
    assert after is not before
    assert after == summarise(grown, NOW + 1, SHORT)
    assert after.used_kib == 3 * GIB and after.samples == 4


def test_a_new_sample_in_a_history_of_fixed_length_damps_again() -> None:
    cache = SignalCache(SHORT)
    rows = history((10, 1 * GIB, 0), (8, 1 * GIB, 0), (6, 1 * GIB, 0))
    cache.signals(KEY, rows, NOW)
    slid = (*rows[1:], GuestSample(NOW - 4, 2 * GIB, 1 * GIB, 0, 0, 0))  # one in, one out
    assert cache.signals(KEY, slid, NOW) == summarise(slid, NOW, SHORT)
    assert cache.signals(KEY, slid, NOW).used_kib == 2 * GIB


def test_a_sample_leaving_the_window_damps_again() -> None:
    cache = SignalCache(SHORT)
    # A spike 19 s ago, calm since: inside the 20 s window now, outside it 2 s later.
    rows = history((19, 6 * GIB, 0), (10, 1 * GIB, 0), (2, 1 * GIB, 0))
    assert cache.signals(KEY, rows, NOW).used_kib == 6 * GIB
    later = cache.signals(KEY, rows, NOW + 1.0)  # exactly at the window's start: still in
    assert later.used_kib == 6 * GIB
    gone = cache.signals(KEY, rows, NOW + 2.0)
    assert gone == summarise(rows, NOW + 2.0, SHORT)
    assert gone.used_kib == 1 * GIB and gone.samples == 2


def test_a_sample_crossing_the_pressure_window_damps_again() -> None:
    cache = SignalCache(SHORT)
    # Swapped between 8 s and 5 s ago: in the 6 s pressure window now, not 4 s later.
    rows = history((8, 1 * GIB, 0), (5, 1 * GIB, 3 * MIB), (1, 1 * GIB, 3 * MIB))
    assert cache.signals(KEY, rows, NOW).swap_out_recent == pytest.approx(3 * MIB / 7)
    calm = cache.signals(KEY, rows, NOW + 4.0)
    assert calm == summarise(rows, NOW + 4.0, SHORT)
    assert calm.swap_out_recent == 0.0 and calm.swap_out_rate == pytest.approx(3 * MIB / 7)


def test_a_counter_reset_counts_from_zero() -> None:
    cache = SignalCache(SHORT)
    rows = history((6, 1 * GIB, 500 * MIB), (4, 1 * GIB, 510 * MIB))
    assert cache.signals(KEY, rows, NOW).swap_out_rate == pytest.approx(10 * MIB / 2)
    # The guest rebooted: its counter starts again, and the 1 MiB since counts.
    rebooted = (*rows, GuestSample(NOW - 2, 1 * GIB, 1 * GIB, 1 * MIB, 0, 0))
    signals = cache.signals(KEY, rebooted, NOW)
    assert signals == summarise(rebooted, NOW, SHORT)
    assert signals.swap_out_rate == pytest.approx(11 * MIB / 4)


def test_retain_forgets_the_guests_that_left() -> None:
    cache = SignalCache(DEFAULT_SETTINGS)
    other = ("qemu:///system", "uuid-b")
    for key in (KEY, other):
        cache.signals(key, samples(1 * GIB), NOW)
    cache.retain({other})
    assert len(cache) == 1
    kept = cache.signals(other, samples(1 * GIB), NOW)
    assert cache.signals(other, samples(1 * GIB), NOW) is kept


@st.composite
def rounds(draw: st.DrawFn) -> list[tuple[str, int, int, int]]:
    """Steps of a guest's life: time passing (now and then backwards), a new sample (its
    counters rising, or reset by a reboot; with `slide` the oldest goes as it comes, as in
    a history of fixed length), the oldest samples dropped, the same again."""
    step = st.tuples(
        st.sampled_from(["wait", "sample", "sample", "slide", "trim", "again"]),
        st.integers(-3, 25),
        st.integers(0, 4),
        st.integers(-1, 3),
    )
    return draw(st.lists(step, min_size=1, max_size=40))


@settings(max_examples=300)
@given(rounds(), st.sampled_from([SHORT, DEFAULT_SETTINGS]))
def test_the_cache_always_gives_what_summarise_gives(
    steps: list[tuple[str, int, int, int]], rules: RegulatorSettings
) -> None:
    cache = SignalCache(rules)
    rows: list[GuestSample] = []
    now = NOW
    swap = faults = 0
    for action, seconds, used, counter in steps:
        if action == "wait":
            now += seconds
        elif action in ("sample", "slide"):
            if action == "slide" and rows:
                del rows[0]
            now += max(1, seconds)
            # counter -1: a reboot resets both counters; otherwise they rise.
            swap = 0 if counter < 0 else swap + counter * 64
            faults = 0 if counter < 0 else faults + counter * 100
            rows.append(GuestSample(now, used * GIB or None, used * GIB, swap, 0, faults))
        elif action == "trim":
            del rows[: used + 1]
        shown = tuple(rows)
        assert cache.signals(KEY, shown, now) == summarise(shown, now, rules)


# --- plan_host with signals given ---------------------------------------------------------


def with_signals(guests: list[GuestInput], cache: SignalCache, now: float) -> list[GuestInput]:
    return [dataclasses.replace(g, signals=cache.signals(g.key, g.samples, now)) for g in guests]


@settings(max_examples=300)
@given(fleets(), st.integers(0, 40))
def test_a_plan_from_cached_signals_is_the_plan_from_scratch(
    fleet: tuple[list[GuestInput], int], later: int
) -> None:
    guests, budget = fleet
    cache = SignalCache(DEFAULT_SETTINGS)
    with_signals(guests, cache, NOW)  # an earlier round filled the cache
    for rules in (AT_ONCE, DEFAULT_SETTINGS):
        cache.settings = rules  # the same windows: what it keeps stays valid
        scratch = plan_host(guests, budget, rules, NOW + later)
        cached = plan_host(with_signals(guests, cache, NOW + later), budget, rules, NOW + later)
        assert cached == scratch
        assert [p.reason for p in cached.proposals.values()] == [
            p.reason for p in scratch.proposals.values()
        ]
        assert cached.summary == scratch.summary


def test_given_signals_stand_for_the_samples() -> None:
    calm = guest("a", actual=2 * GIB, used=1 * GIB)
    swapping = Signals(150, 298.0, 1 * GIB, 1 * GIB, 12 * MIB, 12 * MIB, None, None)
    plan = plan_host([dataclasses.replace(calm, signals=swapping)], 8 * GIB, AT_ONCE, NOW)
    proposal = plan.proposals[calm.key]
    assert proposal.pressure and proposal.reason.startswith("grow to 8.00 GiB: swapping 12.0")


# --- reasons put into words only when read --------------------------------------------------


def test_a_round_formats_no_reason_until_one_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int | None] = []
    real = words_module.format_compact

    def counting(kib: int | None) -> str:
        calls.append(kib)
        return real(kib)

    monkeypatch.setattr(words_module, "format_compact", counting)
    guests = [
        guest("a", actual=8 * GIB, used=1 * GIB),
        guest("b", actual=1 * GIB, used=2 * GIB),
        guest("c", actual=2 * GIB, used=1 * GIB, rows=samples(1 * GIB, swap_per_s=50.0)),
    ]
    plan = plan_host(guests, 6 * GIB, now=NOW)
    assert calls == []
    assert plan.proposals[guests[0].key].reason.startswith("shrink to ")
    assert calls
    read = len(calls)
    assert plan.proposals[guests[0].key].reason.startswith("shrink to ")  # kept
    assert len(calls) == read


def test_proposals_compare_by_their_fields_and_words() -> None:
    def never(_share: int) -> str:
        raise AssertionError("equal facts need no words")

    def at_share(share: int) -> str:
        return f"at its share, {share // GIB} GiB"

    same = Proposal(KEY, None, (never, 2 * GIB), 2 * GIB, 2 * GIB, 2 * GIB)
    assert same == Proposal(KEY, None, (never, 2 * GIB), 2 * GIB, 2 * GIB, 2 * GIB)
    lazy = Proposal(KEY, None, (at_share, 2 * GIB + 1), 2 * GIB, 2 * GIB, 2 * GIB)
    text = Proposal(KEY, None, "at its share, 2 GiB", 2 * GIB, 2 * GIB, 2 * GIB)
    # Different facts, the same words: equal, and equal hashes.
    assert lazy == text and hash(lazy) == hash(text)
    assert lazy != Proposal(KEY, None, "at its share, 3 GiB", 2 * GIB, 2 * GIB, 2 * GIB)
    assert text != Proposal(KEY, 3 * GIB, "at its share, 2 GiB", 2 * GIB, 2 * GIB, 2 * GIB)
    assert "reason='at its share, 2 GiB'" in repr(lazy)
    with pytest.raises(AttributeError):
        text.target_kib = 1  # type: ignore[misc]


@settings(max_examples=300)
@given(
    st.lists(st.none() | st.integers(0, 40), max_size=12),
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=3),
)
def test_rates_of_a_column_checked_once_are_the_rates_of_its_parts(
    column: list[int | None], bounds: list[tuple[int, int]]
) -> None:
    rows = tuple(GuestSample(NOW + 2 * i, 1, None, value) for i, value in enumerate(column))
    parts = tuple((min(a, b), max(a, b)) for a, b in bounds if max(a, b) <= len(column))
    swap_out = GuestSample._fields.index("swap_out_kib")
    assert _rates(column, rows, 0, parts) == [counter_rate(rows, swap_out, a, b) for a, b in parts]
