"""The regulator against real QEMU/TCG guests (issue 12, "Tests: real guests").

The harness's workload first: a guest whose used memory rises steadily (`grow=`, a tmpfs
filled a few MiB per second, scripts/realguest/setup.sh) next to an idle one, proved
through libvirt's memoryStats alone. Then balloon-tui's app with the autopilot on (built as
tests/realguest/test_ui_real.py builds it, with `regulator=RegulatorOptions(...)`):

(a) a budget smaller than the two guests' maxima: the idle guest is shrunk toward its need,
    the growing one is grown ahead of its use (its usable memory never under its safety
    margin), both stay alive;
(b) a guest without the balloon driver is left alone, and says why;
(c) an operator's key press pauses the autopilot for that guest.

These guests are this module's own, booted together at its start: the growing guest's
workload runs from its boot, so it must not wait behind the rest of the session. Each app
sees only the guests its test names (a view on the Fleet's snapshots): the session's other
guests share qemu:///system, and an autopilot that saw them would move them under other
tests. Numbers (boot, growth rates, shrink times, margins) go to
build/realguest/timings.txt.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import guests as g
import libvirt
import pytest
from test_ui_real import audit_lines, row_of, select, start, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostSnapshot
from balloon_tui.core.regulator_settings import Budget, Budgets, RegulatorOptions
from balloon_tui.core.safety import DEFAULT_POLICY
from balloon_tui.tui import BalloonApp, create_app, render
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.virt.fleet import Fleet, SnapshotCallback, WriteCallback

pytestmark = pytest.mark.realguest

MIB = 1024
BOOT_TIMEOUT = 120.0  # three TCG guests at once on two cores (one alone: ~8 s)

# The workload: 4 MiB/s for 110 s. It is still growing when (a) ends, some 100 s after
# boot, and its need (used + margin) stays under its maximum: ~90 + 440 + 128 < 768 MiB.
GROW_RATE_MIB = 4
GROW_MAX_MIB = 440
GROW = g.GuestSpec(
    memory_mib=768, label="grow", grow_mib_per_s=GROW_RATE_MIB, grow_max_mib=GROW_MAX_MIB
)
IDLE = g.GuestSpec(memory_mib=512, label="idle")
NODRIVER = g.GuestSpec(memory_mib=256, cmdline="noballoon", label="regnodriver")
SPECS = {"grow": GROW, "idle": IDLE, "nodriver": NODRIVER}

WORKLOAD_SECONDS = 20.0
# Tolerant: the rate is paced by the guest's clock, stats arrive once a second.
RATE_LOW, RATE_HIGH = 0.6, 1.4
IDLE_FLAT_KIB = 8 * MIB

REFRESH = 0.5  # the app polls twice a second
ROUND_S = 2.0  # an autopilot round every 2 s (the default 10 s would make this file slow)
SIZE = (140, 40)
# (a): the two maxima are 1280 MiB. At the end the needs are ~655 + ~211 MiB: they fit, and
# what is left is shared, so the growing guest keeps more than its margin.
BUDGET_A_MIB = 1024
RUN_A_SECONDS = 60.0
SETTLE_S = 10.0  # (a): from the app's start, time for the first rounds to land
WATCH_C_SECONDS = 12.0  # (c): six rounds after the operator's key press


# -- the guests ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reg_guests(
    libvirt_conn: libvirt.virConnect, start_guest: Callable[..., g.Guest]
) -> Iterator[dict[str, g.Guest]]:
    """This module's guests, booted side by side; destroyed when the module is done."""
    started = {name: start_guest(spec, wait=False) for name, spec in SPECS.items()}
    try:
        g.wait_ready(libvirt_conn, started.values(), timeout=BOOT_TIMEOUT)
        for guest in started.values():
            g.record_timing(
                "boot_to_ready",
                guest.boot_seconds or 0.0,
                guest=guest.spec.label,
                booted_together=len(started),
            )
        yield started
    finally:
        g.destroy_guests(libvirt_conn, started.values())


@dataclass(frozen=True)
class Sample:
    at: float  # libvirt's last_update: when the guest reported these numbers
    actual_kib: int
    usable_kib: int

    @property
    def used_kib(self) -> int:
        return max(0, self.actual_kib - self.usable_kib)


