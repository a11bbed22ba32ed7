"""WriteGuard: every way to set a target ends in `submit_target`, the only caller of
`Fleet.request_target`; it owns the undo history.

Intent: keys, slider, typed entry -> `submit_target` (read-only, drag, intent bound to a guest,
safety floor) -> Fleet writer thread -> `WriteDone` -> `done`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from balloon_tui.core.model import DomainKey, DomainSnapshot
from balloon_tui.core.safety import Assessment
from balloon_tui.core.sizes import MINIMUM_KIB, format_compact
from balloon_tui.core.undo import UndoHistory
from balloon_tui.core.vmem import find_device
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult, WriteSource
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen
from balloon_tui.tui.widgets.slider import DRAG_HOLDS

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen


def current_target(row: RowView) -> int:
    return row.target_kib if row.target_kib is not None else row.domain.actual_kib


def clamped(domain: DomainSnapshot, target_kib: int) -> int:
    """Within [the smallest target, what the balloon can give]: with virtio-mem devices
    that is boot memory + plugged, less than libvirt's maximum (docs/virtio-mem.md)."""
    ceiling = domain.balloon_ceiling_kib
    return max(min(MINIMUM_KIB, ceiling), min(int(target_kib), ceiling))


class WriteGuard:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.undo_history = UndoHistory()  # per guest: the targets before ours, for `u`
        self._batched = 0  # inside `batch()`: the views are drawn once, at its end

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes at once (`Y`, an autopilot round): one redraw, not one per write."""
        self._batched += 1
        try:
            yield
        finally:
            self._batched -= 1
            if not self._batched:
                self.screen.refresh_views()

    # -- the one way to libvirt ---------------------------------------------------------------
    def submit_target(
        self,
        key: DomainKey | None,
        target_kib: int,
        source: WriteSource,
        *,
        detail: str | None = None,
        reason: str | None = None,
        seen: DomainSnapshot | None = None,
        release: bool = False,
        ask_below_floor: bool = True,
        mode: ApplyMode | None = None,
        device: str | None = None,
    ) -> bool:
        """Ask the Fleet to set a target. The only caller of `Fleet.request_target`.

        Every way to set a target ends here, so no path skips its checks: read-only, no
        drag in progress (but its `release`), the intent (`key`: the guest the operator
        acted on; `seen`: that guest as it was then, when the write comes later) and the
        safety floor. Below the floor (or with no floor known) a shrink waits for the
        operator's confirmation in a dialog. True when the request went out now.

        `source` (and the regulator's `reason`) go to the audit; `detail` ("key +64M") says
        more in the log panel, which shows the source when there is none.

        The regulator's bulk writes (`Y`, the autopilot) pass `ask_below_floor=False`: a
        target that now meets the floor is skipped and logged, never put to a dialog per
        guest. `mode` overrides the apply mode (the autopilot writes live only: its targets
        follow the guests' use and are not meant for their next boot).

        `device`: a virtio-mem device's alias; `target_kib` is then its requested size
        (rounded to its blocks, within [0, size]) and the floor is checked on the guest's
        total after it (`tui/devicewrites.py`).
        """
        screen = self.screen
        label = detail or source.value
        fleet = screen.fleet
        if fleet is None or fleet.readonly:
            screen.not_written(
                "read-only: balloon-tui does not change targets here",
                f"refused ({label}): the connection is read-only",
            )
            return False
        if not release and self.drag_holds():
            return False
        row = self.intended_row(key, seen, label)
        if row is None:
            return False
        domain = row.domain
        if device is None:
            target = clamped(domain, target_kib)
            current = current_target(row)
            total, total_now = target, current
        else:
            plan = screen.devices.plan(row, device, target_kib, label)
            if plan is None:
                return False
            target, current = plan.requested_kib, plan.current_kib
            total, total_now = plan.total_kib, plan.total_now_kib
        request = TargetRequest(
            domain.host_uri,
            domain.uuid,
            domain.name,
            target,
            (mode or screen.mode).for_state(domain.state),
            previous_kib=row.target_kib if device is None else current,
            source=source,
            reason=reason,
            device=device,
        )
        assessment = screen.policy.assess(domain, total, screen.clock(), total_now)
        if assessment.needs_confirmation:
            if not ask_below_floor:
                screen.log_panel.add(
                    f"{domain.name}: {format_compact(target)} skipped ({label}): "
                    f"{assessment.reason}",
                    "warning",
                )
                return False
            self.confirm(request, row, current, assessment, label, (total_now, total))
            return False
        self._send(request, current, label)
        return True

    def _send(self, request: TargetRequest, current: int, label: str) -> None:
        screen = self.screen
        fleet = screen.fleet
        assert fleet is not None
        undo = request.source is WriteSource.UNDO
        self.undo_history.sent(
            request.key, current, request.target_kib, undo=undo, device=request.device
        )
        screen.regulation.set_by_hand(request.key, request.source)
        screen.pending.sent(request)
        fleet.request_target(request)
        forced = ", below the safety floor: confirmed" if request.forced else ""
        screen.log_panel.add(
            f"{request.name}: {request.what} {format_compact(request.target_kib)} "
            f"requested ({label}, {request.mode.label}{forced})"
        )
        if not self._batched:
            screen.refresh_views()

    def confirm(
        self,
        request: TargetRequest,
        row: RowView,
        current: int,
        assessment: Assessment,
        label: str,
        totals: tuple[int, int] | None = None,
    ) -> None:
        """Ask before going below the safety floor; the slider shows the current target.
        "Set anyway" sends `request` itself, forced: its source and reason stay the same.
        `totals`: what the guest has and will have (a device's request is not its total)."""
        screen = self.screen
        screen.show_panel()  # the handle goes back to the target in force while we ask
        if any(isinstance(s, ConfirmFloorScreen) for s in screen.app.screen_stack):
            screen.notify("answer the open question first", severity="warning")
            return
        name, size = request.name, format_compact(request.target_kib)
        screen.log_panel.add(
            f"{name}: {size} asks for confirmation ({label}): {assessment.reason}", "warning"
        )

        def answer(confirmed: bool | None) -> None:
            if screen.closing_down():
                return
            if not confirmed:
                screen.log_panel.add(
                    f"{name}: {size} cancelled; the target stays {format_compact(current)}"
                )
            elif screen.readonly:  # read-only never asks; defence in depth
                screen.log_panel.add(f"refused ({label}): the connection is read-only", "warning")
            elif (now := self.intended_row(request.key, row.domain, label)) is not None:
                self._send(replace(request, forced=True), self._in_force(now, request), label)
                return
            screen.show_panel()

        before, after = totals or (current, request.target_kib)
        screen.app.push_screen(
            ConfirmFloorScreen(row.domain, after, before, assessment, label), answer
        )

    def _in_force(self, row: RowView, request: TargetRequest) -> int:
        """The target (or the device's request) in force now, for the undo history."""
        if request.device is None:
            return current_target(row)
        device = find_device(row.domain, request.device)
        if device is None:  # gone while the dialog was open: the writer refuses it (no device)
            return request.previous_kib or 0
        return self.screen.devices.requested(row, device)

    def done(self, result: WriteResult) -> None:
        """The Fleet's writer thread answered (`WriteDone`)."""
        screen = self.screen
        screen.pending.result(result)
        screen.regulation.write_settled(result.request.key)
        if result.ok:
            screen.log_panel.add(result.summary)
        else:
            screen.log_panel.add(result.summary, "error")
            screen.notify(
                result.message,
                title=f"{result.request.name}: {result.request.what} not set",
                severity="error",
                timeout=8,
            )
        screen.refresh_views()

    # -- intent: a write is for the guest the operator acted on, as it was then -----------------
    def drag_holds(self) -> bool:
        """A drag in progress decides the target: keys do not write until it is let go."""
        if self.screen.panel.slider.dragging:
            self.screen.notify(DRAG_HOLDS, severity="warning")
            return True
        return False

    def write_row(self) -> RowView | None:
        """The selected guest's row for a key that writes, unless a drag holds the slider."""
        return None if self.drag_holds() else self.screen.selected_row()

    def intended_row(
        self, key: DomainKey | None, seen: DomainSnapshot | None, label: str, what: str = "target"
    ) -> RowView | None:
        """The row of the guest the operator acted on, if a write to it still means what
        the operator meant; else None, after saying why nothing is written (`what`: the
        thing not set, "target" or "policy")."""
        screen = self.screen
        if key is None:
            screen.notify("select a guest first", severity="warning")
            return None
        row = screen.rows.get(key)
        if row is None:
            name = seen.name if seen is not None else screen.guests.gone_name(key)
            self.not_written(name, f"{name} is gone (undefined or migrated)", label, what)
            return None
        if row.offline:
            screen.guests.offline(row.domain, label)
            return None
        now = row.domain
        if seen is not None and now.name != seen.name:
            self.not_written(seen.name, f"{seen.name} is now called {now.name}", label, what)
            return None
        if seen is not None and now.state.is_active != seen.state.is_active:
            self.not_written(now.name, f"{now.name} is now {now.state.word}", label, what)
            return None
        return row

    def not_written(self, name: str, problem: str, label: str, what: str = "target") -> None:
        message = f"{problem}: nothing was written"
        self.screen.log_panel.add(f"refused ({label}): {message}", "warning")
        self.screen.notify(message, title=f"{name}: {what} not set", severity="warning")

    def _already(self, row: RowView, target_kib: int, where: str) -> bool:
        """A key that would not move the target sends nothing (and says so)."""
        if clamped(row.domain, target_kib) != current_target(row):
            return False
        self.screen.notify(f"{row.domain.name}: already at the {where}: nothing to send")
        return True

    # -- the ways to set a target -----------------------------------------------------------
    def slider_committed(
        self, key: DomainKey | None, value: int, *, released: bool, device: str | None = None
    ) -> None:
        # The guest the slider showed when the operator acted; never "whatever is selected".
        rows = self.screen.rows
        if key is not None and key != self.screen.sync_selection():
            self.not_written(
                rows[key].domain.name if key in rows else "the guest",
                "another guest was chosen in the table meanwhile",
                "slider",
            )
            return
        if key is not None and key in rows and device != self.screen.devices.active.get(key):
            self.not_written(
                rows[key].domain.name, "the slider was switched (v) meanwhile", "slider"
            )
            return
        self.submit_target(key, value, WriteSource.SLIDER, release=released, device=device)

    def step(self, delta_kib: int) -> None:
        row = self.write_row()
        if row is not None and (device := self.screen.devices.device_of(row)) is not None:
            self.screen.devices.step(row, device, delta_kib)
        elif row is not None:
            target = current_target(row) + delta_kib
            if self._already(row, target, "maximum" if delta_kib > 0 else "minimum"):
                return
            self.submit_target(
                row.domain.key,
                target,
                WriteSource.KEY,
                detail=f"key {'+' if delta_kib > 0 else '−'}{format_compact(abs(delta_kib))}",
            )

    def to_floor(self) -> None:
        row = self.write_row()
        if row is None:
            return
        if (device := self.screen.devices.device_of(row)) is not None:
            self.screen.devices.to_floor(row, device)
            return
        floor = self.screen.floor(row)
        if floor is None:
            self.screen.notify(
                "no safety floor known (no guest stats): type a target with t", severity="warning"
            )
            return
        if not self._already(row, floor, "safety floor"):
            self.submit_target(row.domain.key, floor, WriteSource.FLOOR)

    def to_maximum(self) -> None:
        row = self.write_row()
        if row is not None and (device := self.screen.devices.device_of(row)) is not None:
            self.screen.devices.to_maximum(row, device)
        elif row is not None:
            ceiling = row.domain.balloon_ceiling_kib
            if not self._already(row, ceiling, "maximum"):
                self.submit_target(row.domain.key, ceiling, WriteSource.MAXIMUM)

    async def enter(self) -> None:
        row = self.write_row()
        if row is None:
            return
        if self.screen.readonly:
            self.submit_target(row.domain.key, 0, WriteSource.TYPED)  # refuses and says why
            return
        if (device := self.screen.devices.device_of(row)) is not None:
            await self.screen.devices.enter(row, device)
            return
        key, seen = row.domain.key, row.domain

        def apply(kib: int | None) -> None:
            if kib is not None:  # for the guest the dialog was opened on, as it was then
                self.submit_target(key, kib, WriteSource.TYPED, seen=seen)

        # Awaited (and `t` is a priority binding): what is typed next lands in the entry.
        await self.screen.app.push_screen(
            TargetEntryScreen(row.domain, current_target(row), self.screen.floor(row)),
            apply,
        )

    def undo(self) -> None:
        """`u`: back to the target before the last one this app set (same checks as any)."""
        row = self.write_row()
        if row is None:
            return
        if (device := self.screen.devices.device_of(row)) is not None:
            self.screen.devices.undo(row, device)
            return
        before = self.undo_history.last(row.domain.key)
        if before is None:
            self.screen.notify(
                f"nothing to undo for {row.domain.name}: no target was set from here", title="undo"
            )
            return
        self.submit_target(row.domain.key, before, WriteSource.UNDO)
