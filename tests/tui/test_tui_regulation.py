"""The regulator in the app: proposals on rows, `y`, `Y`, the autopilot (`A`, --autopilot).

Hand-built snapshots on a FakeFleet and a hand-turned clock: every round is decided by the
test. Two guests on a 6 GiB budget: `idle` (4 GiB, uses 1 GiB) is over its share and is
proposed a paced shrink; `busy` (2 GiB, uses 1.5 GiB) is proposed a step of growth.
"""

from __future__ import annotations

from typing import Any

import pytest
from tuihelpers import FakeFleetHandle, dom, emit, host, select, until

from balloon_tui.core.model import (
    Convergence,
    DomainState,
    GuestStats,
    HostStatus,
    Progress,
)
from balloon_tui.core.regulator_settings import Budget, Budgets, RegulatorOptions
from balloon_tui.core.sizes import GIB, MIB
from balloon_tui.core.writes import ApplyMode, WriteResult, WriteSource
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.proposals import ConfirmProposalsScreen

SIZE = (120, 40)
BUDGET = Budget(kib=6 * GIB)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stats(used: int, actual: int, at: float, **counters: int) -> GuestStats:
    return GuestStats(usable=actual - used, last_update=int(at), **counters)


def guests(at: float, *, idle_actual: int = 4 * GIB, busy_actual: int = 2 * GIB, **more: Any):
    idle = dom(
        "idle",
        1,
        actual=idle_actual,
        stats=stats(1 * GIB, idle_actual, at),
        **more.get("idle", {}),
    )
    busy = dom("busy", 2, actual=busy_actual, stats=stats(3 * GIB // 2, busy_actual, at))
    return idle, busy


def make(clock: Clock, handle: FakeFleetHandle, **options: Any) -> Any:
    regulator = RegulatorOptions(budgets=Budgets(default=BUDGET), round_s=10.0, **options)
    return create_app(handle.factory, clock=clock, log_clock=False, regulator=regulator)


async def tick(app: Any, pilot: Any, clock: Clock, seconds: float = 2.0, **kw: Any) -> None:
    clock.now += seconds
    await emit(app, pilot, host(*guests(clock.now, **kw), taken_at=clock.now))


def log_lines(app: Any) -> list[str]:
    return list(app.log_panel.lines_written)


async def started(app: Any, pilot: Any, clock: Clock) -> None:
    await emit(app, pilot, host(*guests(clock.now), taken_at=clock.now))
    await until(lambda: bool(app.main.regulation.plans), what="a first plan")


async def test_rows_carry_the_plan_and_y_applies_the_selected_proposal() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        key = await select(app, pilot, "idle")
        proposal = app.rows[key].proposal
        assert proposal is not None and proposal.target_kib is not None
        # Paced: one step (5 % of 4 GiB) down, toward its share of the 6 GiB budget.
        assert proposal.target_kib == 4 * GIB - int(4 * GIB * 0.05)
        assert proposal.reason.startswith("shrink to ")
        await pilot.press("y")
        await pilot.pause()
        fleet = handle.fleet
        assert fleet is not None and len(fleet.requests) == 1
        request = fleet.requests[0]
        assert (request.key, request.target_kib) == (key, proposal.target_kib)
        assert request.source is WriteSource.PROPOSAL
        assert request.reason == proposal.reason
        assert request.mode is ApplyMode.LIVE


async def test_y_without_a_proposal_writes_nothing_and_says_why() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        paused = {"state": DomainState.PAUSED}
        await emit(app, pilot, host(*guests(clock.now, idle=paused), taken_at=clock.now))
        await until(lambda: bool(app.main.regulation.plans))
        await select(app, pilot, "idle")
        await pilot.press("y")
        await pilot.pause()
        assert handle.fleet is not None and handle.fleet.requests == []
        toasts = [n.message for n in app._notifications]
        assert any("idle: no proposal: paused" in t for t in toasts), toasts


async def test_Y_lists_the_hosts_proposals_and_applies_them_after_one_answer() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        await select(app, pilot, "busy")
        await pilot.press("Y")
        await until(lambda: isinstance(app.screen, ConfirmProposalsScreen), what="the list")
        assert [line.seen.name for line in app.screen.lines] == ["busy", "idle"]
        await pilot.press("escape")
        await pilot.pause()
        assert handle.fleet is not None and handle.fleet.requests == []
        await pilot.press("Y")
        await until(lambda: isinstance(app.screen, ConfirmProposalsScreen))
        await pilot.press("enter")
        await pilot.pause()
        sent = {r.name: r for r in handle.fleet.requests}
        assert set(sent) == {"idle", "busy"}
        assert all(r.source is WriteSource.PROPOSAL and r.reason for r in sent.values())
        assert sent["busy"].target_kib > 2 * GIB > sent["idle"].target_kib - 2 * GIB
        assert any("2 proposals applied (Y)" in line for line in log_lines(app))


async def test_autopilot_applies_each_round_live_and_never_twice_in_a_round() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        app.main.mode = ApplyMode.LIVE_PERSIST  # the operator's mode is not the autopilot's
        await select(app, pilot, "idle")
        await pilot.press("A")
        await pilot.pause()
        assert app.main.regulation.autopilot == {handle.uris[0]}
        await tick(app, pilot, clock)  # the first round runs at the next poll
        fleet = handle.fleet
        assert fleet is not None
        assert {r.name for r in fleet.requests} == {"idle", "busy"}
        assert all(r.source is WriteSource.AUTOPILOT and r.reason for r in fleet.requests)
        assert all(r.mode is ApplyMode.LIVE for r in fleet.requests)
        status = app.main.regulation.status()[handle.uris[0]]
        assert status.autopilot and status.next_round_s == pytest.approx(10.0)
        await tick(app, pilot, clock)  # 2 s later: not a round
        assert len(fleet.requests) == 2
        await pilot.press("A")
        await pilot.pause()
        assert app.main.regulation.autopilot == set()
        await tick(app, pilot, clock, 20.0)
        assert len(fleet.requests) == 2


async def test_the_human_wins_for_five_minutes() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle, autopilot=True)
    async with app.run_test(size=SIZE) as pilot:
        await select_after_start(app, pilot, clock)
        fleet = handle.fleet
        assert fleet is not None
        by_autopilot = [r.name for r in fleet.requests if r.source is WriteSource.AUTOPILOT]
        assert sorted(by_autopilot) == ["busy", "idle"]
        for request in list(fleet.requests):
            fleet.on_write(WriteResult(request, True, "set"))
        await pilot.pause()
        await select(app, pilot, "idle")
        await pilot.press("equals_sign")  # the operator: idle up a step, by hand
        await pilot.pause()
        assert fleet.requests[-1].source is WriteSource.KEY
        fleet.on_write(WriteResult(fleet.requests[-1], True, "set"))
        count = len(fleet.requests)
        await tick(app, pilot, clock, 10.0)  # a round: idle is left alone
        names = [r.name for r in fleet.requests[count:]]
        assert "idle" not in names
        assert any("idle left alone for 5 min" in line for line in log_lines(app))
        clock.now += 300.0
        count = len(fleet.requests)
        await tick(app, pilot, clock, 1.0)
        assert "idle" in [r.name for r in fleet.requests[count:]]


async def select_after_start(app: Any, pilot: Any, clock: Clock) -> None:
    await started(app, pilot, clock)


async def test_a_guest_not_responding_is_left_alone_by_the_autopilot() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle, autopilot=True)
    stuck = {
        "target_kib": 3 * GIB,
        "progress": Progress(Convergence.STALLED, 4 * GIB, since=900.0, last_moved=900.0),
    }
    async with app.run_test(size=SIZE) as pilot:
        await emit(app, pilot, host(*guests(clock.now, idle=stuck), taken_at=clock.now))
        await until(lambda: bool(app.main.regulation.plans))
        key = next(k for k, r in app.rows.items() if r.domain.name == "idle")
        proposal = app.main.regulation.proposals[key]
        assert proposal.not_responding and "not responding" in proposal.reason
        assert handle.fleet is not None
        assert "idle" not in [r.name for r in handle.fleet.requests]


