"""core/regulator_feed.py: GuestInputs from snapshots, kept samples, and one round per host."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from nodefiles import GIB, MIB

from balloon_tui.core.model import (
    BalloonDevice,
    Convergence,
    DomainSnapshot,
    DomainState,
    GuestPolicy,
    GuestStats,
    HostSnapshot,
    HostStatus,
    Progress,
)
from balloon_tui.core.regulator_feed import (
    SAMPLES_PER_WINDOW,
    RegulatorFeed,
    no_plan_note,
    plan_for,
)
from balloon_tui.core.regulator_inputs import GuestSample, summarise
from balloon_tui.core.regulator_settings import (
    DEFAULT_SETTINGS,
    Budget,
    RegulatorSettings,
    parse_budget,
)

URI = "qemu:///system"
T0 = 1_700_000_000.0
SPACING = DEFAULT_SETTINGS.window_s / SAMPLES_PER_WINDOW


def dom(
    name: str = "a",
    *,
    actual: int = 4 * GIB,
    maximum: int = 8 * GIB,
    usable: int | None = 3 * GIB,
    swap_out: int | None = 0,
    faults: int | None = 0,
    at: float = T0,
    **changes: object,
) -> DomainSnapshot:
    stats = GuestStats(
        unused=usable,
        usable=usable,
        swap_in=0 if swap_out is not None else None,
        swap_out=swap_out,
        major_fault=faults,
        last_update=int(at),
    )
    base = DomainSnapshot(
        URI,
        f"uuid-{name}",
        name,
        DomainState.RUNNING,
        maximum,
        actual,
        stats=stats,
        device=BalloonDevice("virtio", stats_period=2),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def host(at: float, *domains: DomainSnapshot, memory: int | None = 64 * GIB) -> HostSnapshot:
    return HostSnapshot(URI, HostStatus.OK, "h", memory, None, domains, taken_at=at)


def key(name: str = "a") -> tuple[str, str]:
    return (URI, f"uuid-{name}")


def feed_polls(feed: RegulatorFeed, times: list[float], **fields: object) -> None:
    for at in times:
        feed.add(host(at, dom(at=at, **fields)))  # type: ignore[arg-type]


# --- samples -------------------------------------------------------------------------------


def test_a_sample_holds_the_snapshots_numbers() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom(actual=4 * GIB, usable=3 * GIB, swap_out=7, faults=9)))
    assert feed.samples(key()) == (GuestSample(T0, 1 * GIB, 3 * GIB, 7, 0, 9),)
    assert type(feed.samples(key())[0]) is GuestSample


def test_the_same_poll_twice_adds_nothing() -> None:
    feed = RegulatorFeed()
    snapshot = host(T0, dom())
    feed.add(snapshot)
    feed.add(snapshot)
    feed.add(host(T0 - 5, dom(usable=1 * GIB)))  # an older poll, late
    assert feed.samples(key()) == (GuestSample(T0, 1 * GIB, 3 * GIB, 0, 0, 0),)


def test_polls_closer_than_the_spacing_are_not_kept_but_inputs_has_the_newest() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom()))
    newest = host(T0 + SPACING / 2, dom(usable=2 * GIB, swap_out=40))
    feed.add(newest)
    assert [s.at for s in feed.samples(key())] == [T0]
    (guest,) = feed.inputs(newest, T0 + SPACING)
    assert guest.samples == (
        GuestSample(T0, 1 * GIB, 3 * GIB, 0, 0, 0),
        GuestSample(T0 + SPACING / 2, 2 * GIB, 2 * GIB, 40, 0, 0),
    )
    feed.add(host(T0 + SPACING, dom()))
    assert [s.at for s in feed.samples(key())] == [T0, T0 + SPACING]


def test_the_window_is_trimmed_keeping_one_sample_before_it() -> None:
    feed = RegulatorFeed()
    times = [T0 + 2.0 * i for i in range(600)]  # 20 minutes of 2 s polls
    feed_polls(feed, times)
    kept = [s.at for s in feed.samples(key())]
    cutoff = times[-1] - DEFAULT_SETTINGS.window_s
    assert times[-1] - SPACING < kept[-1] <= times[-1]
    assert kept[0] <= cutoff < kept[1]
    assert len(kept) <= feed.max_samples
    assert all(b - a >= SPACING for a, b in itertools.pairwise(kept))
    assert len(kept) >= DEFAULT_SETTINGS.window_s / (2 * SPACING)


def test_same_numbers_share_their_objects() -> None:
    """An idle guest costs a tuple per kept poll, not new integers each time."""
    feed = RegulatorFeed()
    times = [T0 + SPACING * i for i in range(5)]
    feed_polls(feed, times, usable=3 * GIB + 1)
    first, *rest = feed.samples(key())
    assert all(s.usable_kib is first.usable_kib and s.used_kib is first.used_kib for s in rest)


def test_vanished_and_stopped_guests_are_forgotten() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom("a"), dom("b"), dom("c")))
    stopped = dom("c", state=DomainState.SHUTOFF)
    feed.add(host(T0 + SPACING, dom("a"), stopped))
    assert len(feed) == 1
    assert feed.samples(key("b")) == () and feed.samples(key("c")) == ()
    # c starts again: its samples start afresh, nothing from before it stopped.
    feed.add(host(T0 + 2 * SPACING, dom("a"), dom("c")))
    assert [s.at for s in feed.samples(key("c"))] == [T0 + 2 * SPACING]


def test_a_poll_without_stats_keeps_what_was_kept() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom()))
    feed.add(host(T0 + SPACING, dom(usable=None, swap_out=None, faults=None)))
    assert [s.at for s in feed.samples(key())] == [T0]
    feed.add(host(T0 + 400, dom(usable=None, swap_out=None, faults=None)))
    assert [s.at for s in feed.samples(key())] == [T0]  # only one, before the window
    nothing = RegulatorFeed()
    nothing.add(host(T0, dom(usable=None, swap_out=None, faults=None)))
    assert len(nothing) == 0


def test_a_host_that_did_not_answer_forgets_nothing() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom()))
    for status in (HostStatus.DISCONNECTED, HostStatus.CONNECTING, HostStatus.SKIPPED):
        down = HostSnapshot(URI, status, taken_at=T0 + 10 * SPACING)
        feed.add(down)
    assert [s.at for s in feed.samples(key())] == [T0]
    feed.add(dataclasses.replace(host(T0 + SPACING, dom()), status=HostStatus.SLOW))
    assert [s.at for s in feed.samples(key())] == [T0, T0 + SPACING]


def test_hosts_are_kept_apart() -> None:
    feed = RegulatorFeed()
    other = dataclasses.replace(dom(), host_uri="qemu+ssh://b/system")
    feed.add(host(T0, dom()))
    feed.add(HostSnapshot("qemu+ssh://b/system", HostStatus.OK, domains=(other,), taken_at=T0))
    assert len(feed) == 2
    feed.forget_host("qemu+ssh://b/system")
    assert len(feed) == 1 and feed.samples(key())


def test_a_reset_counter_counts_from_zero() -> None:
    """A guest that reboots starts its swap counter again: the rate stays the real one."""
    feed = RegulatorFeed()
    swaps = [1000, 1400, 1800, 200, 600]  # reboot between the 3rd and 4th sample
    for index, swap in enumerate(swaps):
        at = T0 + SPACING * index
        feed.add(host(at, dom(at=at, swap_out=swap)))
    last = T0 + SPACING * 4
    (guest,) = feed.inputs(host(last, dom(at=last, swap_out=600)), last)
    signals = summarise(guest.samples, last, DEFAULT_SETTINGS)
    assert signals.swap_out_rate == (400 + 400 + 200 + 400) / (4 * SPACING)


# --- inputs --------------------------------------------------------------------------------


def test_inputs_carry_the_domains_facts_and_policy() -> None:
    feed = RegulatorFeed()
    d = dom(
        "a",
        target_kib=3 * GIB,
        device=BalloonDevice("virtio", autodeflate=True, stats_period=5),
        policy=GuestPolicy(min_kib=1 * GIB, max_kib=6 * GIB, shares=300),
        stats=GuestStats(usable=3 * GIB, last_update=int(T0) - 4),
    )
    none = dom("b", device=BalloonDevice(), state=DomainState.PAUSED)
    snapshot = host(T0, d, none)
    feed.add(snapshot)
    a, b = feed.inputs(snapshot, T0 + 1)
    assert (a.key, a.name, a.state, a.actual_kib, a.maximum_kib) == (
        key("a"),
        "a",
        DomainState.RUNNING,
        4 * GIB,
        8 * GIB,
    )
    assert a.has_balloon and a.autodeflate and a.stats_period_s == 5
    assert a.stats_age_s == 5.0
    assert (a.min_kib, a.max_kib, a.shares) == (1 * GIB, 6 * GIB, 300)
    assert a.asked_kib == 3 * GIB and a.stalled_s is None
    assert isinstance(a.samples, tuple) and len(a.samples) == 1
    assert not b.has_balloon and b.state is DomainState.PAUSED
    assert b.shares == 1000 and b.min_kib is None and b.max_kib is None


def test_inputs_are_a_copy() -> None:
    feed = RegulatorFeed()
    feed.add(host(T0, dom()))
    (before,) = feed.inputs(host(T0, dom()), T0)
    feed.add(host(T0 + SPACING, dom()))
    assert len(before.samples) == 1
    assert len(feed.samples(key())) == 2


def test_asked_in_flight_wins_over_the_snapshots_target() -> None:
    feed = RegulatorFeed()
    snapshot = host(T0, dom(target_kib=3 * GIB))
    (guest,) = feed.inputs(snapshot, T0, asked={key(): 2 * GIB})
    assert guest.asked_kib == 2 * GIB
    (guest,) = feed.inputs(snapshot, T0, asked={key("other"): 2 * GIB})
    assert guest.asked_kib == 3 * GIB


def test_stats_without_a_wall_clock_time_are_as_old_as_their_poll() -> None:
    """libvirt's test driver gives no usable last-update: the app shows such stats as fresh."""
    feed = RegulatorFeed()
    timeless = dom(stats=GuestStats(usable=3 * GIB))
    nothing = dom("b", stats=GuestStats())
    (a, b) = feed.inputs(host(T0, timeless, nothing), T0 + 3)
    assert a.stats_age_s == 3.0
    assert b.stats_age_s is None


