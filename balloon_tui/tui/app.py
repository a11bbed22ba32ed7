"""BalloonApp: the live fleet table, the memory panel and every way to set a target.

Data: Fleet poller threads -> `Inbox` -> one `SnapshotsReady` message -> applied in a batch.
Intent: keys, slider, typed entry -> `submit_target` (the only caller of
`Fleet.request_target`, and the read-only guard) -> Fleet writer thread -> `WriteDone`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import Footer, Input

from balloon_tui.core.display import visible
from balloon_tui.core.model import DomainSnapshot, HostSnapshot
from balloon_tui.core.safety import DEFAULT_POLICY, Assessment, SafetyPolicy
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.statsperiod import (
    DEFAULT_STATS_PERIOD,
)
from balloon_tui.core.writes import ApplyMode, TargetRequest, WriteResult
from balloon_tui.tui.commands import BalloonCommands
from balloon_tui.tui.credentials import CredentialPrompting
from balloon_tui.tui.fleetlink import FleetFactory, FleetLike, Inbox
from balloon_tui.tui.guards import GuardedActions
from balloon_tui.tui.history import WINDOW_SECONDS, History
from balloon_tui.tui.keys import APP_KEYS
from balloon_tui.tui.messages import SnapshotsReady, WriteDone
from balloon_tui.tui.pending import PendingWrites
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen
from balloon_tui.tui.state import FleetView
from balloon_tui.tui.themes import ThemedApp
from balloon_tui.tui.view_actions import ViewActions
from balloon_tui.tui.widgets.filterbox import FilterInput
from balloon_tui.tui.widgets.logpanel import LogPanel
from balloon_tui.tui.widgets.panel import MemoryPanel, PanelView
from balloon_tui.tui.widgets.slider import BalloonSlider
from balloon_tui.tui.widgets.statusbar import StatusBar
from balloon_tui.tui.widgets.table import DomainTable

DomainKey = tuple[str, str]
PRIORITY_ACTIONS = frozenset(key.action for key in APP_KEYS if key.priority)
UNDO_DEPTH = 50  # targets remembered per guest for `u`
# From this width the panel (app.tcss: at least 70 cells) stands beside the table, which
# keeps the 86 its fixed columns, a 16-cell name and a 12-cell bar need; narrower, they stack.
WIDE_FROM = 160


class BalloonApp(GuardedActions, CredentialPrompting, ViewActions, ThemedApp[None]):
    CSS_PATH = "app.tcss"
    TITLE = "balloon-tui"
    COMMANDS = App.COMMANDS | {BalloonCommands}
    BINDINGS: ClassVar[list[BindingType]] = [key.binding() for key in APP_KEYS]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (50, "-tall")]

    def __init__(
        self,
        fleet_factory: FleetFactory,
        *,
        show_host: bool = False,
        floor: SafetyPolicy = DEFAULT_POLICY,
        arm_stats: int | None = None,
        history_window: float = WINDOW_SECONDS,
        log_clock: bool = True,
        clock: Callable[[], float] = time.time,
        theme: str | None = None,
        user_config: bool = False,
    ) -> None:
        super().__init__()
        # `theme` (--theme), else the remembered choice; ~/.config only when the CLI asks.
        self.setup_themes(theme, user_config=user_config)
        self._fleet_factory = fleet_factory
        self.fleet: FleetLike | None = None
        self.show_host = show_host
        self.policy = floor  # the safety floor: shown on the slider, checked on every write
        # --arm-stats: set this stats period on running guests that have none, once each.
        self.auto_arm_period = arm_stats
        self.stats_period = arm_stats or DEFAULT_STATS_PERIOD  # what `a` sets
        self.history_window = history_window
        self.log_clock = log_clock
        self.clock = clock
        self.mode = ApplyMode.LIVE
        self.view = FleetView(history_window, clock)
        self.selected: DomainKey | None = None
        self._lost_name: str | None = None  # the selected guest vanished: the panel says so
        self._gone: dict[DomainKey, str] = {}  # names of vanished guests, for late intents
        self.ready = asyncio.Event()  # every host reported once: tests and snapshots wait
        self._inbox = Inbox()
        self._undo: dict[DomainKey, list[int]] = {}  # per guest: targets before ours, for `u`
        self._armed: set[DomainKey] = set()  # guests --arm-stats already tried
        # Credentials (see ask_credentials): one dialog at a time, across poller threads.
        self._auth_lock = threading.Lock()
        self._auth_waiting: set[concurrent.futures.Future[list[str] | None]] = set()
        self._auth_skipped: set[str] = set()
        self._auth_sent: set[str] = set()  # answered, not yet seen connected: a retry = wrong
        self._auth_user: dict[str, str] = {}
        self._closing = False

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast as plain text: messages quote names, URIs and libvirt's words, and a
        name like `[@click=app.target_maximum]` in markup is an action a click would run."""
        super().notify(visible(message), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield FilterInput(placeholder="filter by name · enter: back to the table · esc: clear",
                          id="filter")
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
        self.fleet = self._fleet_factory(self._thread_snapshot, self._thread_write)
        self.query_one(StatusBar).show_mode(self.mode, self.fleet.readonly)
        self.panel.show(None)
        self.table.focus()
        if self.fleet.readonly:
            self.log_panel.add("read-only: balloon-tui shows the balloons and writes nothing")
        use_prompt = getattr(self.fleet, "use_prompt", None)
        if use_prompt is not None:
            use_prompt(self.ask_credentials)  # URIs that need credentials ask in a dialog
        self.fleet.start()

    async def on_unmount(self) -> None:
        self._closing = True
        for future in list(self._auth_waiting):  # poller threads waiting on a dialog: give up
            if not future.done():
                future.set_result(None)
        if self.fleet is not None:
            await asyncio.to_thread(self.fleet.stop)

    # -- from the Fleet's threads ------------------------------------------------------------
    def _thread_snapshot(self, host: HostSnapshot) -> None:
        if self._inbox.put(host):
            self._post(SnapshotsReady())

    def _thread_write(self, result: WriteResult) -> None:
        self._post(WriteDone(result))

    def _post(self, message: Message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:
            pass  # the event loop is closing: nobody is left to show it

    # -- applying snapshots -----------------------------------------------------------------
    def _closing_down(self) -> bool:
        """Messages from the Fleet's threads can still arrive while the app shuts down."""
        return not self.query(DomainTable)

    def on_snapshots_ready(self, _message: SnapshotsReady) -> None:
        hosts = self._inbox.take()
        if not hosts or self._closing_down():
            return
        try:
            with self.batch_update():
                for host in hosts:
                    self._check_selected(host)
                    for event in self.view.apply(host):
                        self.log_panel.add(event.message, event.severity)
                        if event.notify:
                            self.notify(event.message, title=event.title,
                                        severity=event.severity)
                self.refresh_views()
            self._after_snapshots(hosts)
        except Exception:  # a surprise in one tick must not end the session
            self.log_panel.add("internal error applying a snapshot:", "error")
            for line in traceback.format_exc().splitlines():
                self.log_panel.add(line, "error")
        if self.fleet is not None and self.view.reported() >= len(self.fleet.uris):
            self.ready.set()

    def refresh_views(self) -> None:
        rows = self.view.build_rows()
        self.table.show(rows)
        self.query_one(StatusBar).show_hosts(list(self.view.hosts.values()))
        self._show_panel()

    def _show_panel(self) -> None:
        row = self.rows.get(self.selected) if self.selected else None
        if row is None:
            self.panel.show(None, self._lost_text())
            return
        host = self.hosts.get(row.domain.host_uri)
        self.panel.show(PanelView(
            row=row,
            host=host,
            floor_kib=self._floor(row),
            samples=self.history.samples(row.domain.key),
            now=host.taken_at if host and host.taken_at else self.clock(),
            readonly=self.readonly,
            mode=self.mode,
        ))

    @on(DomainTable.Selected)
    def _selected(self, event: DomainTable.Selected) -> None:
        self._select(event.key)

    def _select(self, key: DomainKey | None) -> None:
        self.selected = key
        if key is not None:
            self._lost_name = None
        self._show_panel()

    @on(DomainTable.Chosen)
    def _chosen(self, _event: DomainTable.Chosen) -> None:
        self.action_focus_slider()

    # -- writing: the one way to libvirt ---------------------------------------------------
    def submit_target(
        self, key: DomainKey | None, target_kib: int, source: str, *, undo: bool = False,
        seen: DomainSnapshot | None = None, release: bool = False,
    ) -> bool:
        """Ask the Fleet to set a target. The only caller of `Fleet.request_target`.

        Every way to set a target ends here, so no path skips its checks: read-only, no
        drag in progress (but its `release`), the intent (`key`: the guest the operator
        acted on; `seen`: that guest as it was then, when the write comes later) and the
        safety floor. Below the floor (or with no floor known) a shrink waits for the
        operator's confirmation in a dialog. True when the request went out now.
        """
        fleet = self.fleet
        if fleet is None or fleet.readonly:
            self.notify("read-only: balloon-tui does not change targets here",
                        title="not written", severity="warning")
            self.log_panel.add(f"refused ({source}): the connection is read-only", "warning")
            return False
        if not release and self._drag_holds():
            return False
        row = self._intended_row(key, seen, source)
        if row is None:
            return False
        domain = row.domain
        target = self._clamped(domain, target_kib)
        request = TargetRequest(domain.host_uri, domain.uuid, domain.name, target,
                                self.mode.for_state(domain.state), previous_kib=row.target_kib)
        current = self._current_target(row)
        assessment = self.policy.assess(domain, target, self.clock(), current)
        if assessment.needs_confirmation:
            self._confirm(request, row, current, assessment, source, undo)
            return False
        self._send(request, current, source, undo)
        return True

    def _send(self, request: TargetRequest, current: int, source: str, undo: bool) -> None:
        fleet = self.fleet
        assert fleet is not None
        stack = self._undo.setdefault(request.key, [])
        if undo:
            if stack:
                stack.pop()
        elif current != request.target_kib:
            stack.append(current)
            del stack[:-UNDO_DEPTH]
        self.pending.sent(request)
        fleet.request_target(request)
        forced = ", below the safety floor: confirmed" if request.forced else ""
        self.log_panel.add(f"{request.name}: target {format_compact(request.target_kib)} "
                           f"requested ({source}, {request.mode.label}{forced})")
        self.refresh_views()

    def _confirm(self, request: TargetRequest, row: RowView, current: int,
                 assessment: Assessment, source: str, undo: bool) -> None:
        """Ask before going below the safety floor; the slider shows the current target."""
        self._show_panel()  # the handle goes back to the target in force while we ask
        if any(isinstance(screen, ConfirmFloorScreen) for screen in self.screen_stack):
            self.notify("answer the open question first", severity="warning")
            return
        name, size = request.name, format_compact(request.target_kib)
        self.log_panel.add(f"{name}: {size} asks for confirmation ({source}): "
                           f"{assessment.reason}", "warning")

        def answer(confirmed: bool | None) -> None:
            if self._closing_down():
                return
            if not confirmed:
                self.log_panel.add(f"{name}: {size} cancelled; the target stays "
                                   f"{format_compact(current)}")
            elif self.readonly:  # read-only never asks; defence in depth
                self.log_panel.add(f"refused ({source}): the connection is read-only", "warning")
            elif (now := self._intended_row(request.key, row.domain, source)) is not None:
                self._send(replace(request, forced=True), self._current_target(now), source,
                           undo)
                return
            self._show_panel()

        self.push_screen(ConfirmFloorScreen(row.domain, request.target_kib, current,
                                            assessment, source), answer)

    def on_write_done(self, message: WriteDone) -> None:
        if self._closing_down():
            return
        result = message.result
        self.pending.result(result)
        if result.ok:
            self.log_panel.add(result.summary)
        else:
            self.log_panel.add(result.summary, "error")
            self.notify(result.message, title=f"{result.request.name}: target not set",
                        severity="error", timeout=8)
        self.refresh_views()

    @on(BalloonSlider.Committed)
    def _slider_committed(self, event: BalloonSlider.Committed) -> None:
        # The guest the slider showed when the operator acted; never "whatever is selected".
        key = event.subject if isinstance(event.subject, tuple) else None
        if key is not None and key != self._sync_selection():
            self._not_written(self.rows[key].domain.name if key in self.rows else "the guest",
                              "another guest was chosen in the table meanwhile", "slider")
            return
        self.submit_target(key, event.value, "slider", release=event.released)

    # -- actions --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `/` and `t` are priority bindings (see keys.py): not while typing or in a dialog.
        if action not in PRIORITY_ACTIONS:
            return True
        return not isinstance(self.focused, Input) and not isinstance(self.screen, ModalScreen)

    def _selected_row(self) -> RowView | None:
        self._sync_selection()
        row = self.rows.get(self.selected) if self.selected else None
        if row is None:
            gone = f"{self._lost_name} is gone: " if self._lost_name else ""
            self.notify(f"{gone}select a guest first", severity="warning")
        return row

    def _floor(self, row: RowView) -> int | None:
        return self.policy.floor_kib(row.domain, self.clock())

    def _current_target(self, row: RowView) -> int:
        return row.target_kib if row.target_kib is not None else row.domain.actual_kib

    def action_step_target(self, delta_kib: int) -> None:
        row = self._write_row()
        if row is not None:
            target = self._current_target(row) + delta_kib
            if self._already(row, target, "maximum" if delta_kib > 0 else "minimum"):
                return
            self.submit_target(row.domain.key, target,
                               f"key {'+' if delta_kib > 0 else '−'}"
                               f"{format_compact(abs(delta_kib))}")

    def action_target_floor(self) -> None:
        row = self._write_row()
        if row is None:
            return
        floor = self._floor(row)
        if floor is None:
            self.notify("no safety floor known (no guest stats): type a target with t",
                        severity="warning")
            return
        if not self._already(row, floor, "safety floor"):
            self.submit_target(row.domain.key, floor, "floor")

    def action_target_maximum(self) -> None:
        row = self._write_row()
        if row is not None and not self._already(row, row.domain.maximum_kib, "maximum"):
            self.submit_target(row.domain.key, row.domain.maximum_kib, "maximum")

    async def action_enter_target(self) -> None:
        row = self._write_row()
        if row is None:
            return
        if self.readonly:
            self.submit_target(row.domain.key, 0, "typed")  # refuses and says why
            return
        key, seen = row.domain.key, row.domain

        def apply(kib: int | None) -> None:
            if kib is not None:  # for the guest the dialog was opened on, as it was then
                self.submit_target(key, kib, "typed", seen=seen)

        # Awaited (and `t` is a priority binding): what is typed next lands in the entry.
        await self.push_screen(
            TargetEntryScreen(row.domain, self._current_target(row), self._floor(row)),
            apply,
        )

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.add_class("-active")
        # At once, not after a refresh: keys typed right after `/` are already queued.
        self.screen.set_focus(box)

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
