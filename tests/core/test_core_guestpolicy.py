"""core/guestpolicy.py: a policy in metadata is foreign input, taken whole or not at all."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balloon_tui.core.guestpolicy import (
    MAX_SHARES,
    NO_POLICY,
    PolicyRead,
    check_policy,
    policy_attributes,
    policy_problem,
)
from balloon_tui.core.model import DEFAULT_GUEST_POLICY, DEFAULT_SHARES, GuestPolicy
from balloon_tui.core.sizes import GIB, MINIMUM_KIB

MAXIMUM = 4 * GIB


def test_the_defaults_are_the_floor_the_maximum_and_a_thousand_shares() -> None:
    assert DEFAULT_GUEST_POLICY == GuestPolicy(None, None, 1000) == GuestPolicy()
    assert DEFAULT_SHARES == 1000
    assert check_policy((), MAXIMUM) == NO_POLICY == PolicyRead(DEFAULT_GUEST_POLICY, None)


@pytest.mark.parametrize(
    ("attributes", "policy"),
    [
        ({}, GuestPolicy()),
        ({"shares": "0"}, GuestPolicy(shares=0)),
        ({"shares": str(MAX_SHARES)}, GuestPolicy(shares=MAX_SHARES)),
        ({"min-kib": str(GIB)}, GuestPolicy(min_kib=GIB)),
        ({"max-kib": str(MAXIMUM)}, GuestPolicy(max_kib=MAXIMUM)),
        ({"min-kib": str(GIB), "max-kib": str(GIB), "shares": "7"}, GuestPolicy(GIB, GIB, 7)),
        ({"min-kib": str(MINIMUM_KIB)}, GuestPolicy(min_kib=MINIMUM_KIB)),
        ({"shares": "0500", "by": "root", "at": "1", "future": "x"}, GuestPolicy(shares=500)),
    ],
    ids=["empty", "off", "most", "min", "max", "all", "at-minimum", "extra-attributes"],
)
def test_a_policy_that_fits_is_taken(attributes: dict[str, str], policy: GuestPolicy) -> None:
    assert check_policy((attributes,), MAXIMUM) == PolicyRead(policy)


@pytest.mark.parametrize(
    ("found", "maximum", "note"),
    [
        ((None,), MAXIMUM, "policy in metadata ignored: not a <policy …/> element"),
        (({}, {}), MAXIMUM, "2 policies in metadata ignored: there should be one"),
        (({"shares": "lots"},), MAXIMUM, "shares 'lots' is not a whole number"),
        (({"shares": "-1"},), MAXIMUM, "shares '-1' is not a whole number"),
        (({"shares": "1.5"},), MAXIMUM, "shares '1.5' is not a whole number"),
        (({"shares": ""},), MAXIMUM, "shares '' is not a whole number"),
        (({"shares": "١٢"},), MAXIMUM, "is not a whole number"),  # Arabic-Indic digits
        (({"shares": str(MAX_SHARES + 1)},), MAXIMUM, f"shares must be 0 to {MAX_SHARES}"),
        (({"min-kib": "9" * 40},), MAXIMUM, "is not a whole number"),
        (({"max-kib": str(2 * MAXIMUM)},), MAXIMUM, "max 8.00 GiB is above the maximum 4.00 GiB"),
        (({"min-kib": "1"},), MAXIMUM, "min 1 KiB is below the minimum 1.00 MiB"),
        (
            ({"min-kib": str(2 * GIB), "max-kib": str(GIB)},),
            MAXIMUM,
            "min 2.00 GiB is above max 1.00 GiB",
        ),
        (({"shares": "5"},), None, "the guest's maximum is unknown"),
        (({"shares": "\x9b31m\u202e" + "x" * 100},), MAXIMUM, "\\x9b31m\\u202"),
    ],
    ids=[
        "children",
        "two",
        "word",
        "negative",
        "fraction",
        "empty",
        "non-ascii-digits",
        "too-many-shares",
        "huge",
        "above-maximum",
        "below-minimum",
        "min-above-max",
        "no-maximum",
        "controls",
    ],
)
def test_a_policy_that_does_not_fit_is_ignored_whole_with_a_note(
    found: tuple[dict[str, str] | None, ...], maximum: int | None, note: str
) -> None:
    read = check_policy(found, maximum)
    assert read.policy == DEFAULT_GUEST_POLICY
    assert read.note is not None and note in read.note
    assert len(read.note) < 120 and "\x9b" not in read.note and "\u202e" not in read.note


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (GuestPolicy(shares=-1), "shares must be 0 to 100000, not -1"),
        (GuestPolicy(shares=True), "shares must be a whole number"),
        (GuestPolicy(min_kib=2 * GIB, max_kib=GIB), "min 2.00 GiB is above max 1.00 GiB"),
        (GuestPolicy(max_kib=MAXIMUM + GIB), "max 5.00 GiB is above the maximum"),
    ],
)
def test_a_write_is_checked_like_a_read(policy: GuestPolicy, problem: str) -> None:
    assert problem in (policy_problem(policy, MAXIMUM) or "")


sizes = st.none() | st.integers(min_value=MINIMUM_KIB, max_value=MAXIMUM)


@given(sizes, sizes, st.integers(min_value=0, max_value=MAX_SHARES))
def test_what_is_written_reads_back_the_same(
    low: int | None, high: int | None, shares: int
) -> None:
    if low is not None and high is not None and low > high:
        low, high = high, low
    policy = GuestPolicy(low, high, shares)
    assert policy_problem(policy, MAXIMUM) is None
    assert check_policy((policy_attributes(policy),), MAXIMUM) == PolicyRead(policy)


@given(st.dictionaries(st.sampled_from(["min-kib", "max-kib", "shares"]), st.text(max_size=20)))
def test_any_text_is_taken_only_inside_the_bounds(attributes: dict[str, str]) -> None:
    read = check_policy((attributes,), MAXIMUM)
    policy = read.policy
    assert (read.note is None) or policy == DEFAULT_GUEST_POLICY
    assert 0 <= policy.shares <= MAX_SHARES
    for kib in (policy.min_kib, policy.max_kib):
        assert kib is None or MINIMUM_KIB <= kib <= MAXIMUM
    if policy.min_kib is not None and policy.max_kib is not None:
        assert policy.min_kib <= policy.max_kib
