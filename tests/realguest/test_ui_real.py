"""The TUI itself against a real QEMU/TCG guest (issue "Real guests", test 5, and one more).

Textual's Pilot drives balloon-tui's app, built the way balloon_tui/cli.py builds it (a Fleet
on qemu:///system with an audit log, `connect_all`, then `create_app(fleet.bind, ...)` with
the default safety floor): keys and mouse drags on the slider end in the guest's balloon
really moving. The test's own plain libvirt connection (`libvirt_conn`) looks behind the
app's back: libvirt's actual size and the domain metadata.

The app shows every domain on qemu:///system; the harness's guest is picked by name. Every
target is checked against the app's own safety floor first and stays above it, so no
confirmation dialog opens (the tests fail if one does). Convergence timings go to
build/realguest/timings.txt as ui_*.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import guests as g
import libvirt
import pytest

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import Convergence
from balloon_tui.core.safety import DEFAULT_POLICY
from balloon_tui.tui import BalloonApp, create_app
from balloon_tui.tui.render import RowView, row_key, short_size
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.widgets.slider import BalloonSlider
from balloon_tui.virt.domainxml import METADATA_NAMESPACE
from balloon_tui.virt.fleet import Fleet

pytestmark = pytest.mark.realguest

MIB = 1024
MAX_MIB = 512  # balloon_guest's maximum
REFRESH = 0.5  # --refresh: the app polls twice a second (writes wake it early anyway)
CONVERGE_TIMEOUT = 20.0
SIZE = (140, 40)  # wide: the panel (and the slider's track) sits beside the table
TOLERANCE_KIB = MIB


# -- building the app as the CLI does ---------------------------------------------------------
AppFactory = Callable[[Path], BalloonApp]


@pytest.fixture
def make_app() -> Iterator[AppFactory]:
    """`balloon-tui -c qemu:///system --refresh 0.5 --audit-log PATH`, minus the terminal."""
    fleets: list[Fleet] = []

    def make(audit_path: Path) -> BalloonApp:
        fleet = Fleet([g.URI], readonly=False, interval=REFRESH, audit=AuditLog(audit_path))
        fleets.append(fleet)
        errors = fleet.connect_all()
        assert not errors, f"cannot open {g.URI}: {errors}"
        return create_app(
            fleet.bind, show_host=len(fleet.workers) > 1, floor=DEFAULT_POLICY, log_clock=False
        )

    yield make
    for fleet in fleets:  # the app stops its fleet on unmount; this covers a failed start
        fleet.stop()


# -- helpers ----------------------------------------------------------------------------------
async def until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    describe: Callable[[], str] = lambda: "",
) -> float:
    """Let the app run until `predicate` holds; return the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s. {describe()}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def start(app: BalloonApp, pilot: Any) -> None:
    await asyncio.wait_for(app.ready.wait(), 15)
    await pilot.pause()


def row_of(app: BalloonApp, guest: g.Guest) -> RowView:
    for row in app.rows.values():
        if row.domain.uuid == guest.uuid:
            return row
    names = sorted(r.domain.name for r in app.rows.values())
    raise AssertionError(f"{guest.name} is not in the table: {names}")


async def select(app: BalloonApp, pilot: Any, guest: g.Guest) -> None:
    """Put the table's cursor on the harness's guest, found by name among all domains."""
    matches = [r for r in app.rows.values() if r.domain.name == guest.name]
    assert len(matches) == 1, f"{guest.name}: {len(matches)} rows"
    row = matches[0]
    app.table.move_cursor(row=app.table.get_row_index(row_key(*row.domain.key)))
    await pilot.pause()
    assert app.selected == row.domain.key
    assert app.panel.slider.subject == row.domain.key


def shown_target(app: BalloonApp, guest: g.Guest) -> str:
    row = row_of(app, guest)
    return app.table.get_cell(row_key(*row.domain.key), "target").plain.strip()


def panel_legend(app: BalloonApp) -> str:
    content = app.query_one("#panel-legend").content  # type: ignore[attr-defined]
    return str(getattr(content, "plain", content))


def describe(app: BalloonApp, guest: g.Guest, conn: libvirt.virConnect) -> str:
    row = row_of(app, guest)
    d = row.domain
    dialog = any(isinstance(s, ConfirmFloorScreen) for s in app.screen_stack)
    return (
        f"libvirt actual={libvirt_actual(conn, guest) / MIB:.1f} MiB; app: actual="
        f"{d.actual_kib / MIB:.1f} MiB target={row.target_kib} writing={row.writing} "
        f"failed={row.failed!r} progress={d.progress.state.value} {d.progress.message!r}; "
        f"floor dialog open={dialog}; log tail={app.log_panel.lines_written[-4:]!r}"
    )


