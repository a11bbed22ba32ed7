"""Regulation: the regulator's plans on screen, `y`/`Y` to accept them, `A` the autopilot.

Owned by MainScreen, like WriteGuard. Every fresh snapshot feeds the RegulatorFeed (damped
inputs); each host is planned once per round (`--autopilot-interval`, 10 s: Proxmox's
pvestatd rhythm), when it first reports, and at the next snapshot after one of our writes
to it settled (so an accepted proposal does not linger). Plans run on the UI thread: a
round costs milliseconds for the fleets people run (docs/performance.md has the numbers),
and a plan made from the very rows on screen cannot disagree with them.

Every write goes through `WriteGuard.submit_target`: the floor, the intent checks, the
audit (source `proposal` or `autopilot`, with the reason) and undo stay the same for all.
The autopilot never opens a dialog: a proposal that now meets the floor is skipped and
logged. The human wins: a guest whose target an operator set by hand is left alone for
`hand_pause_s` (5 min).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from balloon_tui.core.display import counted, shown
from balloon_tui.core.model import DomainKey, DomainSnapshot, HostSnapshot, HostStatus
from balloon_tui.core.regulator import HostPlan
from balloon_tui.core.regulator_feed import RegulatorFeed, no_plan_note, plan_for
from balloon_tui.core.regulator_settings import RegulatorOptions
from balloon_tui.core.regulator_words import Proposal
from balloon_tui.core.sizes import format_compact
from balloon_tui.core.writes import ApplyMode, WriteSource
from balloon_tui.tui.render import HostRegulation
from balloon_tui.tui.screens.proposals import ConfirmProposalsScreen, ProposalLine
from balloon_tui.tui.widgets.statusbar import host_name

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen

# Sources that are the operator's own hand on a guest's target: the autopilot waits.
REGULATOR_SOURCES = frozenset({WriteSource.PROPOSAL, WriteSource.AUTOPILOT, WriteSource.ARM_STATS})
_FRESH = (HostStatus.OK, HostStatus.SLOW)


class Regulation:
    def __init__(self, screen: MainScreen, options: RegulatorOptions) -> None:
        self.screen = screen
        self.options = options
        self.feed = RegulatorFeed(options.settings)
        self.plans: dict[str, HostPlan] = {}
        self.notes: dict[str, str] = {}  # host URI -> why it has no plan
        self.proposals: dict[DomainKey, Proposal] = {}
        # Each guest as it was when its host was planned: a proposal is for that guest.
        self._planned: dict[DomainKey, DomainSnapshot] = {}
        self.autopilot: set[str] = set()  # host URIs with the autopilot on
        self._next_round: dict[str, float] = {}  # host URI -> clock time of its next round
        self._replan: set[str] = set()  # hosts to plan again at their next snapshot
        self.by_hand: dict[DomainKey, float] = {}  # guest -> when an operator last set it
        self._pause_said: dict[DomainKey, float] = {}  # the by_hand time already logged
        self._outside: set[DomainKey] = set()  # guests whose balloon moved outside, now

    @property
    def round_s(self) -> float:
        return self.options.round_s

    # -- from the snapshots -------------------------------------------------------------------
    def after_snapshots(self, hosts: Iterable[HostSnapshot]) -> bool:
        """Feed and plan the hosts whose round is due; run the autopilot's rounds.
        True when a plan changed (the rows need drawing again)."""
        now = self.screen.clock()
        changed = False
        for host in hosts:
            uri = host.uri
            if host.status not in _FRESH:
                changed |= self._host_lost(host)
                continue
            self.feed.add(host)
            self._watch_outside(host, now)
            due = self._next_round.get(uri)
            if due is not None and now < due and uri not in self._replan:
                continue
            round_due = due is None or now >= due
            self._replan.discard(uri)
            self._plan(host, now)
            changed = True
            if round_due:
                self._next_round[uri] = now + self.round_s
                if uri in self.autopilot:
                    self._autopilot_round(host, now)
        return changed

    def _watch_outside(self, host: HostSnapshot, now: float) -> None:
        """A balloon moved by another tool (virsh setmem, another balloon-tui) is a hand on
        that guest too: the autopilot waits as it does for the operator here."""
        outside = self._outside
        for domain in host.domains:
            key = domain.key
            if not domain.target_outside:
                outside.discard(key)
            elif key not in outside:
                outside.add(key)
                self.by_hand[key] = now
        if len(outside) > len(host.domains) * 4:  # keys of vanished guests: drop them
            present = {d.key for d in host.domains}
            outside.intersection_update(k for k in outside if k[0] != host.uri or k in present)

    def _plan(self, host: HostSnapshot, now: float) -> None:
        uri = host.uri
        asked = {
            d.key: target
            for d in host.domains
            if (target := self.screen.pending.target(d.key)) is not None
        }
        budget = self.options.budgets.for_host(uri)
        plan = plan_for(self.feed, host, budget, now, self.options.settings, asked)
        before = {}
        for key in [k for k in self.proposals if k[0] == uri]:
            before[key] = self.proposals.pop(key)
            self._planned.pop(key, None)
        if plan is None:
            self.plans.pop(uri, None)
            self.notes[uri] = no_plan_note(budget)
            return
        self.notes.pop(uri, None)
        self.plans[uri] = plan
        # The same proposal as last round keeps its object: the row it is on is the same
        # object too, and the table redraws only the rows whose proposal changed.
        for key, proposal in plan.proposals.items():
            old = before.get(key)
            self.proposals[key] = old if old is not None and old == proposal else proposal
        self._planned.update((d.key, d) for d in host.domains)

    def _host_lost(self, host: HostSnapshot) -> bool:
        """A host that stops answering: its plan is void, its autopilot stops (and says so)."""
        uri = host.uri
        had_plan = self.plans.pop(uri, None) is not None
        for key in [k for k in self.proposals if k[0] == uri]:
            del self.proposals[key]
        if host.status is HostStatus.CONNECTING:
            return had_plan
        self.notes[uri] = f"no plan: the host is {host.status.word}"
        if uri in self.autopilot:
            self.autopilot.discard(uri)
            message = f"autopilot off on {host_name(host)}: the host is {host.status.word}"
            self.screen.log_panel.add(message, "warning")
            self.screen.notify(message, title="autopilot", severity="warning", timeout=10)
        return had_plan

    def write_settled(self, key: DomainKey) -> None:
        """One of our writes came back: plan that host again, so its proposals are current."""
        self._replan.add(key[0])

    def set_by_hand(self, key: DomainKey, source: WriteSource) -> None:
        if source not in REGULATOR_SOURCES:
            self.by_hand[key] = self.screen.clock()

    def hand_pause_left(self, key: DomainKey, now: float) -> float:
        """Seconds the autopilot still leaves this guest alone (0: none)."""
        at = self.by_hand.get(key)
        if at is None:
            return 0.0
        return max(0.0, at + self.options.hand_pause_s - now)

    # -- the status line ------------------------------------------------------------------------
    def status(self) -> dict[str, HostRegulation]:
        now = self.screen.clock()
        result = {}
        for uri in self.screen.hosts:
            on = uri in self.autopilot
            due = self._next_round.get(uri)
            result[uri] = HostRegulation(
                self.plans.get(uri),
                self.notes.get(uri, ""),
                autopilot=on,
                next_round_s=max(0.0, due - now) if on and due is not None else None,
            )
        return result

    # -- y, Y ---------------------------------------------------------------------------------
    def accept_selected(self) -> None:
        """`y`: the selected guest's proposal, through the normal write path."""
        screen = self.screen
        row = screen.writes.write_row()
        if row is None:
            return
        domain = row.domain
        proposal = self.proposals.get(domain.key)
        if proposal is None or proposal.target_kib is None:
            why = proposal.reason if proposal else self._no_plan_reason(domain.host_uri)
            screen.notify(f"{domain.name}: no proposal: {why}", title="regulator")
            return
        screen.writes.submit_target(
            domain.key,
            proposal.target_kib,
            WriteSource.PROPOSAL,
            reason=proposal.reason,
            seen=self._planned.get(domain.key, domain),
        )

    def accept_host(self) -> None:
        """`Y`: every proposal on the selected guest's host, after one confirmation."""
        screen = self.screen
        row = screen.writes.write_row()
        if row is None:
            return
        uri = row.domain.host_uri
        host = screen.hosts.get(uri)
        label = host_name(host) if host else uri
        lines = self._proposal_lines(uri)
        if not lines:
            why = self.notes.get(uri) or "every guest is where the regulator wants it"
            screen.notify(f"{label}: nothing to apply: {why}", title="regulator")
            return
        summary = self.plans[uri].summary if uri in self.plans else ""

        def answer(confirmed: bool | None) -> None:
            if not confirmed or screen.closing_down():
                screen.log_panel.add(f"{label}: proposals not applied (cancelled)")
                return
            sent = self._apply(lines, WriteSource.PROPOSAL)
            screen.log_panel.add(f"{label}: {counted(sent, 'proposal')} applied (Y)")

        screen.app.push_screen(ConfirmProposalsScreen(label, summary, lines), answer)

    def _proposal_lines(self, uri: str) -> list[ProposalLine]:
        rows = self.screen.rows
        lines = []
        for key, proposal in self.proposals.items():
            if key[0] != uri or proposal.target_kib is None or key not in rows:
                continue
            seen = self._planned.get(key, rows[key].domain)
            lines.append(ProposalLine(key, seen, proposal.target_kib, proposal.reason))
        lines.sort(key=lambda line: (line.seen.name.casefold(), line.key))  # as the table
        return lines

    def _apply(self, lines: Iterable[ProposalLine], source: WriteSource) -> int:
        """Send proposals without asking again: one that now meets the safety floor (the
        guest's use rose since the plan) is skipped and logged, never forced."""
        writes = self.screen.writes
        with writes.batch():
            sent = sum(
                writes.submit_target(
                    line.key,
                    line.target_kib,
                    source,
                    reason=line.reason,
                    seen=line.seen,
                    ask_below_floor=False,
                    mode=ApplyMode.LIVE if source is WriteSource.AUTOPILOT else None,
                )
                for line in lines
            )
        return sent

    def _no_plan_reason(self, uri: str) -> str:
        return self.notes.get(uri) or "no plan yet: the regulator plans at the next poll"

    # -- A: the autopilot ------------------------------------------------------------------------
    def toggle_autopilot(self) -> None:
        """`A`: the autopilot on or off for the selected guest's host."""
        screen = self.screen
        row = screen.selected_row()
        if row is None:
            return
        uri = row.domain.host_uri
        host = screen.hosts.get(uri)
        label = host_name(host) if host else uri
        if uri in self.autopilot:
            self.autopilot.discard(uri)
            screen.log_panel.add(f"autopilot off on {label}")
            screen.notify(f"autopilot off on {label}", title="autopilot")
            return
        if screen.readonly:
            screen.not_written(
                "read-only: the autopilot cannot write here",
                f"refused (autopilot on {label}): the connection is read-only",
            )
            return
        if host is None or host.status not in _FRESH:
            word = host.status.word if host else "not connected"
            screen.notify(f"{label} is {word}: the autopilot needs a live host", severity="warning")
            return
        self.switch_on(uri)
        screen.notify(
            f"autopilot on for {label}: a round every {self.round_s:g} s (A again: off)",
            title="autopilot",
        )

    def switch_on(self, uri: str) -> None:
        self.autopilot.add(uri)
        self._next_round[uri] = self.screen.clock()  # the first round at the next poll
        host = self.screen.hosts.get(uri)
        self.screen.log_panel.add(
            f"autopilot on for {host_name(host) if host else uri}: "
            f"a round every {self.round_s:g} s, budget {self.options.budgets.for_host(uri).text}"
        )

    def _autopilot_round(self, host: HostSnapshot, now: float) -> None:
        screen = self.screen
        if screen.panel.slider.dragging:
            screen.log_panel.add(f"autopilot round on {host_name(host)} skipped: a drag holds")
            return
        lines = []
        for line in self._proposal_lines(host.uri):
            proposal = self.proposals[line.key]
            name = shown(line.seen.name, 40)
            if proposal.not_responding:
                continue  # its reason says so on screen; writing more would not help
            pause = self.hand_pause_left(line.key, now)
            if pause > 0:
                if self._pause_said.get(line.key) != self.by_hand[line.key]:
                    self._pause_said[line.key] = self.by_hand[line.key]
                    screen.log_panel.add(
                        f"autopilot: {name} left alone for {math.ceil(pause / 60)} min: "
                        + (
                            "its balloon was moved outside balloon-tui"
                            if line.key in self._outside
                            else "its target was set by hand"
                        )
                    )
                continue
            lines.append(line)
        if lines:
            sent = self._apply(lines, WriteSource.AUTOPILOT)
            moved = sum(line.target_kib - line.seen.actual_kib for line in lines)
            way = "frees" if moved < 0 else "adds"
            screen.log_panel.add(
                f"autopilot round on {host_name(host)}: {counted(sent, 'target')} set, "
                f"{way} {format_compact(abs(moved))}"
            )