def test_stalled_counts_from_the_last_movement() -> None:
    feed = RegulatorFeed()
    stalled = Progress(Convergence.STALLED, 4 * GIB, since=T0 - 30, last_moved=T0 - 12)
    pending = Progress(Convergence.PENDING, 4 * GIB, since=T0 - 3, last_moved=None)
    done = Progress(Convergence.CONVERGED, 4 * GIB, since=T0 - 30, last_moved=T0 - 20)
    outside = Progress(Convergence.NONE, 4 * GIB, T0 - 30, T0 - 20, "changed outside")
    snapshot = host(
        T0,
        dom("a", progress=stalled, target_kib=2 * GIB),
        dom("b", progress=pending, target_kib=2 * GIB),
        dom("c", progress=done),
        dom("d", progress=outside),
    )
    a, b, c, d = feed.inputs(snapshot, T0)
    assert (a.stalled_s, b.stalled_s, c.stalled_s, d.stalled_s) == (12.0, 3.0, None, None)


# --- one round -----------------------------------------------------------------------------


def test_plan_for_resolves_the_budget_and_plans() -> None:
    feed = RegulatorFeed()
    snapshot = host(T0, dom("a", actual=8 * GIB, usable=7 * GIB), memory=10 * GIB)
    feed.add(snapshot)
    plan = plan_for(feed, snapshot, parse_budget("50%"), T0)
    assert plan is not None and plan.budget_kib == 5 * GIB
    proposal = plan.proposals[key("a")]
    assert proposal.target_kib == 8 * GIB - DEFAULT_SETTINGS.step(8 * GIB)
    assert proposal.reason.startswith("shrink to ")
    assert "host over budget by 3.00 GiB" in proposal.reason
    assert "from one sample, not damped" in proposal.reason