def libvirt_actual(conn: libvirt.virConnect, guest: g.Guest) -> int:
    return int(conn.lookupByUUIDString(guest.uuid).info()[2])


def floor_of(app: BalloonApp, guest: g.Guest) -> int:
    row = row_of(app, guest)
    floor = app.main.policy.floor_kib(row.domain, app.main.clock())
    assert floor is not None, f"no safety floor known (guest stats?): {row.domain.stats}"
    return floor


async def stats_known(app: BalloonApp, guest: g.Guest) -> None:
    """The safety floor needs fresh guest stats (stats period 1 s)."""

    def known() -> bool:
        row = row_of(app, guest)
        return app.main.policy.floor_kib(row.domain, app.main.clock()) is not None

    await until(known, 10, f"{guest.name}: guest stats in the app")


async def converge(
    app: BalloonApp,
    guest: g.Guest,
    conn: libvirt.virConnect,
    target_kib: int,
    label: str,
    timings: dict[str, dict[str, float]] | None = None,
) -> float:
    """Wait (bounded) until the guest's real balloon and then the app reach `target_kib`.

    Returns the seconds from now until libvirt's actual size got there; with `timings`,
    also notes under `label` how much later the app showed it converged.
    """
    assert not isinstance(app.screen, ConfirmFloorScreen), "a floor dialog opened"
    seconds = await until(
        lambda: abs(libvirt_actual(conn, guest) - target_kib) <= TOLERANCE_KIB,
        CONVERGE_TIMEOUT,
        f"{label}: libvirt's actual to reach {target_kib // MIB} MiB",
        lambda: describe(app, guest, conn),
    )

    def app_follows() -> bool:
        row = row_of(app, guest)
        return (
            row.target_kib == target_kib
            and not row.writing
            and abs(row.domain.actual_kib - target_kib) <= TOLERANCE_KIB
            and row.domain.progress.state is Convergence.CONVERGED
        )

    later = await until(
        app_follows,
        10,
        f"{label}: the app to show it converged",
        lambda: describe(app, guest, conn),
    )
    if timings is not None:
        timings.setdefault(label, {})["app_after_libvirt_s"] = later
    assert shown_target(app, guest) == short_size(target_kib)
    return seconds


def audit_lines(path: Path, guest: g.Guest) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [x for x in lines if x.get("uuid") == guest.uuid and "action" not in x]


def assert_audited(path: Path, guest: g.Guest, targets_kib: list[int]) -> list[dict[str, Any]]:
    """Every attempt has its result line (same id); each of `targets_kib` was written ok."""
    lines = audit_lines(path, guest)
    attempts = {x["id"]: x for x in lines if x["phase"] == "attempt"}
    results = {x["id"]: x for x in lines if x["phase"] == "result"}
    assert attempts, f"no attempt lines in {path}"
    assert set(attempts) == set(results), f"attempts without results (or back): {lines}"
    for line in lines:
        assert line["uri"] == g.URI and line["name"] == guest.name and line["mode"] == "live"
    for target in targets_kib:
        ok = [
            i
            for i, a in attempts.items()
            if a["target_kib"] == target and results[i]["ok"] and results[i]["result"] == "ok"
        ]
        assert ok, f"no successful write of {target} KiB audited: {lines}"
        # The attempt is logged (flushed) before the write, the result after it.
        order = [(x["id"], x["phase"]) for x in lines]
        assert order.index((ok[-1], "attempt")) < order.index((ok[-1], "result"))
    return lines


def handle_offset(slider: BalloonSlider, value_kib: int) -> tuple[int, int]:
    """Widget offset of the handle's cell for `value_kib` (the track is the first line)."""
    return (slider.x_of(value_kib) + slider.gutter.left, 0)


def column_for(slider: BalloonSlider, want_kib: int, at_least_kib: int) -> int:
    """The track column whose value is nearest `want_kib`, not below `at_least_kib`."""
    columns = [x for x in range(slider.track_width) if slider.value_at(x) >= at_least_kib]
    return min(columns, key=lambda x: abs(slider.value_at(x) - want_kib))


