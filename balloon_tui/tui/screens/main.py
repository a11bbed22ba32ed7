"""MainScreen: the live fleet table, the memory panel and every key that acts on a guest.

It owns what the main view knows: the Fleet, the snapshots (`FleetView`), the selection and
the apply mode (reactives: their watchers redraw the panel and the status bar). Three
helpers, each with one job and its own state, are handed this screen:

- `WriteGuard` (tui/guards.py): the only way to `Fleet.request_target`, and the undo history;
- `GuestWatch` (tui/watch.py): guests that vanish, stop or are renamed; arming guest stats;
- `CredentialBroker` (tui/credentials.py): libvirt's log-in questions in a dialog.

Data: Fleet poller threads -> `Inbox` -> one `SnapshotsReady` message -> applied in a batch.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Input

from balloon_tui.core.model import DomainKey, HostSnapshot
from balloon_tui.core.regulator_settings import DEFAULT_OPTIONS, RegulatorOptions
from balloon_tui.core.safety import SafetyPolicy
from balloon_tui.core.statsperiod import DEFAULT_STATS_PERIOD
from balloon_tui.core.writes import ApplyMode, WriteResult
from balloon_tui.tui import knobsedit, policyedit
from balloon_tui.tui.credentials import CredentialBroker
from balloon_tui.tui.devicewrites import DeviceWrites
from balloon_tui.tui.fleetlink import FleetFactory, FleetLike, Inbox
from balloon_tui.tui.guards import WriteGuard
from balloon_tui.tui.history import History
from balloon_tui.tui.keys import PRIORITY_ACTIONS, SCREEN_KEYS
from balloon_tui.tui.messages import (
    KnobsRead,
    KnobsStored,
    PolicyStored,
    SnapshotsReady,
    StatsArmed,
    WriteDone,
)
from balloon_tui.tui.pending import PendingWrites
from balloon_tui.tui.regulation import Regulation
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens import viewactions
from balloon_tui.tui.state import FleetView
from balloon_tui.tui.watch import GuestWatch
from balloon_tui.tui.widgets.filterbox import FilterInput
from balloon_tui.tui.widgets.logpanel import LogPanel
from balloon_tui.tui.widgets.panel import MemoryPanel, PanelView
from balloon_tui.tui.widgets.slider import BalloonSlider
from balloon_tui.tui.widgets.statusbar import StatusBar
from balloon_tui.tui.widgets.table import DomainTable


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [key.binding() for key in SCREEN_KEYS]

    # The guest under the table's cursor (None: none, or it vanished). Set on every
    # `DomainTable.Selected`, changed or not: the panel is redrawn from the newest rows.
    selected: var[DomainKey | None] = var(None, always_update=True, init=False)
    mode: var[ApplyMode] = var(ApplyMode.LIVE, init=False)

    def __init__(
        self,
        fleet_factory: FleetFactory,
        *,
        show_host: bool,
        policy: SafetyPolicy,
        arm_stats: int | None,
        history_window: float,
        log_clock: bool,
        clock: Callable[[], float],
        regulator: RegulatorOptions = DEFAULT_OPTIONS,
    ) -> None:
        super().__init__()
        self._fleet_factory = fleet_factory
        self.fleet: FleetLike | None = None
        self.show_host = show_host
        self.policy = policy  # the safety floor: shown on the slider, checked on every write
        self.stats_period = arm_stats or DEFAULT_STATS_PERIOD  # what `a` sets
        self.history_window = history_window
        self.log_clock = log_clock
        self.clock = clock
        self.regulator_options = regulator  # --budget, --autopilot, --autopilot-interval
        self.view = FleetView(history_window, clock)
        self.lost_name: str | None = None  # the selected guest vanished: the panel says so
        self.ready = asyncio.Event()  # every host reported once: tests and snapshots wait
        self._inbox = Inbox()
        self.writes = WriteGuard(self)
        self.devices = DeviceWrites(self)  # `v`: the slider on a virtio-mem device
        # --arm-stats: set this stats period on running guests that have none, once each.
        self.guests = GuestWatch(self, auto_arm_period=arm_stats)
        self.credentials = CredentialBroker(self)
        self.regulation = Regulation(self, regulator)

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield FilterInput(
            placeholder="filter by name · enter: back to the table · esc: clear", id="filter"
        )
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield DomainTable(show_host=self.show_host, id="domains")
                yield LogPanel(id="log", clock=self.log_clock)
            yield MemoryPanel(self.history_window, id="panel")
        yield Footer(compact=True)

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    @property
    def panel(self) -> MemoryPanel:
        return self.query_one(MemoryPanel)

    @property
    def log_panel(self) -> LogPanel:
        return self.query_one(LogPanel)

    @property
    def rows(self) -> dict[DomainKey, RowView]:
        return self.view.rows

    @property
    def hosts(self) -> dict[str, HostSnapshot]:
        return self.view.hosts

    @property
    def pending(self) -> PendingWrites:
        return self.view.pending

    @property
    def history(self) -> History:
        return self.view.history

    @property
    def readonly(self) -> bool:
        return self.fleet is None or self.fleet.readonly

    def on_mount(self) -> None:
        fleet = self.fleet = self._fleet_factory(self._thread_snapshot, self._thread_write)
        self.query_one(StatusBar).show_mode(self.mode, fleet.readonly)
        self.panel.show(None)
        self.table.focus()
        if fleet.readonly:
            self.log_panel.add("read-only: balloon-tui shows the balloons and writes nothing")
        fleet.use_prompt(self.credentials.ask)  # URIs that need credentials ask in a dialog
        if self.regulator_options.autopilot and not fleet.readonly:
            for uri in fleet.uris:
                self.regulation.switch_on(uri)
        # The status line counts down to the autopilot's next round.
        self.set_interval(1.0, self._count_down)
        fleet.start()

    async def close(self) -> None:
        """The app ends: no poller thread waits on a dialog any more; the fleet stops."""
        self.credentials.close()
        if self.fleet is not None:
            await asyncio.to_thread(self.fleet.stop)

    # -- from the Fleet's threads ------------------------------------------------------------
    def _thread_snapshot(self, host: HostSnapshot) -> None:
        if self._inbox.put(host):
            self.post_from_thread(SnapshotsReady())

    def _thread_write(self, result: WriteResult) -> None:
        self.post_from_thread(WriteDone(result))

    def post_from_thread(self, message: Message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:
            pass  # the event loop is closing: nobody is left to show it

    # -- applying snapshots -----------------------------------------------------------------
    def closing_down(self) -> bool:
        """Messages from the Fleet's threads can still arrive while the app shuts down."""
        return not self.query(DomainTable)

    def on_snapshots_ready(self, _message: SnapshotsReady) -> None:
        hosts = self._inbox.take()
        if not hosts or self.closing_down():
            return
        try:
            with self.app.batch_update():
                for host in hosts:
                    self.guests.check_selected(host)
                    self.devices.observe(host)
                    for event in self.view.apply(host):
                        self.log_panel.add(event.message, event.severity)
                        if event.notify:
                            self.notify(event.message, title=event.title, severity=event.severity)
                self.refresh_views()
                # After the rows: a proposal applied now is checked against what is shown.
                if self.regulation.after_snapshots(hosts):
                    self.refresh_views()
            self.guests.after_snapshots(hosts)
        except Exception:  # a surprise in one tick must not end the session
            self.log_panel.add("internal error applying a snapshot:", "error")
            for line in traceback.format_exc().splitlines():
                self.log_panel.add(line, "error")
        if self.fleet is not None and self.view.reported() >= len(self.fleet.uris):
            self.ready.set()

    def on_screen_resume(self) -> None:
        """Back from a dialog: the keys go to the table again if the widget that had the
        focus is gone or hidden (the filter line is hidden unless in use, and keys typed
        into it would silently filter the table)."""
        focused = self.focused
        if focused is None or (
            isinstance(focused, FilterInput) and not focused.has_class("-active")
        ):
            self.table.focus()

    def on_write_done(self, message: WriteDone) -> None:
        if not self.closing_down():
            self.writes.done(message.result)

    def on_stats_armed(self, message: StatsArmed) -> None:
        if not self.closing_down():
            self.guests.stats_armed(message.result)

    def on_policy_stored(self, message: PolicyStored) -> None:
        if not self.closing_down():
            policyedit.stored(self, message.result, message.words)

    def on_knobs_read(self, message: KnobsRead) -> None:
        if not self.closing_down():
            knobsedit.opened(self, message.look, message.seen)

    def on_knobs_stored(self, message: KnobsStored) -> None:
        if not self.closing_down():
            knobsedit.stored(self, message.result)

    def refresh_views(self) -> None:
        self.table.show(self.view.build_rows(self.regulation.proposals))
        self.query_one(StatusBar).show_hosts(list(self.view.hosts.values()))
        self._show_regulation()
        self.show_panel()

    def _count_down(self) -> None:
        if self.regulation.autopilot:  # idle otherwise: nothing on the line moves
            self._show_regulation()

    def _show_regulation(self) -> None:
        if not self.closing_down():
            self.query_one(StatusBar).show_regulation(
                self.regulation.status(), self.selected[0] if self.selected else None
            )

    def show_panel(self) -> None:
        row = self.rows.get(self.selected) if self.selected else None
        if row is None:
            self.panel.show(None, self.guests.lost_text())
            return
        host = self.hosts.get(row.domain.host_uri)
        self.panel.show(
            PanelView(
                row=row,
                host=host,
                floor_kib=self.floor(row),
                samples=self.history.samples(row.domain.key),
                now=host.taken_at if host and host.taken_at else self.clock(),
                readonly=self.readonly,
                mode=self.mode,
                device=self.devices.view(row),
            )
        )

    def floor(self, row: RowView) -> int | None:
        return self.policy.floor_kib(row.domain, self.clock())

    # -- selection and mode: reactives, drawn by their watchers -------------------------------
    def watch_selected(self, key: DomainKey | None) -> None:
        if key is not None:
            self.lost_name = None
        self._show_regulation()  # the status line speaks of the selected guest's host
        self.show_panel()

    def watch_mode(self, mode: ApplyMode) -> None:
        self.query_one(StatusBar).show_mode(mode, self.readonly)
        self.show_panel()

    @on(DomainTable.Selected)
    def _selected(self, event: DomainTable.Selected) -> None:
        self.selected = event.key

    @on(DomainTable.Chosen)
    def _chosen(self, _event: DomainTable.Chosen) -> None:
        self.action_focus_slider()

    def sync_selection(self) -> DomainKey | None:
        """The guest under the table's cursor now. Its `Selected` message may still be on
        its way: a key typed right after a cursor move (`down` `=`) is for the new guest."""
        key = self.table.selected
        if key != self.selected:
            self.selected = key
        return key

    def not_written(self, message: str, log_line: str) -> None:
        """A write refused before it left: a warning toast, and the reason in the log."""
        self.notify(message, title="not written", severity="warning")
        self.log_panel.add(log_line, "warning")

    def selected_row(self) -> RowView | None:
        """The selected guest's row; None after saying that none is selected."""
        self.sync_selection()
        row = self.rows.get(self.selected) if self.selected else None
        if row is None:
            gone = f"{self.lost_name} is gone: " if self.lost_name else ""
            self.notify(f"{gone}select a guest first", severity="warning")
        return row

    @on(BalloonSlider.Committed)
    def _slider_committed(self, event: BalloonSlider.Committed) -> None:
        self.writes.slider_committed(
            event.subject, event.value, released=event.released, device=event.device
        )

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `/` and `t` are priority bindings (see keys.py): not while typing or in a dialog.
        if action not in PRIORITY_ACTIONS:
            return True
        return not isinstance(self.focused, Input) and self.is_active

    def action_step_target(self, delta_kib: int) -> None:
        self.writes.step(delta_kib)

    def action_target_floor(self) -> None:
        self.writes.to_floor()

    def action_target_maximum(self) -> None:
        self.writes.to_maximum()

    async def action_enter_target(self) -> None:
        await self.writes.enter()

    def action_undo_target(self) -> None:
        self.writes.undo()

    def action_switch_device(self) -> None:
        self.devices.switch()

    def action_apply_proposal(self) -> None:
        self.regulation.accept_selected()

    def action_apply_host_proposals(self) -> None:
        self.regulation.accept_host()

    def action_toggle_autopilot(self) -> None:
        self.regulation.toggle_autopilot()

    async def action_edit_policy(self) -> None:
        await policyedit.edit(self)

    def action_edit_balloon(self) -> None:
        knobsedit.edit(self)

    def action_arm_stats(self) -> None:
        self.guests.arm_selected()

    def action_focus_slider(self) -> None:
        self.panel.slider.focus()

    def action_toggle_mode(self) -> None:
        self.mode = self.mode.next()
        self.log_panel.add(f"apply mode: {self.mode.label}")

    # View keys: what is shown, never a guest (tui/screens/viewactions.py).
    action_cycle_sort = viewactions.cycle_sort
    action_sort = viewactions.sort
    action_reverse_sort = viewactions.reverse_sort
    action_toggle_log = viewactions.toggle_log
    action_refresh_now = viewactions.refresh_now
    action_hosts = viewactions.hosts
    action_help = viewactions.show_help
    action_filter = viewactions.open_filter

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter_text = event.value
        self.table.redisplay()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.set_class(bool(event.value), "-active")
        self.table.focus()
        self.table.select_first()

    @on(FilterInput.Cleared)
    def _filter_cleared(self) -> None:
        self.query_one(FilterInput).remove_class("-active")
        self.table.filter_text = ""
        self.table.redisplay()
        self.table.focus()
