"""virtio-mem on a real QEMU/TCG guest (issue 13, "Real guests").

`vmem_guest` boots 256 MiB with a 512 MiB virtio-mem device (block 2 MiB, nothing plugged),
`virtio_mem.ko` in its initramfs and `memhp_default_state=online_movable` on its kernel
command line. The first test moves the device with plain libvirt-python only: it proves the
harness (the guest's driver plugs and unplugs, libvirt's live XML and `balloon.current`
follow) independent of balloon_tui; the tests after it drive the same device through the UI.
Timings go to build/realguest/timings.txt as vmem_*.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import guests as g
import libvirt
import pytest
import vmem
from textual.widgets import Checkbox

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.safety import SafetyPolicy
from balloon_tui.tui import BalloonApp, create_app
from balloon_tui.tui.render import RowView, row_key
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.knobs import BalloonKnobsScreen, ConfirmKnobsScreen
from balloon_tui.virt.fleet import Fleet

pytestmark = pytest.mark.realguest

MIB = 1024
BOOT_MIB = 256
SIZE_MIB = 512
BLOCK_MIB = 2
FOLLOW_TIMEOUT = 10.0  # measured here: `<current>` follows in ~1 s; the issue says "within 3 s"


def follow(conn: libvirt.virConnect, guest: g.Guest, base: int, mib: int, label: str) -> None:
    """Ask for `mib` plugged; wait until the live XML's `<current>`, `balloon.current` and
    the guest's own MemTotal all moved with it; record how long `<current>` took."""
    before_total = vmem.guest_total_kib(conn, guest)
    before_current = vmem.device(conn, guest).current_kib
    vmem.request(conn, guest, mib * MIB)
    assert vmem.device(conn, guest).requested_kib == mib * MIB
    seconds = g.wait_for(
        f"{label}: <current> to reach {mib} MiB",
        lambda: vmem.device(conn, guest).current_kib == mib * MIB,
        FOLLOW_TIMEOUT,
        interval=0.1,
    )
    g.record_timing(f"vmem_{label}", seconds, guest=guest.spec.label, requested_mib=mib)
    # balloon.current = boot memory + plugged − balloon (nothing ballooned here).
    g.wait_for(
        f"{label}: balloon.current to be {BOOT_MIB} + {mib} MiB",
        lambda: vmem.balloon_current_kib(conn, guest) == base + mib * MIB,
        FOLLOW_TIMEOUT,
        interval=0.1,
    )
    # The guest onlined (or offlined) it: its MemTotal moved by what was plugged.
    assert before_total is not None and before_current is not None
    moved = mib * MIB - before_current

    def guest_sees_it() -> bool:
        total = vmem.guest_total_kib(conn, guest)
        return total is not None and total - before_total == moved

    g.wait_for(f"{label}: the guest's MemTotal to move by {moved} KiB", guest_sees_it, 10)
    assert not g.troubles(guest), g.troubles(guest)