async def drag(pilot: Any, slider: BalloonSlider, to_x: int) -> int:
    """Press on the handle, move to content column `to_x` in steps, let go; return the value."""
    app = slider.app
    # Pilot computes the press's screen position before it lets the app run: a snapshot
    # that moves the layout meanwhile (a line appearing above the panel) sends the press
    # where the slider was. Seen twice in loaded CI runs; so a press that started no drag is
    # tried again, at the slider's new place, a few times.
    for attempt in range(3):
        from_x = slider.x_of(slider.value)
        await pilot.mouse_down(slider, offset=(from_x + slider.gutter.left, 0))
        if slider.dragging:
            break
        await pilot.pause(0.2)
        g.record_timing("drag_press_retried", 0.2, attempt=attempt + 1)
    # Said in full when it fails.
    under = app.get_widget_at(slider.region.x + from_x + slider.gutter.left, slider.region.y)
    assert slider.dragging, (
        f"the press did not start a drag: disabled={slider.disabled}, "
        f"subject={slider.subject}, under the mouse={under}, screens={app.screen_stack}, "
        f"toasts={len(app.query('Toast'))}, hosts={[h.status for h in app.main.hosts.values()]}"
    )
    step = 3 if to_x > from_x else -3
    for x in range(from_x, to_x, step):
        await pilot.hover(slider, offset=(x + slider.gutter.left, 0))
    await pilot.hover(slider, offset=(to_x + slider.gutter.left, 0))
    value = slider.value_at(to_x)
    assert slider.value == value, "the handle follows the mouse"
    await pilot.mouse_up(slider, offset=(to_x + slider.gutter.left, 0))
    assert not slider.dragging
    return value


# -- 5: keys and a mouse drag move a real balloon ----------------------------------------------
async def test_keys_and_drag_move_the_real_balloon(
    make_app: AppFactory,
    libvirt_conn: libvirt.virConnect,
    balloon_guest: g.Guest,
    tmp_path: Path,
) -> None:
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit)
    # label -> {"input_s": keys/drag, "libvirt_s": then until actual ≈ target, ...}
    timings: dict[str, dict[str, float]] = {}
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await select(app, pilot, balloon_guest)
        await stats_known(app, balloon_guest)
        row = row_of(app, balloon_guest)
        assert row.domain.maximum_kib == MAX_MIB * MIB
        # Start full (as the tests before leave it; on its own, a run may not: go up first).
        if abs(row.domain.actual_kib - MAX_MIB * MIB) > TOLERANCE_KIB or row.target_kib not in (
            None,
            MAX_MIB * MIB,
        ):
            await pilot.press("equals_sign")  # +512M: clamped to the maximum
            await converge(app, balloon_guest, libvirt_conn, MAX_MIB * MIB, "to the maximum")
        start_kib = MAX_MIB * MIB

        # Keys on the table: `-` twice (two 64 MiB steps, the second from the first).
        keys_target = start_kib - 2 * 64 * MIB  # 384 MiB
        assert keys_target > floor_of(app, balloon_guest)
        t0 = time.monotonic()
        await pilot.press("minus", "minus")
        pressed = time.monotonic() - t0
        label = "ui_keys_minus2_512_to_384"
        timings[label] = {"input_s": pressed}
        timings[label]["libvirt_s"] = await converge(
            app, balloon_guest, libvirt_conn, keys_target, label, timings
        )

        # Enter on the table goes to the slider; ← steps it by 64 MiB and applies.
        await pilot.press("enter")
        slider = app.panel.slider
        assert app.focused is slider
        left_target = keys_target - 64 * MIB  # 320 MiB
        assert left_target > floor_of(app, balloon_guest)
        t0 = time.monotonic()
        await pilot.press("left")
        pressed = time.monotonic() - t0
        label = "ui_slider_left_384_to_320"
        timings[label] = {"input_s": pressed}
        timings[label]["libvirt_s"] = await converge(
            app, balloon_guest, libvirt_conn, left_target, label, timings
        )

        # Drag the handle down to ~256 MiB (kept above the safety floor: no dialog).
        floor = floor_of(app, balloon_guest)
        to_x = column_for(slider, 256 * MIB, floor + 16 * MIB)
        t0 = time.monotonic()
        dragged = await drag(pilot, slider, to_x)
        released = time.monotonic() - t0
        assert floor < dragged < left_target, (floor, dragged)
        label = f"ui_drag_320_to_{dragged // MIB}"
        timings[label] = {"input_s": released}
        timings[label]["libvirt_s"] = await converge(
            app, balloon_guest, libvirt_conn, dragged, label, timings
        )

        # Drag it to the last column: the maximum; the guest gets its memory back.
        t0 = time.monotonic()
        back = await drag(pilot, slider, slider.track_width - 1)
        released = time.monotonic() - t0
        assert back == MAX_MIB * MIB
        label = f"ui_drag_{dragged // MIB}_to_512"
        timings[label] = {"input_s": released}
        timings[label]["libvirt_s"] = await converge(
            app, balloon_guest, libvirt_conn, MAX_MIB * MIB, label, timings
        )

        assert not any(isinstance(s, ConfirmFloorScreen) for s in app.screen_stack)
        log = app.log_panel.lines_written
        requested = [line for line in log if " requested (" in line]
        assert sum("(key −" in line for line in requested) == 2, requested
        assert sum("(slider, " in line for line in requested) == 3, requested  # ←, 2 drags
    fleet = app.fleet
    assert isinstance(fleet, Fleet)
    assert not any(w.polling for w in fleet.workers.values()), "still polling after the app ended"

    lines = assert_audited(audit, balloon_guest, [keys_target, left_target, dragged, MAX_MIB * MIB])
    # Nothing but what the operator asked for reached libvirt: each step at most once.
    targets = [x["target_kib"] for x in lines if x["phase"] == "attempt"]
    assert set(targets) <= {
        start_kib - 64 * MIB,
        keys_target,
        left_target,
        dragged,
        MAX_MIB * MIB,
    }, targets
    assert targets[-3:] == [left_target, dragged, MAX_MIB * MIB], targets
    for what, t in timings.items():
        # The number: from the first key press (mouse down) to libvirt's actual at the target.
        g.record_timing(
            what,
            t["input_s"] + t["libvirt_s"],
            guest=balloon_guest.spec.label,
            refresh=REFRESH,
            **{k: round(v, 2) for k, v in t.items()},
        )


