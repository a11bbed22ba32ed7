"""GuestWatch: guests that vanish, stop or are renamed under the operator; arming guest stats.

It owns the names of vanished guests (to say which guest a late write was for) and the
guests `--arm-stats` already tried.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from balloon_tui.core.display import shown
from balloon_tui.core.model import DomainKey, DomainSnapshot, DomainState, HostSnapshot, HostStatus
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.tui import render
from balloon_tui.tui.messages import StatsArmed
from balloon_tui.tui.widgets.statusbar import host_name

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen

GONE_REMEMBERED = 256  # names of vanished guests kept to say which one a late write was for


class GuestWatch:
    def __init__(self, screen: MainScreen, *, auto_arm_period: int | None) -> None:
        self.screen = screen
        # --arm-stats: set this stats period on running guests that have none, once each.
        self.auto_arm_period = auto_arm_period
        self._gone: dict[DomainKey, str] = {}  # names of vanished guests, for late intents
        self._armed: set[DomainKey] = set()  # guests --arm-stats already tried

    def gone_name(self, key: DomainKey) -> str:
        return self._gone.get(key, "the guest")

    def lost_text(self) -> Text | None:
        """What the panel says after the selected guest vanished: choose again."""
        lost = self.screen.lost_name
        if lost is None:
            return None
        return Text.assemble(
            (f"{render.MARK_ERROR} ", render.STYLE_WARN),
            (shown(lost), "bold"),
            (
                " is gone (undefined or migrated)\nnothing is selected: choose a guest in the "
                "table",
                render.STYLE_WARN,
            ),
        )

    def offline(self, domain: DomainSnapshot, source: str) -> None:
        host = self.screen.hosts.get(domain.host_uri)
        word = host.status.word if host else "disconnected"
        self.screen.not_written(
            f"{domain.name}: its host is {word}; nothing can be set now",
            f"refused ({source}): {domain.name}'s host is {word}",
        )

    # -- guest stats ---------------------------------------------------------------------------
    def arm_selected(self) -> None:
        """`a`: set a live stats period on the selected guest, so its floor becomes known."""
        screen = self.screen
        row = screen.selected_row()
        if row is None:
            return
        domain = row.domain
        if row.offline and not screen.readonly:
            self.offline(domain, "arm stats")
            return
        problem = None
        if not domain.device.present:
            problem = "it has no balloon device: there are no guest stats to arm"
        elif not domain.state.is_active or domain.state is DomainState.CRASHED:
            problem = f"it is {domain.state.word}: a stats period is set on a running guest"
        elif domain.device.stats_period > 0:
            screen.notify(
                f"{domain.name}: guest stats are on already (every {domain.device.stats_period} s)",
                title="guest stats",
            )
            return
        if problem is not None and not screen.readonly:
            screen.notify(
                f"{domain.name}: {problem}", title="guest stats not armed", severity="warning"
            )
            return
        self._request_stats(domain, screen.stats_period, automatic=False)

    def _request_stats(self, domain: DomainSnapshot, period: int, automatic: bool) -> None:
        screen = self.screen
        fleet = screen.fleet
        if fleet is None or fleet.readonly:
            screen.not_written(
                "read-only: balloon-tui does not arm guest stats here",
                "refused (arm stats): the connection is read-only",
            )
            return
        request = StatsPeriodRequest(domain.host_uri, domain.uuid, domain.name, period, automatic)
        how = "--arm-stats" if automatic else "key a"
        screen.log_panel.add(f"{domain.name}: arming guest stats, every {period} s ({how})")
        fleet.arm_stats(request, self._thread_stats)

    def _thread_stats(self, result: StatsPeriodResult) -> None:
        self.screen.post_from_thread(StatsArmed(result))

    def stats_armed(self, result: StatsPeriodResult) -> None:
        screen = self.screen
        screen.log_panel.add(result.summary, "information" if result.ok else "error")
        if result.request.automatic:
            return  # --arm-stats on a whole fleet: the log says it, one line per guest
        if result.ok:
            screen.notify(result.summary, title="guest stats")
        else:
            screen.notify(
                result.message,
                title=f"{result.request.name}: guest stats not armed",
                severity="error",
                timeout=8,
            )

    def after_snapshots(self, hosts: list[HostSnapshot]) -> None:
        screen = self.screen
        for host in hosts:
            if host.status not in (HostStatus.OK, HostStatus.SLOW):
                continue
            screen.credentials.connected(host.uri)
            if not self.auto_arm_period or screen.readonly:
                continue
            for domain in host.domains:
                if (
                    domain.state is DomainState.RUNNING
                    and domain.device.present
                    and domain.device.stats_period <= 0
                    and domain.key not in self._armed
                ):
                    self._armed.add(domain.key)  # once: a refusal is not tried again
                    self._request_stats(domain, self.auto_arm_period, automatic=True)

    # -- guests that vanish or stop --------------------------------------------------------------
    def check_selected(self, host: HostSnapshot) -> None:
        """Before a snapshot is applied: did the selected (or dragged) guest vanish or stop?"""
        if host.status not in (HostStatus.OK, HostStatus.SLOW):
            return  # a disconnected host's guests are unknown, not gone
        screen = self.screen
        before = screen.view.hosts.get(host.uri)
        if before is None or before.status not in (HostStatus.OK, HostStatus.SLOW):
            return
        slider = screen.panel.slider
        dragged = slider.subject if slider.dragging else None
        watched: set[DomainKey] = {k for k in (screen.selected, dragged) if k is not None}
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
                if old.key == screen.selected:
                    # Cleared at once, not moved to a neighbour: a key pressed before the
                    # table catches up must not reach another guest.
                    screen.lost_name = old.name
                    screen.selected = None
                    message += "; nothing is selected now"
                self._gone[old.key] = old.name
                if len(self._gone) > GONE_REMEMBERED:
                    del self._gone[next(iter(self._gone))]
                screen.writes.undo_history.forget(old.key)
                screen.log_panel.add(message, "warning")
                if old.key in watched:
                    screen.notify(
                        message, title=f"{old.name} vanished", severity="warning", timeout=8
                    )
            elif old.key in watched and old.name != new.name:
                self._changed(
                    f"{old.name} is now called {new.name}", drag, f"{old.name} renamed", ":"
                )
            elif old.key in watched and old.state.is_active and not new.state.is_active:
                self._changed(
                    f"{new.name} is now {new.state.word}: its balloon no longer moves",
                    drag,
                    f"{new.name} {new.state.word}",
                    ";",
                )

    def _changed(self, message: str, drag: bool, title: str, joint: str) -> None:
        if drag:
            self.screen.panel.slider.cancel_drag()
            message += f"{joint} the drag is cancelled, nothing was written"
        self.screen.log_panel.add(message, "warning")
        self.screen.notify(message, title=title, severity="warning", timeout=8)