def test_plug_and_unplug_with_plain_libvirt(
    libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest
) -> None:
    conn = libvirt_conn
    dev = vmem.device(conn, vmem_guest)
    assert dev.alias, "no alias in the live XML"
    assert (dev.node, dev.block_kib, dev.size_kib) == (0, BLOCK_MIB * MIB, SIZE_MIB * MIB)
    vmem.settle(conn, vmem_guest, 0)  # when another test ran first (-k, a rerun)
    # libvirt counts the whole device in the maximum, plugged or not.
    whole = (BOOT_MIB + SIZE_MIB) * MIB
    assert vmem.balloon_maximum_kib(conn, vmem_guest) == whole
    assert conn.lookupByUUIDString(vmem_guest.uuid).maxMemory() == whole
    base = vmem.balloon_current_kib(conn, vmem_guest)
    assert base == BOOT_MIB * MIB

    follow(conn, vmem_guest, base, 448, "plug_0_to_448")
    follow(conn, vmem_guest, base, 64, "unplug_448_to_64")
    follow(conn, vmem_guest, base, 0, "unplug_64_to_0")
    # A live change only: the config still asks for nothing.
    config = vmem.device(conn, vmem_guest, libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert config.requested_kib == 0 and config.current_kib is None


# -- through the UI ---------------------------------------------------------------------------
# The app is built as balloon_tui/cli.py builds it (`-c qemu:///system --refresh 0.5
# --floor-margin 256M --audit-log PATH`). `v` puts the panel's slider and the keys - + _ = t u
# on the selected guest's virtio-mem device; the test checks what happened from outside: the
# live XML's <requested> and <current>, and the audit log.
REFRESH = 0.5
SCREEN = (140, 40)
# The floor with a 256 MiB margin: used (~135 MiB here: this kernel keeps much of its 256 MiB
# boot memory) + 256 MiB, ~390 MiB. It sits well apart from both "everything unplugged"
# (256 MiB: below it) and the totals the other steps reach (>= 550 MiB: above it), so which
# side a request falls on does not hang on a few MiB of the guest's usage.
FLOOR = SafetyPolicy(min_margin_kib=256 * MIB)
UI_TIMEOUT = 15.0

AppFactory = Callable[[Path], BalloonApp]


@pytest.fixture
def make_app() -> Iterator[AppFactory]:
    fleets: list[Fleet] = []

    def make(audit_path: Path) -> BalloonApp:
        fleet = Fleet([g.URI], readonly=False, interval=REFRESH, audit=AuditLog(audit_path))
        fleets.append(fleet)
        errors = fleet.connect_all()
        assert not errors, f"cannot open {g.URI}: {errors}"
        return create_app(fleet.bind, show_host=False, floor=FLOOR, log_clock=False)

    yield make
    for fleet in fleets:  # the app stops its fleet on unmount; this covers a failed start
        fleet.stop()


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def audit_lines(path: Path, guest: g.Guest) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [x for x in lines if x.get("uuid") == guest.uuid]


def device_writes(path: Path, guest: g.Guest) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(attempt, result) of each finished write to a virtio-mem device, in order."""
    lines = [x for x in audit_lines(path, guest) if "device" in x]
    results = {x["id"]: x for x in lines if x["phase"] == "result"}
    return [(x, results[x["id"]]) for x in lines if x["phase"] == "attempt" and x["id"] in results]


async def next_write(
    path: Path, guest: g.Guest, done_before: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait for the app's next finished device write; it went through, audited as such."""
    await until(
        lambda: len(device_writes(path, guest)) > done_before,
        UI_TIMEOUT,
        f"a virtio-mem write in {path.name}",
    )
    attempt, result = device_writes(path, guest)[done_before]
    assert result["ok"] and result["result"] == "ok", (attempt, result)
    assert attempt["device"] == "virtio-mem" and attempt["alias"], attempt
    assert attempt["uri"] == g.URI and attempt["name"] == guest.name
    assert attempt["mode"] == "live", attempt
    return attempt, result


async def follows(conn: libvirt.virConnect, guest: g.Guest, kib: int, label: str) -> float:
    """From now until the live XML's <current> is `kib`; recorded as ui_vmem_<label>."""
    seconds = await until(
        lambda: vmem.device(conn, guest).current_kib == kib,
        FOLLOW_TIMEOUT,
        f"{label}: <current> to reach {kib // MIB} MiB (now {vmem.device(conn, guest)})",
    )
    await until(
        lambda: vmem.balloon_current_kib(conn, guest) == BOOT_MIB * MIB + kib,
        FOLLOW_TIMEOUT,
        f"{label}: balloon.current to follow",
    )
    return seconds


def row_of(app: BalloonApp, guest: g.Guest) -> RowView:
    for row in app.rows.values():
        if row.domain.uuid == guest.uuid:
            return row
    raise AssertionError(f"{guest.name} is not in the table")


async def stats_since(app: BalloonApp, guest: g.Guest, since: float) -> None:
    """Wait until the app has guest stats taken after `since` (epoch seconds).

    The floor's "used" is actual − usable: actual (balloon.current) moves the moment memory
    is plugged or unplugged, usable only with the guest's next stats (period 1 s). In
    between, the app's floor is off by what was plugged: a floor check must wait it out.
    """

    def fresh() -> bool:
        stats = row_of(app, guest).domain.stats
        return stats.last_update is not None and stats.last_update > int(since)

    await until(fresh, 10, f"{guest.name}: guest stats newer than {since:.0f} in the app")


async def open_device(app: BalloonApp, pilot: Any, guest: g.Guest, since: float) -> None:
    """Start, select the guest, wait for its device and fresh stats, and press `v`."""
    await asyncio.wait_for(app.ready.wait(), 15)
    await pilot.pause()
    key = row_of(app, guest).domain.key
    app.table.move_cursor(row=app.table.get_row_index(row_key(*key)))
    await pilot.pause()
    assert app.selected == key
    await until(
        lambda: row_of(app, guest).domain.memory_devices != (),
        10,
        f"{guest.name}: its virtio-mem device in the app (DomainSnapshot.memory_devices)",
    )
    await stats_since(app, guest, since)
    await pilot.press("v")


def floor_of(app: BalloonApp, guest: g.Guest) -> int:
    floor = FLOOR.floor_kib(row_of(app, guest).domain, app.main.clock())
    assert floor is not None
    return floor


def timed(label: str, guest: g.Guest, pressed_at: float, seconds_after: float) -> None:
    g.record_timing(
        f"ui_vmem_{label}",
        time.monotonic() - pressed_at,
        guest=guest.spec.label,
        current_after_s=round(seconds_after, 2),
    )


async def test_keys_plug_and_unplug_the_device(
    make_app: AppFactory, libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest, tmp_path: Path
) -> None:
    conn = libvirt_conn
    vmem.settle(conn, vmem_guest, 0)
    settled = time.time()
    alias = vmem.device(conn, vmem_guest).alias
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit)
    async with app.run_test(size=SCREEN) as pilot:
        await open_device(app, pilot, vmem_guest, settled)

        # `=`: 512 MiB more, clamped to the device's size: everything plugged.
        pressed = time.monotonic()
        await pilot.press("equals_sign")
        attempt, _ = await next_write(audit, vmem_guest, 0)
        assert (attempt["alias"], attempt["target_kib"]) == (alias, SIZE_MIB * MIB), attempt
        assert attempt["source"] == "key"
        after = await follows(conn, vmem_guest, SIZE_MIB * MIB, "plug_0_to_512")
        timed("key_plug_0_to_512", vmem_guest, pressed, after)
        await stats_since(app, vmem_guest, time.time())

        # `-`: 64 MiB less, far above the floor: no question, unplugged.
        assert floor_of(app, vmem_guest) < BOOT_MIB * MIB + (SIZE_MIB - 64) * MIB
        pressed = time.monotonic()
        await pilot.press("minus")
        attempt, _ = await next_write(audit, vmem_guest, 1)
        assert attempt["target_kib"] == (SIZE_MIB - 64) * MIB, attempt
        assert attempt["previous_kib"] == SIZE_MIB * MIB, attempt
        after = await follows(conn, vmem_guest, (SIZE_MIB - 64) * MIB, "unplug_512_to_448")
        timed("key_unplug_512_to_448", vmem_guest, pressed, after)

        # `u`: back to the request before ours, plugged again.
        pressed = time.monotonic()
        await pilot.press("u")
        attempt, _ = await next_write(audit, vmem_guest, 2)
        assert (attempt["target_kib"], attempt["source"]) == (SIZE_MIB * MIB, "undo"), attempt
        after = await follows(conn, vmem_guest, SIZE_MIB * MIB, "undo_448_to_512")
        timed("undo_448_to_512", vmem_guest, pressed, after)
        assert not any(isinstance(s, ConfirmFloorScreen) for s in app.screen_stack)
    # The keys moved the device only: no balloon target was written.
    balloon = [x for x in audit_lines(audit, vmem_guest) if "device" not in x]
    assert balloon == [], balloon
    assert vmem.device(conn, vmem_guest).requested_kib == SIZE_MIB * MIB