async def test_autopilot_stops_on_a_host_that_disconnects_and_says_so() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle, autopilot=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        uri = handle.uris[0]
        assert uri in app.main.regulation.autopilot
        clock.now += 2
        await emit(
            app,
            pilot,
            host(
                *guests(clock.now),
                taken_at=clock.now,
                status=HostStatus.DISCONNECTED,
                error="connection lost",
            ),
        )
        assert app.main.regulation.autopilot == set()
        assert any("autopilot off on" in line for line in log_lines(app))
        assert app.main.regulation.status()[uri].note.startswith("no plan: the host is")
        count = len(handle.fleet.requests) if handle.fleet else 0
        await tick(app, pilot, clock, 20.0)  # back: the autopilot stays off until A
        assert handle.fleet is not None and len(handle.fleet.requests) == count


async def test_autopilot_skips_a_target_that_now_meets_the_floor_without_asking() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        await select(app, pilot, "idle")
        # The guest's use jumps to 3.7 GiB after the plan: 3.8 GiB is under its floor now.
        jumped = dom("idle", 1, actual=4 * GIB, stats=stats(3700 * MIB, 4 * GIB, clock.now))
        app.main.view.apply(host(jumped, guests(clock.now)[1], taken_at=clock.now))
        app.main.refresh_views()
        await pilot.press("Y")
        await until(lambda: isinstance(app.screen, ConfirmProposalsScreen))
        await pilot.press("enter")
        await pilot.pause()
        assert handle.fleet is not None
        assert [r.name for r in handle.fleet.requests] == ["busy"]
        assert any("idle: " in line and "skipped (proposal)" in line for line in log_lines(app))
        assert not isinstance(app.screen, ConfirmProposalsScreen)


async def test_undo_takes_back_an_autopilot_change_and_pauses_it() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle, autopilot=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        fleet = handle.fleet
        assert fleet is not None
        idle = next(r for r in fleet.requests if r.name == "idle")
        fleet.on_write(WriteResult(idle, True, "set"))
        await pilot.pause()
        await select(app, pilot, "idle")
        await pilot.press("u")
        await pilot.pause()
        undo = fleet.requests[-1]
        assert undo.source is WriteSource.UNDO and undo.target_kib == 4 * GIB
        assert app.main.regulation.hand_pause_left(undo.key, clock.now) == pytest.approx(300.0)


async def test_readonly_never_runs_the_autopilot() -> None:
    clock, handle = Clock(), FakeFleetHandle(readonly=True)
    app = make(clock, handle, autopilot=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        assert app.main.regulation.autopilot == set()
        await select(app, pilot, "idle")
        await pilot.press("A")
        await pilot.pause()
        assert app.main.regulation.autopilot == set()
        assert handle.fleet is not None and handle.fleet.requests == []


async def test_a_balloon_moved_outside_pauses_the_autopilot_for_that_guest() -> None:
    clock, handle = Clock(), FakeFleetHandle()
    app = make(clock, handle)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot, clock)
        await select(app, pilot, "idle")
        await pilot.press("A")
        await tick(app, pilot, clock, idle={"target_outside": True})
        assert handle.fleet is not None
        assert [r.name for r in handle.fleet.requests] == ["busy"]
        assert any("moved outside balloon-tui" in line for line in log_lines(app))
