"""What keeps a guest safe beyond the floor: intent bound to a guest, undo, arming guest
stats, guests that vanish.

A mixin of BalloonApp (its attributes live there, hence the mypy note below).
"""
# mypy: disable-error-code="attr-defined, has-type"

from __future__ import annotations

from rich.text import Text

from balloon_tui.core.display import shown
from balloon_tui.core.model import DomainSnapshot, DomainState, HostSnapshot, HostStatus
from balloon_tui.core.sizes import MINIMUM_KIB
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.tui import render
from balloon_tui.tui.messages import StatsArmed
from balloon_tui.tui.render import RowView
from balloon_tui.tui.widgets.slider import DRAG_HOLDS
from balloon_tui.tui.widgets.statusbar import host_name

DomainKey = tuple[str, str]
GONE_REMEMBERED = 256  # names of vanished guests kept to say which one a late write was for


class GuardedActions:
    selected: DomainKey | None
    _lost_name: str | None
    _gone: dict[DomainKey, str]

    # -- intent: a write is for the guest the operator acted on, as it was then -----------------
    def _drag_holds(self) -> bool:
        """A drag in progress decides the target: keys do not write until it is let go."""
        if self.panel.slider.dragging:
            self.notify(DRAG_HOLDS, severity="warning")
            return True
        return False

    def _sync_selection(self) -> DomainKey | None:
        """The guest under the table's cursor now. Its `Selected` message may still be on
        its way: a key typed right after a cursor move (`down` `=`) is for the new guest."""
        key: DomainKey | None = self.table.selected
        if key != self.selected:
            self._select(key)
        return key

    def _write_row(self) -> RowView | None:
        """The selected guest's row for a key that writes, unless a drag holds the slider."""
        return None if self._drag_holds() else self._selected_row()

    def _intended_row(
        self, key: DomainKey | None, seen: DomainSnapshot | None, source: str
    ) -> RowView | None:
        """The row of the guest the operator acted on, if a write to it still means what
        the operator meant; else None, after saying why nothing is written."""
        if key is None:
            self.notify("select a guest first", severity="warning")
            return None
        row: RowView | None = self.rows.get(key)
        if row is None:
            name = seen.name if seen is not None else self._gone.get(key, "the guest")
            self._not_written(name, f"{name} is gone (undefined or migrated)", source)
            return None
        if row.offline:
            self._offline(row.domain, source)
            return None
        now = row.domain
        if seen is not None and now.name != seen.name:
            self._not_written(seen.name, f"{seen.name} is now called {now.name}", source)
            return None
        if seen is not None and now.state.is_active != seen.state.is_active:
            self._not_written(now.name, f"{now.name} is now {now.state.word}", source)
            return None
        return row

    def _not_written(self, name: str, problem: str, source: str) -> None:
        message = f"{problem}: nothing was written"
        self.log_panel.add(f"refused ({source}): {message}", "warning")
        self.notify(message, title=f"{name}: target not set", severity="warning")

    @staticmethod
    def _clamped(domain: DomainSnapshot, target_kib: int) -> int:
        return max(min(MINIMUM_KIB, domain.maximum_kib), min(int(target_kib), domain.maximum_kib))

    def _already(self, row: RowView, target_kib: int, where: str) -> bool:
        """A key that would not move the target sends nothing (and says so)."""
        if self._clamped(row.domain, target_kib) != self._current_target(row):
            return False
        self.notify(f"{row.domain.name}: already at the {where}: nothing to send")
        return True

    def _lost_text(self) -> Text | None:
        """What the panel says after the selected guest vanished: choose again."""
        if self._lost_name is None:
            return None
        return Text.assemble(
            (f"{render.MARK_ERROR} ", render.STYLE_WARN), (shown(self._lost_name), "bold"),
            (" is gone (undefined or migrated)\nnothing is selected: choose a guest in the "
             "table", render.STYLE_WARN))

    # -- undo ---------------------------------------------------------------------------------
    def action_undo_target(self) -> None:
        """`u`: back to the target before the last one this app set (same checks as any)."""
        row = self._write_row()
        if row is None:
            return
        stack = self._undo.get(row.domain.key)
        if not stack:
            self.notify(f"nothing to undo for {row.domain.name}: no target was set from here",
                        title="undo")
            return
        self.submit_target(row.domain.key, stack[-1], "undo", undo=True)

    # -- guest stats ---------------------------------------------------------------------------
    def action_arm_stats(self) -> None:
        """`a`: set a live stats period on the selected guest, so its floor becomes known."""
        row = self._selected_row()
        if row is None:
            return
        domain = row.domain
        if row.offline and not self.readonly:
            self._offline(domain, "arm stats")
            return
        problem = None
        if not domain.device.present:
            problem = "it has no balloon device: there are no guest stats to arm"
        elif not domain.state.is_active or domain.state is DomainState.CRASHED:
            problem = f"it is {domain.state.word}: a stats period is set on a running guest"
        elif domain.device.stats_period > 0:
            self.notify(f"{domain.name}: guest stats are on already (every "
                        f"{domain.device.stats_period} s)", title="guest stats")
            return
        if problem is not None and not self.readonly:
            self.notify(f"{domain.name}: {problem}", title="guest stats not armed",
                        severity="warning")
            return
        self._request_stats(domain, self.stats_period, automatic=False)

    def _offline(self, domain: DomainSnapshot, source: str) -> None:
        host = self.hosts.get(domain.host_uri)
        word = host.status.word if host else "disconnected"
        self.notify(f"{domain.name}: its host is {word}; nothing can be set now",
                    title="not written", severity="warning")
        self.log_panel.add(f"refused ({source}): {domain.name}'s host is {word}", "warning")

    def _request_stats(self, domain: DomainSnapshot, period: int, automatic: bool) -> None:
        fleet = self.fleet
        if fleet is None or fleet.readonly:
            self.notify("read-only: balloon-tui does not arm guest stats here",
                        title="not written", severity="warning")
            self.log_panel.add("refused (arm stats): the connection is read-only", "warning")
            return
        arm = getattr(fleet, "arm_stats", None)
        if arm is None:
            self.notify("this connection cannot arm guest stats", severity="warning")
            return
        request = StatsPeriodRequest(domain.host_uri, domain.uuid, domain.name, period,
                                     automatic)
        how = "--arm-stats" if automatic else "key a"
        self.log_panel.add(f"{domain.name}: arming guest stats, every {period} s ({how})")
        arm(request, self._thread_stats)

    def _thread_stats(self, result: StatsPeriodResult) -> None:
        self._post(StatsArmed(result))

    def on_stats_armed(self, message: StatsArmed) -> None:
        if self._closing_down():
            return
        result = message.result
        self.log_panel.add(result.summary, "information" if result.ok else "error")
        if result.request.automatic:
            return  # --arm-stats on a whole fleet: the log says it, one line per guest
        if result.ok:
            self.notify(result.summary, title="guest stats")
        else:
            self.notify(result.message, title=f"{result.request.name}: guest stats not armed",
                        severity="error", timeout=8)

    def _after_snapshots(self, hosts: list[HostSnapshot]) -> None:
        for host in hosts:
            if host.status not in (HostStatus.OK, HostStatus.SLOW):
                continue
            self._auth_sent.discard(host.uri)  # connected: the credentials were right
            if not self.auto_arm_period or self.readonly:
                continue
            for domain in host.domains:
                if (domain.state is DomainState.RUNNING and domain.device.present
                        and domain.device.stats_period <= 0 and domain.key not in self._armed):
                    self._armed.add(domain.key)  # once: a refusal is not tried again
                    self._request_stats(domain, self.auto_arm_period, automatic=True)

    # -- guests that vanish or stop --------------------------------------------------------------
    def _check_selected(self, host: HostSnapshot) -> None:
        """Before a snapshot is applied: did the selected (or dragged) guest vanish or stop?"""
        if host.status not in (HostStatus.OK, HostStatus.SLOW):
            return  # a disconnected host's guests are unknown, not gone
        before = self.view.hosts.get(host.uri)
        if before is None or before.status not in (HostStatus.OK, HostStatus.SLOW):
            return
        slider = self.panel.slider
        dragged = slider.subject if slider.dragging else None
        watched = {k for k in (self.selected, dragged) if isinstance(k, tuple)}
        if not any(k[0] == host.uri for k in watched) and (
            len(before.domains) == len(host.domains)
        ):
            return
        present = {d.key: d for d in host.domains}
        for old in before.domains:
            new = present.get(old.key)
            drag = old.key == dragged
            if new is None:
                message = f"{old.name} is gone from {host_name(host)} (undefined or migrated)"
                if drag:
                    slider.cancel_drag()
                    message += ": the drag is cancelled, nothing was written"
                if old.key == self.selected:
                    # Cleared at once, not moved to a neighbour: a key pressed before the
                    # table catches up must not reach another guest.
                    self.selected = None
                    self._lost_name = old.name
                    message += "; nothing is selected now"
                self._gone[old.key] = old.name
                if len(self._gone) > GONE_REMEMBERED:
                    del self._gone[next(iter(self._gone))]
                self._undo.pop(old.key, None)
                self.log_panel.add(message, "warning")
                if old.key in watched:
                    self.notify(message, title=f"{old.name} vanished", severity="warning",
                                timeout=8)
            elif old.key in watched and old.name != new.name:
                message = f"{old.name} is now called {new.name}"
                if drag:
                    slider.cancel_drag()
                    message += ": the drag is cancelled, nothing was written"
                self.log_panel.add(message, "warning")
                self.notify(message, title=f"{old.name} renamed", severity="warning", timeout=8)
            elif old.key in watched and old.state.is_active and not new.state.is_active:
                message = f"{new.name} is now {new.state.word}: its balloon no longer moves"
                if drag:
                    slider.cancel_drag()
                    message += "; the drag is cancelled, nothing was written"
                self.log_panel.add(message, "warning")
                self.notify(message, title=f"{new.name} {new.state.word}", severity="warning",
                            timeout=8)