def sample(conn: libvirt.virConnect, guest: g.Guest) -> Sample | None:
    stats = g.balloon_stats(conn, guest)
    if "usable" not in stats or stats.get("last_update", 0) <= 0:
        return None
    return Sample(float(stats["last_update"]), stats["actual"], stats["usable"])


def add_sample(samples: list[Sample], new: Sample | None) -> None:
    """Keep one sample per guest report (libvirt repeats the last one between reports)."""
    if new is not None and (not samples or new.at > samples[-1].at):
        samples.append(new)


def slope_mib_per_s(samples: list[Sample]) -> float:
    """Least-squares slope of used over time, MiB per second."""
    n = len(samples)
    ts = [s.at for s in samples]
    ys = [s.used_kib / MIB for s in samples]
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    return sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var


def assert_alive(conn: libvirt.virConnect, guest: g.Guest) -> None:
    dom = conn.lookupByUUIDString(guest.uuid)
    state = dom.state()[0]
    assert dom.isActive() and state == libvirt.VIR_DOMAIN_RUNNING, f"{guest.name}: state {state}"
    assert not g.troubles(guest), f"{guest.name} in trouble: {g.troubles(guest)}"


# -- the workload ---------------------------------------------------------------------------------
def test_workload_grows_steadily_and_the_idle_guest_stays_flat(
    libvirt_conn: libvirt.virConnect, reg_guests: dict[str, g.Guest]
) -> None:
    grow, idle = reg_guests["grow"], reg_guests["idle"]
    assert f"grow={GROW_RATE_MIB} growmax={GROW_MAX_MIB}" in grow.console(), grow.console()[-300:]
    series: dict[str, list[Sample]] = {"grow": [], "idle": []}
    deadline = time.monotonic() + WORKLOAD_SECONDS
    while time.monotonic() < deadline:
        for name, guest in (("grow", grow), ("idle", idle)):
            add_sample(series[name], sample(libvirt_conn, guest))
        time.sleep(0.5)
    rising, flat = series["grow"], series["idle"]
    assert len(rising) >= WORKLOAD_SECONDS * 0.6 and len(flat) >= WORKLOAD_SECONDS * 0.6, (
        f"too few guest reports (stats period 1 s): {len(rising)}, {len(flat)}"
    )
    span = rising[-1].at - rising[0].at
    rate = slope_mib_per_s(rising)
    g.record_timing(
        "workload_growth",
        span,
        guest=grow.spec.label,
        rate_mib_s=round(rate, 2),
        asked_mib_s=GROW_RATE_MIB,
        used_from_mib=rising[0].used_kib // MIB,
        used_to_mib=rising[-1].used_kib // MIB,
    )
    assert RATE_LOW * GROW_RATE_MIB <= rate <= RATE_HIGH * GROW_RATE_MIB, (
        f"used rose {rate:.2f} MiB/s, asked {GROW_RATE_MIB}: "
        f"{[(s.at, s.used_kib // MIB) for s in rising]}"
    )
    # Steadily: every quarter of the window rises, none falls back.
    quarter = max(1, len(rising) // 4)
    for i in range(quarter, len(rising), quarter):
        assert rising[i].used_kib > rising[i - quarter].used_kib, (
            f"no rise between reports {i - quarter} and {i}: "
            f"{[(s.at, s.used_kib // MIB) for s in rising]}"
        )
    used = [s.used_kib for s in flat]
    assert max(used) - min(used) <= IDLE_FLAT_KIB, f"the idle guest moved: {used}"
    # Both are at their maximum (nobody ballooned them): the workload is not the balloon.
    assert rising[-1].actual_kib == GROW.memory_mib * MIB
    assert flat[-1].actual_kib == IDLE.memory_mib * MIB
    for guest in (grow, idle):
        assert_alive(libvirt_conn, guest)


# -- the app with the autopilot -------------------------------------------------------------------
AppFactory = Callable[[Path, list[g.Guest], int], BalloonApp]


def only(fleet: Fleet, uuids: set[str]) -> Callable[[SnapshotCallback, WriteCallback], Fleet]:
    """The Fleet as the app's factory, its snapshots cut down to these domains."""

    def bind(on_snapshot: SnapshotCallback, on_write: WriteCallback) -> Fleet:
        def ours(snapshot: HostSnapshot) -> None:
            domains = tuple(d for d in snapshot.domains if d.uuid in uuids)
            on_snapshot(replace(snapshot, domains=domains))

        return fleet.bind(ours, on_write)

    return bind


@pytest.fixture
def make_app() -> Iterator[AppFactory]:
    """`balloon-tui --autopilot --autopilot-interval 2 --budget B --refresh 0.5`, seeing
    only the given guests."""
    fleets: list[Fleet] = []

    def make(
        audit_path: Path, guests: list[g.Guest], budget_mib: int, hand_pause_s: float = 300.0
    ) -> BalloonApp:
        fleet = Fleet([g.URI], readonly=False, interval=REFRESH, audit=AuditLog(audit_path))
        fleets.append(fleet)
        errors = fleet.connect_all()
        assert not errors, f"cannot open {g.URI}: {errors}"
        options = RegulatorOptions(
            autopilot=True,
            budgets=Budgets(default=Budget(kib=budget_mib * MIB)),
            round_s=ROUND_S,
            hand_pause_s=hand_pause_s,
        )
        return create_app(
            only(fleet, {x.uuid for x in guests}),
            show_host=False,
            floor=DEFAULT_POLICY,
            log_clock=False,
            regulator=options,
        )

    yield make
    for fleet in fleets:  # the app stops its fleet on unmount; this covers a failed start
        fleet.stop()


def autopilot_attempts(path: Path, guest: g.Guest) -> list[dict[str, Any]]:
    return [
        x
        for x in audit_lines(path, guest)
        if x["phase"] == "attempt" and x.get("source") == "autopilot"
    ]


def assert_explained(attempts: list[dict[str, Any]]) -> None:
    for x in attempts:
        assert isinstance(x.get("reason"), str) and x["reason"].strip(), f"no reason: {x}"


def no_dialog(app: BalloonApp) -> None:
    assert not any(isinstance(s, ConfirmFloorScreen) for s in app.screen_stack), (
        "a floor dialog opened: the autopilot went below a safety floor"
    )


def proposal_of(app: BalloonApp, guest: g.Guest) -> Any:
    return row_of(app, guest).proposal


async def test_autopilot_shrinks_the_idle_guest_and_grows_the_busy_one(
    make_app: AppFactory,
    libvirt_conn: libvirt.virConnect,
    reg_guests: dict[str, g.Guest],
    tmp_path: Path,
) -> None:
    grow, idle = reg_guests["grow"], reg_guests["idle"]
    assert GROW.memory_mib + IDLE.memory_mib > BUDGET_A_MIB
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit, [grow, idle], BUDGET_A_MIB)
    series: dict[str, list[Sample]] = {"grow": [], "idle": []}
    idle_start = g.balloon_stats(libvirt_conn, idle)["actual"]
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        began = time.monotonic()
        await until(
            lambda: all(proposal_of(app, x) is not None for x in (grow, idle)),
            15,
            "the regulator's first plan",
            lambda: f"rows: {[(r.domain.name, r.proposal) for r in app.rows.values()]}",
        )
        while time.monotonic() - began < RUN_A_SECONDS:
            for name, guest in (("grow", grow), ("idle", idle)):
                add_sample(series[name], sample(libvirt_conn, guest))
            no_dialog(app)
            await asyncio.sleep(0.5)
        proposals = {name: proposal_of(app, x) for name, x in (("grow", grow), ("idle", idle))}
    for guest in (grow, idle):
        assert_alive(libvirt_conn, guest)

    explain = f"proposals at the end: {proposals}; audit: {audit_lines(audit, idle)[-4:]}"
    # The idle guest: shrunk by the autopilot toward its need, never under its safety floor.
    idle_writes = autopilot_attempts(audit, idle)
    assert idle_writes, f"the autopilot never moved the idle guest. {explain}"
    assert_explained(idle_writes)
    last_idle = series["idle"][-1]
    floor = last_idle.used_kib + DEFAULT_POLICY.margin_kib(last_idle.used_kib)
    assert last_idle.actual_kib <= idle_start - 128 * MIB, f"idle guest not shrunk. {explain}"
    assert min(x["target_kib"] for x in idle_writes) >= floor - 16 * MIB, (
        f"a target under the idle guest's floor {floor // MIB} MiB: {idle_writes}"
    )
    shrunk_at = next((s.at for s in series["idle"] if s.actual_kib <= idle_start - 128 * MIB), None)

    # The growing guest: shrunk at first (over budget), then grown as it uses more, always
    # ahead: usable never under its margin once the autopilot had its first rounds.
    grow_writes = autopilot_attempts(audit, grow)
    assert_explained(grow_writes)
    rising = series["grow"]
    low = min(range(len(rising)), key=lambda i: rising[i].actual_kib)
    regrown = max(s.actual_kib for s in rising[low:]) - rising[low].actual_kib
    assert regrown >= 64 * MIB, (
        f"the growing guest was not grown: lowest {rising[low].actual_kib // MIB} MiB, "
        f"then at most +{regrown // MIB} MiB; writes {[x['target_kib'] for x in grow_writes]}"
    )
    assert any(b["target_kib"] > a["target_kib"] for a, b in itertools.pairwise(grow_writes)), (
        f"no autopilot growth: {grow_writes}"
    )
    settled = rising[0].at + SETTLE_S
    slack = [
        s.usable_kib - DEFAULT_POLICY.margin_kib(s.used_kib) for s in rising if s.at >= settled
    ]
    worst = min(slack)
    assert worst >= 0, (
        f"the growing guest's usable fell {-worst // MIB} MiB under its margin: "
        f"{[(s.at, s.actual_kib // MIB, s.used_kib // MIB) for s in rising]}"
    )
    used_rate = slope_mib_per_s(rising)
    assert used_rate >= RATE_LOW * GROW_RATE_MIB, f"the workload stalled: {used_rate:.2f} MiB/s"
    # The two together end within the budget: their needs fit in it.
    total = series["grow"][-1].actual_kib + last_idle.actual_kib
    assert total <= (BUDGET_A_MIB + 16) * MIB, f"{total // MIB} MiB held, budget {BUDGET_A_MIB}"

    g.record_timing(
        "regulator_autopilot_run",
        RUN_A_SECONDS,
        budget_mib=BUDGET_A_MIB,
        round_s=ROUND_S,
        idle_from_mib=idle_start // MIB,
        idle_to_mib=last_idle.actual_kib // MIB,
        idle_shrunk_128_after_s=None if shrunk_at is None else round(shrunk_at - rising[0].at, 1),
        grow_lowest_mib=rising[low].actual_kib // MIB,
        grow_end_mib=rising[-1].actual_kib // MIB,
        grow_used_end_mib=rising[-1].used_kib // MIB,
        grow_used_rate_mib_s=round(used_rate, 2),
        grow_least_slack_over_margin_mib=worst // MIB,
        autopilot_writes={"grow": len(grow_writes), "idle": len(idle_writes)},
    )