async def test_typed_request_is_rounded_to_the_block(
    make_app: AppFactory, libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest, tmp_path: Path
) -> None:
    conn = libvirt_conn
    vmem.settle(conn, vmem_guest, 64 * MIB)
    settled = time.time()
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit)
    typed_mib = 301  # not a whole number of 2 MiB blocks
    async with app.run_test(size=SCREEN) as pilot:
        await open_device(app, pilot, vmem_guest, settled)
        assert BOOT_MIB * MIB + (typed_mib - BLOCK_MIB) * MIB > floor_of(app, vmem_guest)
        pressed = time.monotonic()
        await pilot.press("t")
        await pilot.press(*f"{typed_mib}M", "enter")
        attempt, _ = await next_write(audit, vmem_guest, 0)
        asked = attempt["target_kib"]
        assert attempt["source"] == "typed", attempt
        # Whole blocks, the nearest to what was typed (up or down: a block at most).
        assert asked % (BLOCK_MIB * MIB) == 0, attempt
        assert abs(asked - typed_mib * MIB) < BLOCK_MIB * MIB, attempt
        assert vmem.device(conn, vmem_guest).requested_kib == asked
        after = await follows(conn, vmem_guest, asked, f"typed_64_to_{asked // MIB}")
        timed(f"typed_{typed_mib}M_to_{asked // MIB}", vmem_guest, pressed, after)


