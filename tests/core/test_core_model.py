"""core/model.py: derived values (used, stats age, pending), host sums, fleet lookup."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balloon_tui.core.model import (
    CONVERGED_TOLERANCE_KIB,
    BalloonDevice,
    DomainSnapshot,
    DomainState,
    FleetSnapshot,
    GuestStats,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.sizes import GIB, MIB

URI = "test:///host-a.xml"
VIRTIO = BalloonDevice(model="virtio", stats_period=2)


def dom(
    name: str = "g",
    *,
    uuid: str | None = None,
    uri: str = URI,
    state: DomainState = DomainState.RUNNING,
    maximum: int = 4 * GIB,
    actual: int = 4 * GIB,
    target: int | None = None,
    stats: GuestStats | None = None,
    device: BalloonDevice = VIRTIO,
) -> DomainSnapshot:
    return DomainSnapshot(
        host_uri=uri,
        uuid=uuid or f"uuid-{name}",
        name=name,
        state=state,
        maximum_kib=maximum,
        actual_kib=actual,
        target_kib=target,
        stats=stats or GuestStats(),
        device=device,
    )


# -- used ------------------------------------------------------------------------------------
def test_used_is_actual_minus_usable() -> None:
    d = dom(actual=3 * GIB, stats=GuestStats(usable=1 * GIB, unused=2 * GIB))
    assert d.used_kib == 2 * GIB  # usable (MemAvailable) wins over unused (MemFree)


def test_used_falls_back_to_actual_minus_unused() -> None:
    d = dom(actual=3 * GIB, stats=GuestStats(unused=512 * MIB))
    assert d.used_kib == 3 * GIB - 512 * MIB


def test_used_is_none_without_stats() -> None:
    assert dom(actual=3 * GIB).used_kib is None
    assert dom(actual=3 * GIB, stats=GuestStats(available=GIB, rss=GIB)).used_kib is None


def test_used_never_negative() -> None:
    assert dom(actual=GIB, stats=GuestStats(usable=2 * GIB)).used_kib == 0
    assert dom(actual=GIB, stats=GuestStats(unused=2 * GIB)).used_kib == 0


def test_used_zero_usable_is_a_value_not_missing() -> None:
    # 0 is a real reading (the guest has nothing available), not "no stats".
    d = dom(actual=2 * GIB, stats=GuestStats(usable=0, unused=GIB))
    assert d.used_kib == 2 * GIB


@given(
    actual=st.integers(0, 2**40),
    usable=st.one_of(st.none(), st.integers(0, 2**40)),
    unused=st.one_of(st.none(), st.integers(0, 2**40)),
)
def test_used_property(actual: int, usable: int | None, unused: int | None) -> None:
    used = dom(actual=actual, stats=GuestStats(usable=usable, unused=unused)).used_kib
    if usable is not None:
        assert used == max(0, actual - usable)
    elif unused is not None:
        assert used == max(0, actual - unused)
    else:
        assert used is None


def test_guest_stats_empty() -> None:
    assert GuestStats().empty
    assert GuestStats(rss=5, last_update=10).empty
    assert not GuestStats(unused=0).empty
    assert not GuestStats(usable=1).empty
    assert not GuestStats(available=1).empty


# -- stats age -------------------------------------------------------------------------------
def test_stats_age_and_staleness_follow_the_period() -> None:
    d = dom(stats=GuestStats(usable=GIB, last_update=1000), device=VIRTIO)  # period 2 s
    assert d.stats_age(1000.0) == 0.0
    assert d.stats_age(1004.5) == 4.5
    assert not d.stats_stale(1000.0)
    assert not d.stats_stale(1006.0)  # exactly three periods: still fresh
    assert d.stats_stale(1006.5)  # older than three periods
    assert d.stats_stale(2000.0)


def test_stats_age_never_negative_when_the_clock_is_behind() -> None:
    d = dom(stats=GuestStats(usable=GIB, last_update=1000))
    assert d.stats_age(990.0) == 0.0
    assert not d.stats_stale(990.0)


def test_no_last_update_means_no_age_and_not_stale() -> None:
    d = dom(stats=GuestStats(usable=GIB))
    assert d.stats_age(1e9) is None
    assert not d.stats_stale(1e9)


def test_stats_without_a_period_are_frozen_hence_stale() -> None:
    d = dom(
        stats=GuestStats(usable=GIB, last_update=1000),
        device=BalloonDevice(model="virtio", stats_period=0),
    )
    assert d.stats_stale(1000.0)


@given(period=st.integers(1, 3600), age=st.floats(0, 20000, allow_nan=False))
def test_stale_means_older_than_three_periods(period: int, age: float) -> None:
    d = dom(
        stats=GuestStats(usable=GIB, last_update=1_000_000),
        device=BalloonDevice(model="virtio", stats_period=period),
    )
    assert d.stats_stale(1_000_000 + age) == (age > 3 * period)


# -- pending / inflating ---------------------------------------------------------------------
def test_no_target_is_not_pending() -> None:
    d = dom(actual=2 * GIB)
    assert not d.pending
    assert not d.inflating
    assert d.effective_target_kib == 2 * GIB


def test_pending_beyond_tolerance_only() -> None:
    assert not dom(actual=2 * GIB, target=2 * GIB).pending
    assert not dom(actual=2 * GIB, target=2 * GIB + CONVERGED_TOLERANCE_KIB).pending
    assert not dom(actual=2 * GIB, target=2 * GIB - CONVERGED_TOLERANCE_KIB).pending
    assert dom(actual=2 * GIB, target=2 * GIB + CONVERGED_TOLERANCE_KIB + 1).pending
    assert dom(actual=2 * GIB, target=2 * GIB - CONVERGED_TOLERANCE_KIB - 1).pending


def test_inflating_is_a_shrinking_guest() -> None:
    shrinking = dom(actual=3 * GIB, target=2 * GIB)
    growing = dom(actual=2 * GIB, target=3 * GIB)
    assert shrinking.pending and shrinking.inflating
    assert growing.pending and not growing.inflating
    assert shrinking.effective_target_kib == 2 * GIB
    # Within tolerance below: not pending, so not inflating either.
    assert not dom(actual=3 * GIB, target=3 * GIB - 10).inflating


@given(actual=st.integers(1, 2**40), target=st.one_of(st.none(), st.integers(1, 2**40)))
def test_pending_and_inflating_property(actual: int, target: int | None) -> None:
    d = dom(actual=actual, target=target)
    expected_pending = target is not None and abs(target - actual) > CONVERGED_TOLERANCE_KIB
    assert d.pending == expected_pending
    assert d.inflating == (expected_pending and target is not None and target < actual)


def test_key_is_host_and_uuid() -> None:
    assert dom("x", uuid="u-1").key == (URI, "u-1")


# -- states ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "state", "active"),
    [
        (1, DomainState.RUNNING, True),
        (2, DomainState.BLOCKED, True),
        (3, DomainState.PAUSED, True),
        (4, DomainState.SHUTDOWN, True),
        (5, DomainState.SHUTOFF, False),
        (6, DomainState.CRASHED, False),
        (7, DomainState.PMSUSPENDED, True),
        (0, DomainState.NOSTATE, False),
        (99, DomainState.NOSTATE, False),
        (-1, DomainState.NOSTATE, False),
    ],
)
def test_state_codes(code: int, state: DomainState, active: bool) -> None:
    assert DomainState.from_code(code) is state
    assert state.is_active == active
    assert state.word and state.symbol


def test_state_words_and_symbols_are_distinct() -> None:
    assert len({s.word for s in DomainState}) == len(DomainState)
    assert len({s.symbol for s in DomainState}) == len(DomainState)
    assert DomainState.SHUTOFF.word == "shut off"
    assert DomainState.PAUSED.word == "paused"


def test_balloon_device_presence() -> None:
    assert not BalloonDevice().present
    assert not BalloonDevice(model="none").present
    assert BalloonDevice(model="virtio").present


# -- hosts -----------------------------------------------------------------------------------
def _host(*domains: DomainSnapshot, total: int | None = 16 * GIB, uri: str = URI) -> HostSnapshot:
    return HostSnapshot(uri=uri, status=HostStatus.OK, memory_total_kib=total, domains=domains)


def test_host_sums_count_active_domains_only() -> None:
    host = _host(
        dom("run", maximum=4 * GIB, actual=3 * GIB, target=2 * GIB, stats=GuestStats(usable=GIB)),
        dom("pause", state=DomainState.PAUSED, maximum=2 * GIB, actual=2 * GIB),
        dom("off", state=DomainState.SHUTOFF, maximum=8 * GIB, actual=8 * GIB, target=GIB),
        dom("crash", state=DomainState.CRASHED, maximum=8 * GIB, actual=8 * GIB),
        dom("nostats", maximum=GIB, actual=GIB, stats=GuestStats(unused=100)),
    )
    assert host.sum_actual_kib == 3 * GIB + 2 * GIB + GIB
    assert host.sum_maximum_kib == 4 * GIB + 2 * GIB + GIB
    # The target where one is known, else the actual.
    assert host.sum_target_kib == 2 * GIB + 2 * GIB + GIB
    assert host.sum_usable_kib == GIB
    assert host.overcommit == pytest.approx(7 / 16)


def test_empty_host_sums_and_overcommit() -> None:
    empty = _host()
    assert (empty.sum_actual_kib, empty.sum_maximum_kib, empty.sum_target_kib) == (0, 0, 0)
    assert empty.overcommit == 0
    assert _host(dom(), total=None).overcommit is None
    assert _host(dom(), total=0).overcommit is None


def test_host_overcommit_above_one() -> None:
    host = _host(dom("a", maximum=12 * GIB), dom("b", maximum=12 * GIB), total=16 * GIB)
    assert host.overcommit == pytest.approx(1.5)


def test_host_label_prefers_hostname() -> None:
    assert _host().label == URI
    named = HostSnapshot(uri=URI, status=HostStatus.OK, hostname="kvm-01")
    assert named.label == "kvm-01"


def test_disconnected_status_word_says_retrying() -> None:
    assert "retrying" in HostStatus.DISCONNECTED.word
    assert HostStatus.OK.word == "ok"


# -- fleet -----------------------------------------------------------------------------------
def test_fleet_domain_lookup_by_host_and_uuid() -> None:
    a1 = dom("a1", uuid="same", uri="test:///a.xml")
    a2 = dom("a2", uuid="other", uri="test:///a.xml")
    b1 = dom("b1", uuid="same", uri="test:///b.xml")  # same UUID, another host
    fleet = FleetSnapshot((_host(a1, a2, uri="test:///a.xml"), _host(b1, uri="test:///b.xml")))
    assert fleet.domain(("test:///a.xml", "same")) is a1
    assert fleet.domain(("test:///b.xml", "same")) is b1
    assert fleet.domain(("test:///a.xml", "other")) is a2
    assert fleet.domain(("test:///b.xml", "other")) is None
    assert fleet.domain(("test:///c.xml", "same")) is None
    assert fleet.domain(a2.key) is a2
    assert fleet.domains == (a1, a2, b1)
    assert fleet.host("test:///b.xml") is fleet.hosts[1]
    assert fleet.host("test:///nope.xml") is None


def test_empty_fleet() -> None:
    fleet = FleetSnapshot()
    assert fleet.domains == ()
    assert fleet.domain((URI, "x")) is None


def test_a_stats_period_changed_outside_shows_in_the_stats_times() -> None:
    from balloon_tui.core.statsperiod import period_looks_changed

    now = 1_800_000_000.0
    # Stats flowing while the XML said no period: someone armed them.
    assert period_looks_changed(0, now - 1, now)
    assert not period_looks_changed(0, now - 300, now)  # old stats from before: nothing new
    # A period of 2 s, and the stats stopped: someone switched them off (or the guest hangs).
    assert period_looks_changed(2, now - 9, now)
    assert not period_looks_changed(2, now - 3, now)
    assert not period_looks_changed(2, None, now)  # no stats time at all: nothing to learn