async def test_a_guest_without_the_balloon_driver_is_marked_not_responding_and_left_alone(
    make_app: AppFactory,
    libvirt_conn: libvirt.virConnect,
    reg_guests: dict[str, g.Guest],
    tmp_path: Path,
) -> None:
    """Over budget, but nobody answers its balloon. It reports no stats, so the regulator
    proposes nothing for it (docs/regulator.md rule 1); the operator asks a smaller target
    by hand, the balloon never moves, and 10 s later the guest is marked not responding
    (rule 3) and left alone: no autopilot write, once the operator's short pause is over."""
    nodriver = reg_guests["nodriver"]
    maximum = NODRIVER.memory_mib * MIB
    audit = tmp_path / "audit.jsonl"
    # The human's pause is 2 s here, so what holds the autopilot back is "not responding".
    app = make_app(audit, [nodriver], NODRIVER.memory_mib // 2, hand_pause_s=2.0)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await until(lambda: proposal_of(app, nodriver) is not None, 15, "a plan for the guest")
        first = proposal_of(app, nodriver)
        assert first is not None and first.target_kib is None, first
        assert "no guest stats" in first.reason, first
        await select(app, pilot, nodriver)
        await pilot.press("minus")  # the operator: 64 MiB less, by hand
        # No stats, so no floor known: the app asks first; the operator sets it anyway.
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), 5, "the floor question")
        await pilot.press("tab", "enter")
        asked_at = time.monotonic()
        await until(
            lambda: (p := proposal_of(app, nodriver)) is not None and p.not_responding,
            30,
            "the guest marked not responding",
            lambda: f"proposal: {proposal_of(app, nodriver)}",
        )
        marked_s = time.monotonic() - asked_at
        proposal = proposal_of(app, nodriver)
        began = time.monotonic()
        while time.monotonic() - began < 3 * ROUND_S + 1:  # rounds past the hand pause
            no_dialog(app)
            await asyncio.sleep(0.5)
        row = row_of(app, nodriver)
        cell = app.table.get_cell(row.key, "prop").plain if "prop" in app.table.column_keys else ""
    assert proposal is not None and proposal.target_kib is None
    assert proposal.reason.startswith("not responding: asked "), proposal.reason
    assert "left alone" in proposal.reason, proposal.reason
    assert render.MARK_NOT_RESPONDING in cell, cell
    assert autopilot_attempts(audit, nodriver) == [], "the autopilot wrote to a silent balloon"
    assert row.domain.actual_kib == maximum
    assert g.balloon_stats(libvirt_conn, nodriver)["actual"] == maximum
    assert_alive(libvirt_conn, nodriver)
    g.record_timing("regulator_nodriver_not_responding", marked_s, reason=proposal.reason)


