"""What the app knows between ticks: the hosts, our writes in flight, the history.

UI-thread only and free of widgets: `apply` takes one HostSnapshot and says what is worth
telling the operator; `rows` is what the table and the panel show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from textual.notifications import SeverityLevel

from balloon_tui.core.display import counted
from balloon_tui.core.model import DomainKey, HostSnapshot, HostStatus
from balloon_tui.core.regulator_words import Proposal
from balloon_tui.tui.history import History
from balloon_tui.tui.pending import PendingWrites
from balloon_tui.tui.render import RowView
from balloon_tui.tui.widgets.statusbar import host_name


@dataclass(frozen=True, slots=True)
class Event:
    """A line for the log; `notify` also makes it a notification."""

    message: str
    severity: SeverityLevel = "information"
    notify: bool = False
    title: str = ""


class FleetView:
    def __init__(self, history_window: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.hosts: dict[str, HostSnapshot] = {}
        self.pending = PendingWrites()
        self.history = History(history_window)
        self.rows: dict[DomainKey, RowView] = {}

    def apply(self, host: HostSnapshot) -> list[Event]:
        """Take one host's snapshot; a snapshot that cannot be applied is not kept."""
        before = self.hosts.get(host.uri)
        events = self._host_events(before, host)
        fresh = host.status in (HostStatus.OK, HostStatus.SLOW)
        old_errors = {d.key: d.error for d in before.domains if d.error} if before else {}
        pending = self.pending
        watching = bool(pending)
        mine: dict[DomainKey, int] = {}
        for domain in host.domains:
            if domain.error and domain.error != old_errors.get(domain.key):
                events.append(Event(f"{domain.name}: {domain.error}", "error", True, domain.name))
            if watching and pending.has(domain.key):
                pending.observe(domain)
                target = pending.target(domain.key)
                if target is not None:
                    mine[domain.key] = target
        if fresh:
            self.history.add_all(host.uri, host.domains, host.taken_at, mine)
        if fresh:  # a disconnected host's guests are unknown, not gone
            present = {d.key for d in host.domains}
            self.pending.forget_missing(host.uri, present)
            self.history.forget_missing(host.uri, present)
        self.hosts[host.uri] = host
        return events

    @staticmethod
    def _host_events(before: HostSnapshot | None, host: HostSnapshot) -> list[Event]:
        name = host_name(host)
        if host.error and (before is None or before.error != host.error):
            return [
                Event(
                    f"{name}: {host.status.word}: {host.error}",
                    "error",
                    True,
                    f"{name}: {host.status.word}",
                )
            ]
        if before is None or before.status is not host.status:
            guests = (
                f" ({counted(len(host.domains), 'guest')})" if host.status is HostStatus.OK else ""
            )
            severity: SeverityLevel = "warning" if host.status is HostStatus.SLOW else "information"
            return [Event(f"{name}: {host.status.word}{guests}", severity)]
        return []

    def build_rows(self, proposals: Mapping[DomainKey, Proposal] | None = None) -> list[RowView]:
        """One RowView per guest; last tick's object when nothing it shows has changed, so
        that the table's diff is an identity check for the guests that stood still.

        `proposals`: the regulator's last plans, by guest (a guest left out has none); a plan
        makes new Proposal objects, so a row is built again when its proposal is another."""
        now = self.clock()
        proposals = proposals or {}
        pending = self.pending
        before = self.rows
        rows = []
        for host in self.hosts.values():
            offline = host.status in (HostStatus.DISCONNECTED, HostStatus.SKIPPED)
            for domain in host.domains:
                key = domain.key
                previous = before.get(key)
                proposal = proposals.get(key)
                if (
                    previous is not None
                    and previous.domain is domain
                    and previous.proposal is proposal
                    and previous.offline is offline
                    and previous.target_kib == domain.target_kib  # not a target of ours gone
                    and domain.stats.last_update is None  # else its age moves with the clock
                    and not previous.writing
                    and previous.failed is None
                    and not pending.has(key)
                ):
                    rows.append(previous)
                    continue
                rows.append(
                    RowView(
                        domain,
                        pending.shown_target(domain),
                        writing=pending.writing(key),
                        failed=pending.failed(key),
                        stale=domain.stats_stale(now),
                        age=domain.stats_age(now),
                        offline=offline,
                        proposal=proposal,
                    )
                )
        self.rows = {row.domain.key: row for row in rows}
        return rows

    def reported(self) -> int:
        """How many hosts have reported something beyond "connecting"."""
        return sum(1 for h in self.hosts.values() if h.status is not HostStatus.CONNECTING)