async def test_unplug_below_the_floor_asks_first(
    make_app: AppFactory, libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest, tmp_path: Path
) -> None:
    conn = libvirt_conn
    vmem.settle(conn, vmem_guest, (SIZE_MIB - 64) * MIB)
    settled = time.time()
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit)
    async with app.run_test(size=SCREEN) as pilot:
        await open_device(app, pilot, vmem_guest, settled)
        # `_`: 512 MiB less, clamped to 0: the guest would keep its boot memory only.
        assert floor_of(app, vmem_guest) > BOOT_MIB * MIB, "the floor is not above boot memory"
        await pilot.press("underscore")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), 5, "the floor question")
        await pilot.press("escape")  # Cancel: nothing is written
        await until(lambda: not isinstance(app.screen, ConfirmFloorScreen), 5, "cancel")
        await asyncio.sleep(2 * REFRESH)
        assert device_writes(audit, vmem_guest) == []
        assert vmem.device(conn, vmem_guest).requested_kib == (SIZE_MIB - 64) * MIB

        await pilot.press("underscore")
        await until(
            lambda: isinstance(app.screen, ConfirmFloorScreen), 5, "the floor question again"
        )
        pressed = time.monotonic()
        await pilot.press("tab", "enter")  # "set anyway"
        attempt, _ = await next_write(audit, vmem_guest, 0)
        assert attempt["target_kib"] == 0 and attempt["forced"] is True, attempt
        after = await follows(conn, vmem_guest, 0, "unplug_448_to_0_forced")
        timed("forced_unplug_448_to_0", vmem_guest, pressed, after)
    assert not g.troubles(vmem_guest), g.troubles(vmem_guest)


# -- the balloon's own settings (D), in the persistent guest's config ---------------------------
async def toggle_both(app: BalloonApp, pilot: Any) -> tuple[bool, bool]:
    """`D`, space on autodeflate, tab, space on free page reporting, Store, confirm; returns
    what the dialog's boxes said when stored."""
    await pilot.press("D")
    await until(lambda: isinstance(app.screen, BalloonKnobsScreen), 10, "the D dialog")
    dialog = app.screen
    await pilot.press("space", "tab", "space")
    wanted = (
        dialog.query_one("#knobs-autodeflate", Checkbox).value,
        dialog.query_one("#knobs-fpr", Checkbox).value,
    )
    await pilot.click("#knobs-store")
    await until(lambda: isinstance(app.screen, ConfirmKnobsScreen), 5, "the confirmation")
    await pilot.press("enter")  # its focus is on Store
    await until(lambda: not isinstance(app.screen, ConfirmKnobsScreen), 5, "confirmed")
    return wanted


async def test_balloon_settings_go_to_the_config_only(
    make_app: AppFactory, libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest, tmp_path: Path
) -> None:
    conn = libvirt_conn
    inactive = libvirt.VIR_DOMAIN_XML_INACTIVE
    live_before = vmem.balloon_flags(conn, vmem_guest, 0)
    config_before = vmem.balloon_flags(conn, vmem_guest, inactive)
    audit = tmp_path / "audit.jsonl"
    app = make_app(audit)
    async with app.run_test(size=SCREEN) as pilot:
        await asyncio.wait_for(app.ready.wait(), 15)
        await pilot.pause()
        key = row_of(app, vmem_guest).domain.key
        app.table.move_cursor(row=app.table.get_row_index(row_key(*key)))
        await pilot.pause()
        for flipped in ((True, True), (False, False)):
            want = tuple(b != f for b, f in zip(config_before, flipped, strict=True))
            stored = await toggle_both(app, pilot)
            assert stored == want, f"the dialog's boxes: {stored}, expected {want}"
            # As `virsh dumpxml --inactive` shows it; the running guest keeps its settings
            # until the next boot (libvirt cannot change them live).
            await until(
                lambda want=want: vmem.balloon_flags(conn, vmem_guest, inactive) == want,
                10,
                f"the config's memballoon to be autodeflate, freePageReporting = {want}",
            )
            assert vmem.balloon_flags(conn, vmem_guest, 0) == live_before
    settings = [x for x in audit_lines(audit, vmem_guest) if x.get("action") == "balloon-settings"]
    results = [x for x in settings if x["phase"] == "result"]
    assert [x["ok"] for x in results] == [True, True], settings
    assert [(x["config"]["autodeflate"], x["config"]["free_page_reporting"]) for x in results] == [
        tuple(not b for b in config_before),
        config_before,
    ], results
    assert all(x["live_period"] is None for x in results), results  # the period left alone