async def test_an_operators_change_pauses_the_autopilot_for_that_guest(
    make_app: AppFactory,
    libvirt_conn: libvirt.virConnect,
    reg_guests: dict[str, g.Guest],
    tmp_path: Path,
) -> None:
    idle = reg_guests["idle"]
    maximum = IDLE.memory_mib * MIB
    now = sample(libvirt_conn, idle)
    assert now is not None
    need = now.used_kib + DEFAULT_POLICY.margin_kib(now.used_kib)
    # A budget under the guest's need: the regulator wants it at its need, whatever it holds.
    assert now.actual_kib - need >= 48 * MIB, (
        f"the idle guest holds {now.actual_kib // MIB} MiB, already near its need "
        f"{need // MIB} MiB: nothing for the autopilot to do"
    )
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit, [idle], need // MIB - 16)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        # The autopilot acts on this guest...
        opened = time.monotonic()
        await until(
            lambda: bool(autopilot_attempts(audit, idle)),
            20,
            "an autopilot write to the idle guest",
            lambda: f"proposal: {proposal_of(app, idle)}",
        )
        # ... until the operator gives it all its memory back with a key (`=`: +512M).
        first_write_s = time.monotonic() - opened
        await select(app, pilot, idle)
        await pilot.press("equals_sign")
        pressed_at = time.monotonic()
        await until(
            lambda: any(
                x["phase"] == "result" and x.get("source") == "key" and x["target_kib"] == maximum
                for x in audit_lines(audit, idle)
            ),
            10,
            "the operator's write",
        )
        while time.monotonic() - pressed_at < WATCH_C_SECONDS:
            no_dialog(app)
            await asyncio.sleep(0.5)
        proposal = proposal_of(app, idle)
    lines = audit_lines(audit, idle)
    attempts = [x for x in lines if x["phase"] == "attempt"]
    hand = next(i for i, x in enumerate(attempts) if x.get("source") == "key")
    after = [x for x in attempts[hand + 1 :] if x.get("source") == "autopilot"]
    assert not after, f"the autopilot overrode the operator: {after}"
    # The regulator still has its word on the guest; only the autopilot stands back.
    assert proposal is not None
    assert (proposal.target_kib is not None and proposal.target_kib < maximum) or (
        "hand" in proposal.reason
    ), proposal
    assert abs(g.balloon_stats(libvirt_conn, idle)["actual"] - maximum) <= MIB
    assert_alive(libvirt_conn, idle)
    g.record_timing(
        "regulator_hand_pause_watched",
        WATCH_C_SECONDS,
        first_autopilot_write_s=round(first_write_s, 2),
        autopilot_writes_before_key=sum(
            1 for x in attempts[:hand] if x.get("source") == "autopilot"
        ),
        proposal_after_mib=None if proposal.target_kib is None else proposal.target_kib // MIB,
    )
