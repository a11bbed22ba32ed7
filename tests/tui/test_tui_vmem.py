"""`v` and the target keys on a virtio-mem device: the slider switches, requests round to the
block and stay within [0, size], an unplug below the floor asks, undo is per device, read-only
refuses, and a write goes out audited with the device and its alias (hand-built snapshots;
the writer itself against a fake virDomain, as libvirt's test driver cannot update devices)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from textual.widgets import Input
from tuihelpers import (
    TRUSTING,
    FakeFleet,
    FakeFleetHandle,
    dom,
    emit,
    host,
    on_track,
    plain,
    until,
)
from vmemfakes import UUID, FakeConnection, FakeDomain

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import Convergence, GuestStats, MemoryDevice
from balloon_tui.core.sizes import MIB
from balloon_tui.core.writes import TargetRequest, WriteResult, WriteSource
from balloon_tui.tui import create_app
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.devicechoice import DeviceChoiceScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen
from balloon_tui.virt.session import HostSession
from balloon_tui.virt.vmem_writer import write_device

NOW = 1000.0
DEV0 = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 448 * MIB, 448 * MIB)
DEV1 = MemoryDevice("virtiomem1", 1, 2 * MIB, 512 * MIB, 64 * MIB, 64 * MIB)
# 512 MiB boot + 448 MiB plugged; it uses 500 MiB: floor 628 MiB (500 + the 128 MiB margin).
USED_500 = GuestStats(usable=460 * MIB, last_update=int(NOW))


def _guest(*devices: MemoryDevice, actual: int = 960 * MIB, **fields: object):
    return dom(
        "vm",
        1,
        maximum=1536 * MIB,
        actual=actual,
        memory_devices=devices,
        stats=USED_500,
        **fields,
    )


def _app(fake: FakeFleetHandle, *, trusting: bool = True):
    options = {"floor": TRUSTING} if trusting else {}
    return create_app(fake.factory, log_clock=False, clock=lambda: NOW, **options)


def _notes(app) -> str:
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


def _device_requests(fake: FakeFleetHandle) -> list[tuple[str | None, int, WriteSource]]:
    assert fake.fleet is not None
    return [(r.device, r.target_kib, r.source) for r in fake.fleet.requests]


async def test_v_on_a_guest_without_devices_says_so(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest()))
        await pilot.press("v")
        await pilot.pause()
        assert "vm has no virtio-mem device: the slider moves the balloon" in _notes(app)
        assert app.panel.slider.device is None
        assert "slider:" not in plain(app.query_one("#panel-title"))


async def test_v_switches_the_slider_to_the_device_and_back(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0), taken_at=NOW))
        slider = app.panel.slider
        assert "slider: balloon  v: virtio-mem" in plain(app.query_one("#panel-title"))
        assert slider.device is None and slider.maximum == 1536 * MIB
        await pilot.press("v")
        await pilot.pause()
        assert slider.device == "virtiomem0"
        assert (slider.maximum, slider.value, slider.actual) == (512 * MIB, 448 * MIB, 448 * MIB)
        assert slider.minimum == 0 and slider.block_kib == 2 * MIB
        assert slider.floor == 116 * MIB  # 628 MiB floor − 512 MiB boot memory
        title = plain(app.query_one("#panel-title"))
        assert "slider: virtio-mem virtiomem0  v: back to the balloon" in title
        legend = plain(app.query_one("#panel-legend"))
        assert "requested 448M" in legend and "size 512M" in legend and "block 2.00M" in legend
        assert "plugged as requested" in plain(app.query_one("#panel-progress"))
        await pilot.press("v")
        await pilot.pause()
        assert slider.device is None and slider.maximum == 1536 * MIB
    assert _device_requests(fake) == []


async def test_the_palette_has_it_and_a_vanished_guest_is_forgotten(
    fake: FakeFleetHandle,
) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        guest = _guest(DEV0)
        await emit(app, pilot, host(guest))
        await pilot.press("ctrl+p")
        await pilot.pause()
        app.screen.query_one(Input).value = "switch the slider"
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: app.panel.slider.device == "virtiomem0", what="the palette")
        assert app.main.devices.active == {guest.key: "virtiomem0"}
        await emit(app, pilot, host(taken_at=NOW + 1))
        assert app.main.devices.active == {}


async def test_the_keys_move_the_device_in_blocks_within_its_size(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v", "minus")
        await pilot.pause()
        assert app.panel.slider.value == 384 * MIB  # ours, while it travels
        assert "sending 384M for virtiomem0" in plain(app.query_one("#panel-progress"))
        await pilot.press("equals_sign")  # +512 MiB from 384: capped at the size
        await pilot.pause()
        await pilot.press("equals_sign")  # at the size already: nothing sent
        await pilot.pause()
        assert "virtiomem0 already at the size" in _notes(app)
        # The slider's own keys: a step, then home (the floor, as a request).
        app.panel.slider.focus()
        await pilot.press("home")
        await pilot.pause()
    assert _device_requests(fake) == [
        ("virtiomem0", 384 * MIB, WriteSource.KEY),
        ("virtiomem0", 512 * MIB, WriteSource.KEY),
        ("virtiomem0", 116 * MIB, WriteSource.SLIDER),
    ]


async def test_a_click_on_the_track_asks_for_whole_blocks(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    odd = MemoryDevice("virtiomem0", 0, 6 * MIB, 510 * MIB, 0, 0)  # 6 MiB blocks
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(odd)))
        await pilot.press("v")
        await pilot.pause()
        slider = app.panel.slider
        x = slider.track_width // 3
        await pilot.mouse_down(slider, offset=on_track(slider, x))
        await pilot.mouse_up(slider, offset=on_track(slider, x))
        await pilot.pause()
        last = slider.track_width - 1
        await pilot.mouse_down(slider, offset=on_track(slider, last))
        await pilot.mouse_up(slider, offset=on_track(slider, last))
        await pilot.pause()
    [(alias, first, source), (_alias, end, _source)] = _device_requests(fake)
    assert (alias, source) == ("virtiomem0", WriteSource.SLIDER)
    assert first % (6 * MIB) == 0 and 0 < first < 510 * MIB
    assert end == 510 * MIB  # the size is 85 whole blocks


async def test_a_typed_request_is_rounded_to_the_block(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v", "t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        assert "virtiomem0" in str(app.screen.query_one("Vertical").border_title)
        app.screen.query_one(Input).value = "301M"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        app.screen.query_one(Input).value = "0"
        await pilot.press("enter")
        await pilot.pause()
    assert _device_requests(fake) == [
        ("virtiomem0", 302 * MIB, WriteSource.TYPED),  # half a block rounds up
        ("virtiomem0", 0, WriteSource.TYPED),
    ]


async def test_an_unplug_below_the_floor_asks_first(fake: FakeFleetHandle) -> None:
    app = _app(fake, trusting=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v", "minus")  # 384 MiB: 896 MiB in all, above the 628 MiB floor
        await pilot.pause()
        assert _device_requests(fake) == [("virtiomem0", 384 * MIB, WriteSource.KEY)]
        await pilot.press("underscore")  # 0: 512 MiB in all, below the floor
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        question = app.screen
        # The dialog speaks of what the guest has, not of the device's request.
        assert (question.current_kib, question.target_kib) == (896 * MIB, 512 * MIB)
        await pilot.press("enter")  # Cancel is the default
        await pilot.pause()
        assert len(_device_requests(fake)) == 1
        await pilot.press("underscore")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        await pilot.press("tab", "enter")  # set anyway
        await pilot.pause()
    assert fake.fleet is not None
    last = fake.fleet.requests[-1]
    assert (last.device, last.target_kib, last.forced) == ("virtiomem0", 0, True)
    assert last.previous_kib == 384 * MIB


async def test_a_plug_never_asks_even_below_the_floor(fake: FakeFleetHandle) -> None:
    app = _app(fake, trusting=False)
    low = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 0, 0)
    async with app.run_test(size=(120, 40)) as pilot:
        # 512 MiB in all, under its 628 MiB floor: plugging more is always welcome.
        await emit(app, pilot, host(_guest(low, actual=512 * MIB)))
        await pilot.press("v", "plus")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmFloorScreen)
    assert _device_requests(fake) == [("virtiomem0", 64 * MIB, WriteSource.KEY)]


async def test_undo_is_per_guest_and_device(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v", "minus")  # device 448 → 384
        await pilot.press("v", "minus")  # balloon 960 → 896
        await pilot.press("v", "u")  # the device's undo: back to 448
        await pilot.pause()
        await pilot.press("u")  # nothing more to undo for the device
        await pilot.pause()
        assert "nothing to undo for virtiomem0 of vm" in _notes(app)
        await pilot.press("v", "u")  # the balloon's own undo
        await pilot.pause()
    assert _device_requests(fake) == [
        ("virtiomem0", 384 * MIB, WriteSource.KEY),
        (None, 896 * MIB, WriteSource.KEY),
        ("virtiomem0", 448 * MIB, WriteSource.UNDO),
        (None, 960 * MIB, WriteSource.UNDO),
    ]


async def test_read_only_refuses_device_writes() -> None:
    fake = FakeFleetHandle(readonly=True)
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v")
        await pilot.pause()
        assert app.panel.slider.device == "virtiomem0" and app.panel.slider.disabled
        await pilot.press("minus", "underscore", "u")
        await pilot.pause()
        assert "read-only" in _notes(app)
    assert _device_requests(fake) == []


async def test_several_devices_ask_which_one(fake: FakeFleetHandle) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0, DEV1)))
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, DeviceChoiceScreen), what="the chooser")
        await pilot.press("down", "down", "enter")  # balloon, virtiomem0, virtiomem1
        await pilot.pause()
        assert app.panel.slider.device == "virtiomem1"
        assert app.panel.slider.value == 64 * MIB
        await pilot.press("plus")
        await pilot.pause()
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, DeviceChoiceScreen), what="the chooser")
        await pilot.press("escape")  # cancelled: stays on virtiomem1
        await pilot.pause()
        assert app.panel.slider.device == "virtiomem1"
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, DeviceChoiceScreen), what="the chooser")
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.panel.slider.device is None
    assert _device_requests(fake) == [("virtiomem1", 128 * MIB, WriteSource.KEY)]


async def test_a_device_that_vanishes_puts_the_slider_back_on_the_balloon(
    fake: FakeFleetHandle,
) -> None:
    app = _app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0)))
        await pilot.press("v")
        await pilot.pause()
        assert app.panel.slider.device == "virtiomem0"
        await emit(app, pilot, host(_guest(), taken_at=NOW + 1))
        assert app.panel.slider.device is None
        await pilot.press("minus")
        await pilot.pause()
    assert _device_requests(fake) == [(None, 896 * MIB, WriteSource.KEY)]


async def test_pending_failed_and_stalled_are_said_in_the_panel(fake: FakeFleetHandle) -> None:
    now = [NOW]
    app = create_app(fake.factory, log_clock=False, clock=lambda: now[0], floor=TRUSTING)
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(_guest(DEV0), taken_at=NOW))
        await pilot.press("v", "minus")
        await pilot.pause()
        assert fake.fleet is not None
        request = fake.fleet.requests[-1]
        app.main._thread_write(WriteResult(request, False, "device busy", 55))
        await pilot.pause()
        progress = plain(app.query_one("#panel-progress"))
        assert "virtiomem0 not set: device busy" in progress
        assert "vm: virtiomem0 requested not set" in _notes(app)
        # Someone asked for 64 MiB; the guest gives back blocks, then stops.
        asked = MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 64 * MIB, 300 * MIB)
        await emit(app, pilot, host(_guest(asked, actual=812 * MIB), taken_at=NOW + 1))
        assert "unplugging: 236 MiB to go" in plain(app.query_one("#panel-progress"))
        now[0] = NOW + 30
        await emit(app, pilot, host(_guest(asked, actual=812 * MIB), taken_at=NOW + 30))
        progress = plain(app.query_one("#panel-progress"))
        assert "stalled: 236 MiB short" in progress and "giving the blocks back" in progress
        assert app.main.devices.view(app.rows[request.key]).progress.state is (Convergence.STALLED)


class AuditingFleet(FakeFleet):
    """The real device writer and audit behind the UI, against a fake virDomain."""

    audit: AuditLog
    dom: FakeDomain

    def request_target(self, request: TargetRequest) -> None:
        super().request_target(request)
        session = HostSession(request.host_uri, audit=self.audit)
        self.on_write(write_device(session, FakeConnection(self.dom), request))  # type: ignore[arg-type]


async def test_a_key_write_reaches_libvirt_audited_with_the_device(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    domain = FakeDomain()
    fleets: list[AuditingFleet] = []

    def factory(on_snapshot, on_write) -> AuditingFleet:
        fleet = AuditingFleet(on_snapshot, on_write)
        fleet.audit, fleet.dom = AuditLog(path), domain
        fleets.append(fleet)
        return fleet

    app = create_app(factory, log_clock=False, clock=lambda: NOW, floor=TRUSTING)
    guest = _guest(
        MemoryDevice("virtiomem0", 0, 2 * MIB, 512 * MIB, 64 * MIB, 64 * MIB),
        MemoryDevice("virtiomem1", 1, 2 * MIB, 512 * MIB, 64 * MIB, 64 * MIB),
    )
    guest = dataclasses.replace(guest, uuid=UUID)  # the fake virDomain's
    async with app.run_test(size=(120, 40)) as pilot:
        await emit(app, pilot, host(guest))
        await pilot.press("v")
        await until(lambda: isinstance(app.screen, DeviceChoiceScreen), what="the chooser")
        await pilot.press("down", "down", "enter", "plus")
        await until(lambda: "vm: virtiomem1 requested 128" in _log(app), what="the result")
    [(xml, flags)] = domain.calls
    assert flags == 1 and '<alias name="virtiomem1" />' in xml.replace("'", '"')
    attempt, result = (json.loads(line) for line in path.read_text().splitlines())
    for line in (attempt, result):
        assert (line["device"], line["alias"], line["source"]) == (
            "virtio-mem",
            "virtiomem1",
            "key",
        )
        assert (line["previous_kib"], line["target_kib"]) == (64 * MIB, 128 * MIB)
    assert result["ok"] is True


def _log(app) -> str:
    return "\n".join(app.log_panel.lines_written)
