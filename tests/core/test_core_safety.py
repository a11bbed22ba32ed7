"""core/safety.py: the floor rule (hypothesis), when a write needs confirmation, the settings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nodefiles import GIB, MIB

from balloon_tui.core.model import BalloonDevice, DomainSnapshot, DomainState, GuestStats
from balloon_tui.core.safety import (
    DEFAULT_POLICY,
    SafetyError,
    SafetyPolicy,
    parse_fraction,
    parse_margin,
)

NOW = 1_700_000_000.0
TIB = 1024 * GIB


def guest(
    *,
    maximum: int = 4 * GIB,
    actual: int = 4 * GIB,
    usable: int | None = 2 * GIB,
    state: DomainState = DomainState.RUNNING,
    period: int = 2,
    last_update: float | None = NOW - 1,
    target: int | None = None,
) -> DomainSnapshot:
    stats = (
        GuestStats(usable=usable, last_update=None if last_update is None else int(last_update))
        if usable is not None
        else GuestStats()
    )
    return DomainSnapshot(
        host_uri="test:///x",
        uuid="u",
        name="web",
        state=state,
        maximum_kib=maximum,
        actual_kib=actual,
        target_kib=target,
        stats=stats,
        device=BalloonDevice("virtio", stats_period=period),
    )


policies = st.builds(
    SafetyPolicy,
    st.integers(min_value=0, max_value=64 * GIB),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)


@given(
    policy=policies,
    maximum=st.integers(min_value=1, max_value=16 * TIB),
    data=st.data(),
)
def test_floor_is_used_plus_margin_never_above_max(policy, maximum, data):
    actual = data.draw(st.integers(min_value=1, max_value=maximum))
    usable = data.draw(st.integers(min_value=0, max_value=actual))
    domain = guest(maximum=maximum, actual=actual, usable=usable)
    used = domain.used_kib
    assert used == actual - usable
    floor = policy.floor_kib(domain, NOW)
    assert floor is not None
    assert floor <= maximum  # never above the maximum
    assert floor >= used  # never below what the guest uses
    margin = max(policy.min_margin_kib, int(used * policy.margin_fraction))
    assert floor == min(maximum, used + margin)  # the rule itself
    assert margin >= policy.min_margin_kib and margin >= int(used * policy.margin_fraction)


@given(used=st.integers(min_value=0, max_value=4 * TIB))
def test_default_margin_is_128_mib_or_a_fifth(used):
    margin = DEFAULT_POLICY.margin_kib(used)
    assert margin == max(128 * MIB, int(used * 0.2))
    if used <= 640 * MIB:
        assert margin == 128 * MIB
    else:
        assert margin == int(used * 0.2)


@given(policy=policies, data=st.data())
def test_assess_asks_exactly_below_the_floor_when_shrinking(policy, data):
    maximum = data.draw(st.integers(min_value=2 * MIB, max_value=TIB))
    actual = data.draw(st.integers(min_value=MIB, max_value=maximum))
    usable = data.draw(st.integers(min_value=0, max_value=actual))
    target = data.draw(st.integers(min_value=1, max_value=maximum))
    domain = guest(maximum=maximum, actual=actual, usable=usable)
    floor = policy.floor_kib(domain, NOW)
    assert floor is not None
    result = policy.assess(domain, target, NOW)
    assert result.floor_kib == floor
    shrinking = target < actual
    assert result.needs_confirmation == (shrinking and target < floor)
    assert bool(result.reason) == result.needs_confirmation
    if result.needs_confirmation:
        assert domain.name in result.reason and "uses" in result.reason


@given(data=st.data())
def test_without_fresh_stats_every_shrink_asks_and_no_growth_does(data):
    maximum = data.draw(st.integers(min_value=2 * MIB, max_value=TIB))
    actual = data.draw(st.integers(min_value=MIB, max_value=maximum))
    target = data.draw(st.integers(min_value=1, max_value=maximum))
    kind = data.draw(st.sampled_from(["off", "no-driver", "stale"]))
    if kind == "off":
        domain = guest(maximum=maximum, actual=actual, usable=None, period=0)
    elif kind == "no-driver":
        domain = guest(maximum=maximum, actual=actual, usable=None, period=2)
    else:  # stats from 10 periods ago
        domain = guest(maximum=maximum, actual=actual, usable=0, last_update=NOW - 20)
    assert DEFAULT_POLICY.floor_kib(domain, NOW) is None
    result = DEFAULT_POLICY.assess(domain, target, NOW)
    assert result.needs_confirmation == (target < actual)
    assert result.floor_kib is None


@pytest.mark.parametrize(
    ("domain", "words"),
    [
        (guest(usable=None, period=0), ["stats are off", "unknown", "swap", "OOM"]),
        (guest(usable=None, period=2), ["no stats", "virtio_balloon", "unknown"]),
        (guest(usable=0, last_update=NOW - 60), ["stale", "60 s old"]),
    ],
    ids=["period-off", "no-driver", "stale"],
)
def test_unknown_floor_says_why(domain, words):
    result = DEFAULT_POLICY.assess(domain, 3 * GIB, NOW)
    assert result.needs_confirmation
    for word in words:
        assert word in result.reason, (word, result.reason)


def test_the_reason_says_what_the_guest_uses_and_what_will_happen():
    domain = guest(actual=4 * GIB, usable=2 * GIB)  # uses 2 GiB; floor 2.4 GiB
    inside = DEFAULT_POLICY.assess(domain, 2200 * MIB, NOW)
    assert inside.needs_confirmation
    assert "uses 2.00 GiB" in inside.reason and "floor is 2.40 GiB" in inside.reason
    assert "swap" in inside.reason
    under = DEFAULT_POLICY.assess(domain, GIB, NOW)
    assert "less than it uses now" in under.reason and "OOM" in under.reason
    assert not DEFAULT_POLICY.assess(domain, 3 * GIB, NOW).needs_confirmation


def test_growing_and_shut_off_guests_never_ask():
    squeezed = guest(actual=GIB, usable=0, target=512 * MIB)  # forced down, got there: uses 1G
    # Going up from what it has and from the target in force needs no question...
    assert not DEFAULT_POLICY.assess(squeezed, 1100 * MIB, NOW).needs_confirmation
    # ...going up from the target but down from what it has now does (still under 1.2 GiB).
    assert DEFAULT_POLICY.assess(squeezed, 1000 * MIB, NOW).needs_confirmation
    # The app passes its own latest request as the target in force.
    assert DEFAULT_POLICY.assess(squeezed, 1100 * MIB, NOW, current_kib=2 * GIB).needs_confirmation
    # A remembered target the balloon never reached (stalled at 4 GiB, the guest uses 3 GiB)
    # does not make 2 GiB a "raise": the guest would lose memory below its floor.
    stalled = guest(actual=4 * GIB, usable=GIB, target=GIB)
    assert DEFAULT_POLICY.assess(stalled, 2 * GIB, NOW).needs_confirmation
    off = guest(state=DomainState.SHUTOFF, usable=None, period=0)
    assert not DEFAULT_POLICY.assess(off, MIB, NOW).needs_confirmation
    paused = guest(state=DomainState.PAUSED, usable=None, period=0)
    assert DEFAULT_POLICY.assess(paused, GIB, NOW).needs_confirmation


def test_a_custom_margin_moves_the_floor():
    domain = guest(actual=4 * GIB, usable=2 * GIB)
    assert SafetyPolicy(0, 0.0).floor_kib(domain, NOW) == 2 * GIB
    assert SafetyPolicy(GIB, 0.0).floor_kib(domain, NOW) == 3 * GIB
    assert SafetyPolicy(0, 0.5).floor_kib(domain, NOW) == 3 * GIB
    assert SafetyPolicy(8 * GIB, 1.0).floor_kib(domain, NOW) == 4 * GIB  # capped at max
    assert "128 MiB" in DEFAULT_POLICY.summary and "20 %" in DEFAULT_POLICY.summary


@pytest.mark.parametrize(
    ("margin", "fraction"), [(-1, 0.2), (0, -0.1), (0, 1.5), (0, float("nan")), (1.5, 0.2)]
)
def test_nonsense_policies_are_refused(margin, fraction):
    with pytest.raises(SafetyError):
        SafetyPolicy(margin, fraction)


@pytest.mark.parametrize(
    ("text", "kib"),
    [("0", 0), ("256M", 256 * MIB), ("1G", GIB), ("512", 512 * MIB), (" 1.5GiB ", 1536 * MIB)],
)
def test_parse_margin(text, kib):
    assert parse_margin(text) == kib


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("20%", ["percentage", "--floor-fraction"]),
        ("lots", ["--floor-margin", "not a size"]),
        ("-5M", ["--floor-margin"]),
        ("", ["--floor-margin"]),
        ("5Q", ["unknown unit"]),
    ],
)
def test_parse_margin_refuses(text, words):
    with pytest.raises(SafetyError) as caught:
        parse_margin(text)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("text", "value"), [("20", 0.2), ("20%", 0.2), ("0", 0.0), ("100", 1.0), ("12.5 %", 0.125)]
)
def test_parse_fraction(text, value):
    assert parse_fraction(text) == pytest.approx(value)


@given(st.text(max_size=20))
def test_parse_fraction_takes_only_0_to_100(text):
    try:
        value = parse_fraction(text)
    except SafetyError as exc:
        assert "--floor-fraction" in str(exc)
        return
    assert 0.0 <= value <= 1.0