# -- the target is remembered across app restarts (domain metadata) ----------------------------
def metadata_kib(conn: libvirt.virConnect, guest: g.Guest) -> int | None:
    dom = conn.lookupByUUIDString(guest.uuid)
    try:
        text = dom.metadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NAMESPACE, libvirt.VIR_DOMAIN_AFFECT_LIVE
        )
    except libvirt.libvirtError:
        return None
    return int(ET.fromstring(text).get("kib", "0")) or None


async def test_target_is_remembered_across_app_restarts(
    make_app: AppFactory,
    libvirt_conn: libvirt.virConnect,
    balloon_guest: g.Guest,
    tmp_path: Path,
) -> None:
    # App 1: set a target with a key, wait for the write, quit with `q`.
    audit1 = tmp_path / "audit1.jsonl"
    app1 = make_app(audit1)
    async with app1.run_test(size=SIZE) as pilot:
        await start(app1, pilot)
        await select(app1, pilot, balloon_guest)
        await stats_known(app1, balloon_guest)
        row = row_of(app1, balloon_guest)
        current = row.target_kib if row.target_kib is not None else row.domain.actual_kib
        target = current - 64 * MIB
        if target <= floor_of(app1, balloon_guest) + 32 * MIB:  # far down already: go up
            target = current + 64 * MIB
            await pilot.press("plus")
        else:
            await pilot.press("minus")
        assert target != current and 0 < target <= MAX_MIB * MIB
        await until(
            lambda: any(
                x["phase"] == "result" and x["ok"] and x["target_kib"] == target
                for x in audit_lines(audit1, balloon_guest)
            ),
            10,
            "app 1's write",
        )
        assert shown_target(app1, balloon_guest).endswith(short_size(target))  # "↓  448M"
        await pilot.press("q")
        await until(lambda: not app1.is_running, 10, "app 1 to quit on q")
    assert metadata_kib(libvirt_conn, balloon_guest) == target, "no target in the live metadata"
    assert_audited(audit1, balloon_guest, [target])

    # App 2, a new process's worth of state (own Fleet, own TargetBook): shows the target.
    audit2 = tmp_path / "audit2.jsonl"
    app2 = make_app(audit2)
    async with app2.run_test(size=SIZE) as pilot:
        await start(app2, pilot)
        # On the first snapshot already, before anyone selects or writes anything.
        row = row_of(app2, balloon_guest)
        assert row.target_kib == target, f"app 2 shows target {row.target_kib}, not {target}"
        cell = shown_target(app2, balloon_guest)
        assert cell.endswith(short_size(target)) and "–" not in cell, cell
        await select(app2, pilot, balloon_guest)
        assert f"▲ target {short_size(target)}" in panel_legend(app2), panel_legend(app2)
        assert app2.panel.slider.value == target  # the handle sits on the remembered target
        assert audit_lines(audit2, balloon_guest) == [], "app 2 wrote before being asked"
        await converge(app2, balloon_guest, libvirt_conn, target, "remembered target")

        # Leave the guest full for the tests after this one: `end` on the slider.
        await pilot.press("enter")
        assert app2.focused is app2.panel.slider
        await pilot.press("end")
        await converge(app2, balloon_guest, libvirt_conn, MAX_MIB * MIB, "back to the maximum")
    assert metadata_kib(libvirt_conn, balloon_guest) == MAX_MIB * MIB
    assert_audited(audit2, balloon_guest, [MAX_MIB * MIB])