def test_plan_for_uses_the_feeds_history() -> None:
    """Five minutes of samples: the reason names the p95 over them, not one sample."""
    feed = RegulatorFeed()
    times = [T0 + 2.0 * i for i in range(151)]
    feed_polls(feed, times, actual=8 * GIB, usable=7 * GIB)
    last = host(times[-1], dom(at=times[-1], actual=8 * GIB, usable=7 * GIB), memory=10 * GIB)
    plan = plan_for(feed, last, Budget(kib=4 * GIB), times[-1])
    assert plan is not None
    assert "(p95 of 5 min)" in plan.proposals[key("a")].reason


def test_no_plan_when_a_percentage_meets_unknown_ram() -> None:
    feed = RegulatorFeed()
    snapshot = host(T0, dom(), memory=None)
    assert plan_for(feed, snapshot, parse_budget("80%"), T0) is None
    assert "80 % of host RAM" in no_plan_note(parse_budget("80%"))
    plan = plan_for(feed, snapshot, parse_budget("6G"), T0)
    assert plan is not None and plan.budget_kib == 6 * GIB


def test_plan_for_takes_the_feeds_settings_unless_given() -> None:
    slow = RegulatorSettings(step_kib=1 * MIB, step_fraction=0.0)
    feed = RegulatorFeed(slow)
    snapshot = host(T0, dom("a", actual=8 * GIB, usable=7 * GIB))
    feed.add(snapshot)
    paced = plan_for(feed, snapshot, Budget(kib=4 * GIB), T0)
    assert paced is not None and paced.proposals[key("a")].target_kib is None  # under the gate
    fast = plan_for(feed, snapshot, Budget(kib=4 * GIB), T0, DEFAULT_SETTINGS)
    step = DEFAULT_SETTINGS.step(8 * GIB)
    assert fast is not None and fast.proposals[key("a")].target_kib == 8 * GIB - step


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0.0, max_value=20.0), min_size=1, max_size=120),
    useds=st.lists(st.integers(min_value=0, max_value=4 * GIB), min_size=1, max_size=120),
)
def test_kept_samples_are_ordered_bounded_and_end_at_the_last_kept_poll(
    steps: list[float], useds: list[int]
) -> None:
    feed = RegulatorFeed()
    at = T0
    for index, step in enumerate(steps):
        at += step
        feed.add(host(at, dom(at=at, usable=8 * GIB - useds[index % len(useds)])))
    kept = feed.samples(key())
    times = [s.at for s in kept]
    assert times == sorted(set(times))
    assert len(kept) <= feed.max_samples
    assert times[0] >= T0
    assert len(times) == 1 or times[1] > times[-1] - DEFAULT_SETTINGS.window_s
