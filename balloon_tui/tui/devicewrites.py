"""`v`: the panel's slider and the target keys move a virtio-mem device instead of the balloon.

The main screen owns one `DeviceWrites`: which device each guest's slider is on (none: the
balloon), the devices' convergence over the snapshots, and the device side of every target
key. Every write still goes through `WriteGuard.submit_target(..., device=alias)`: read-only,
drag, intent, the safety floor and the undo history are the balloon's.

A device's request is whole blocks within [0, size]; an unplug lowers what the guest has by
as much, so the floor (about the guest's total) is checked on the total after the request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from balloon_tui.core.model import NO_STATS, DomainKey, HostSnapshot, MemoryDevice
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.vmem import (
    DeviceTracker,
    DeviceView,
    find_device,
    largest_request,
    plugged_kib,
    round_request,
    total_after,
)
from balloon_tui.core.writes import WriteSource
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens.devicechoice import BALLOON, DeviceChoiceScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen


@dataclass(frozen=True, slots=True)
class Plan:
    """A device request as `submit_target` checks it: the request, and the guest's totals."""

    requested_kib: int
    current_kib: int  # the request in force (ours while it travels)
    total_kib: int  # what the guest will have
    total_now_kib: int  # what it has with the request in force


class DeviceWrites:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.active: dict[DomainKey, str] = {}  # guests whose slider is on a device (alias)
        self.tracker = DeviceTracker()

    # -- state ------------------------------------------------------------------------------
    def observe(self, host: HostSnapshot) -> None:
        """Each snapshot: the devices' movement (for pending/stalled)."""
        now = host.taken_at or self.screen.clock()
        for domain in host.domains:
            if domain.memory_devices:
                self.tracker.observe(domain, now)
        present = {d.key for d in host.domains}
        self.tracker.forget_missing(host.uri, present)
        for key in [k for k in self.active if k[0] == host.uri and k not in present]:
            del self.active[key]  # gone: a guest later given its UUID starts on the balloon

    def device_of(self, row: RowView) -> MemoryDevice | None:
        """The device the guest's slider is on, if it still has it."""
        alias = self.active.get(row.domain.key)
        return None if alias is None else find_device(row.domain, alias)

    def requested(self, row: RowView, device: MemoryDevice) -> int:
        mine = self.screen.pending.device_target(row.domain.key, device.alias)
        return device.requested_kib if mine is None else mine

    def floor_request(self, row: RowView, device: MemoryDevice) -> int | None:
        """The smallest request that keeps the guest's total at its safety floor."""
        floor = self.screen.floor(row)
        if floor is None:
            return None
        need = floor - (row.domain.actual_kib - plugged_kib(device))
        block = max(1, device.block_kib)
        return max(0, min(-(-need // block) * block, largest_request(device)))

    def view(self, row: RowView) -> DeviceView | None:
        device = self.device_of(row)
        if device is None:
            return None
        key, pending = row.domain.key, self.screen.pending
        now = self.screen.clock()
        return DeviceView(
            device,
            self.requested(row, device),
            self.floor_request(row, device),
            pending.device_writing(key, device.alias),
            pending.device_failed(key, device.alias),
            self.tracker.progress(row.domain, device, now),
        )

    def plan(self, row: RowView, alias: str, target_kib: int, label: str) -> Plan | None:
        """For `submit_target`: the request rounded and bounded, or None after saying why."""
        device = find_device(row.domain, alias)
        if device is None:
            self.screen.writes.not_written(
                row.domain.name, f"{row.domain.name} has no virtio-mem device {alias}", label
            )
            return None
        requested = round_request(device, target_kib)
        current = self.requested(row, device)
        domain = row.domain
        return Plan(
            requested,
            current,
            total_after(domain, device, requested),
            total_after(domain, device, current),
        )

    # -- `v` ----------------------------------------------------------------------------------
    def switch(self) -> None:
        row = self.screen.writes.write_row()
        if row is None:
            return
        domain = row.domain
        devices = domain.memory_devices
        if not devices:
            self.screen.notify(
                f"{domain.name} has no virtio-mem device: the slider moves the balloon",
                title="v",
            )
            return
        if len(devices) == 1:
            self._use(row, BALLOON if domain.key in self.active else devices[0].alias)
            return
        key = domain.key

        def chosen(alias: str | None) -> None:
            now = self.screen.rows.get(key)
            if alias is not None and now is not None and not self.screen.closing_down():
                self._use(now, alias)

        self.screen.app.push_screen(DeviceChoiceScreen(domain, self.active.get(key)), chosen)

    def _use(self, row: RowView, alias: str) -> None:
        key, name = row.domain.key, row.domain.name
        if alias == BALLOON:
            self.active.pop(key, None)
            self.screen.log_panel.add(f"{name}: the slider moves the balloon")
        else:
            self.active[key] = alias
            self.screen.log_panel.add(f"{name}: the slider moves virtio-mem {alias}")
        self.screen.panel.slider.cancel_drag()
        self.screen.show_panel()

    # -- the target keys, for a device ------------------------------------------------------
    def _already(self, row: RowView, device: MemoryDevice, kib: int, where: str) -> bool:
        if round_request(device, kib) != self.requested(row, device):
            return False
        self.screen.notify(f"{row.domain.name}: {device.alias} already at the {where}")
        return True

    def step(self, row: RowView, device: MemoryDevice, delta_kib: int) -> None:
        # At least one block: a step smaller than a block would round back to where it was.
        block = max(1, device.block_kib)
        delta = delta_kib if abs(delta_kib) >= block else (block if delta_kib > 0 else -block)
        target = self.requested(row, device) + delta
        if self._already(row, device, target, "size" if delta > 0 else "zero"):
            return
        sign = "+" if delta > 0 else "−"
        self._submit(
            row, device, target, WriteSource.KEY, f"key {sign}{format_compact(abs(delta))}"
        )

    def to_floor(self, row: RowView, device: MemoryDevice) -> None:
        floor = self.floor_request(row, device)
        if floor is None:
            self.screen.notify(
                "no safety floor known (no guest stats): type a request with t",
                severity="warning",
            )
        elif not self._already(row, device, floor, "safety floor"):
            self._submit(row, device, floor, WriteSource.FLOOR)

    def to_maximum(self, row: RowView, device: MemoryDevice) -> None:
        if not self._already(row, device, device.size_kib, "size"):
            self._submit(row, device, device.size_kib, WriteSource.MAXIMUM)

    async def enter(self, row: RowView, device: MemoryDevice) -> None:
        key, seen, alias = row.domain.key, row.domain, device.alias

        def apply(kib: int | None) -> None:
            if kib is not None:
                self.screen.writes.submit_target(
                    key, kib, WriteSource.TYPED, seen=seen, device=alias
                )

        # The entry speaks of the device: its size is the maximum, what is plugged "actual".
        shown = replace(
            row.domain,
            name=f"{row.domain.name} · {alias}",
            maximum_kib=device.size_kib,
            actual_kib=plugged_kib(device),
            stats=NO_STATS,
        )
        await self.screen.app.push_screen(
            TargetEntryScreen(
                shown, self.requested(row, device), self.floor_request(row, device), smallest=0
            ),
            apply,
        )

    def undo(self, row: RowView, device: MemoryDevice) -> None:
        before = self.screen.writes.undo_history.last(row.domain.key, device.alias)
        if before is None:
            self.screen.notify(
                f"nothing to undo for {device.alias} of {row.domain.name}: "
                "no request was set from here",
                title="undo",
            )
            return
        self._submit(row, device, before, WriteSource.UNDO)

    def slider_committed(self, row: RowView, alias: str, value: int, *, released: bool) -> None:
        self.screen.writes.submit_target(
            row.domain.key, value, WriteSource.SLIDER, release=released, device=alias
        )

    def _submit(
        self,
        row: RowView,
        device: MemoryDevice,
        target_kib: int,
        source: WriteSource,
        detail: str | None = None,
    ) -> None:
        self.screen.writes.submit_target(
            row.domain.key,
            target_kib,
            source,
            detail=f"{device.alias}: {detail or source.value}",
            device=device.alias,
        )
