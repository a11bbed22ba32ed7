"""The top lines: one per host (status, memory) and the apply mode / read-only badges."""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from balloon_tui.core.display import plural, visible
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.regulator import HostPlan
from balloon_tui.core.summary import MemorySummary, summarize
from balloon_tui.core.writes import ApplyMode
from balloon_tui.tui import render
from balloon_tui.tui.render import HostRegulation, short_size
from balloon_tui.tui.widgets.quiet import update_if_changed

FETCH_SHOWN_SECONDS = 0.1  # the status bar shows a host's poll time from this on

STATUS_SIGNS = {
    HostStatus.OK: ("●", render.STYLE_OK),
    HostStatus.SLOW: ("◐", render.STYLE_CAUTION),
    HostStatus.CONNECTING: ("○", render.STYLE_OFF),
    HostStatus.DISCONNECTED: ("✖", render.STYLE_ERROR),
    HostStatus.SKIPPED: ("✖", render.STYLE_ERROR),
}


def host_name(host: HostSnapshot) -> str:
    """A short, stable name: a test-driver file by its file name, else the hostname.

    Made `visible`: the hostname is the remote machine's word and the URI the config's.
    """
    if host.uri.startswith("test://"):
        path = host.uri[len("test://") :]
        return visible("test:" + (posixpath.basename(path) or "default"))
    return visible(host.hostname or host.uri)


# Where a URI may be cut to show the part that tells two of them apart.
_URI_SEPARATORS = frozenset("/:@?&=+;")


def distinguishing(uris: Sequence[str]) -> list[str]:
    """What is left of each URI after the part they all share (cut at a separator):
    qemu+ssh://a/system and qemu+ssh://a/session -> system and session."""
    first, last = min(uris), max(uris)
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    cut = common
    while cut > 0 and (
        uris[0][cut - 1] not in _URI_SEPARATORS or any(len(uri) <= cut for uri in uris)
    ):
        cut -= 1
    return [visible(uri[cut:]) for uri in uris]


def host_labels(hosts: Sequence[HostSnapshot]) -> dict[str, str]:
    """Each host's name as shown, by URI: `host_name`, and for hosts that share one (a
    machine reached by two URIs) the shortest part of the URI that tells them apart."""
    labels = {host.uri: host_name(host) for host in hosts}
    groups: dict[str, list[str]] = {}
    for uri, name in labels.items():
        groups.setdefault(name, []).append(uri)
    for name, uris in groups.items():
        if len(uris) > 1:
            for uri, part in zip(uris, distinguishing(uris), strict=True):
                labels[uri] = f"{name} ({part})"
    return labels


def host_text(host: HostSnapshot, compact: bool = False, label: str | None = None) -> Text:
    """`label`: the host's name among the others (`host_labels`); its own name if None."""
    symbol, style = STATUS_SIGNS[host.status]
    text = Text.assemble(
        (f"{symbol} ", style), (label or host_name(host), "bold"), " ", (host.status.word, style)
    )
    # The poll time only when it says something (the hosts screen, h, always has it): a few
    # ms that change on every tick are noise, and make recordings of the demo flicker.
    if (
        host.fetch_seconds is not None
        and host.fetch_seconds >= FETCH_SHOWN_SECONDS
        and host.status is not HostStatus.DISCONNECTED
    ):
        text.append(f" {host.fetch_seconds * 1000:.0f}ms", render.STYLE_DIM)
    if host.domains or host.memory_total_kib is not None:  # nothing known yet: no zeros
        text.append("  ")
        text.append_text(summary_text(summarize([host]), compact))
    if host.error:
        text.append(f"  {render.MARK_ERROR} {visible(host.error)}", render.STYLE_ERROR)
    return text


def summary_text(summary: MemorySummary, compact: bool = False) -> Text:
    """RAM, free, what the guests may grow to, asked for, have; overcommit; reclaimable.

    Compact (narrow terminals): RAM, free, actual and overcommit; `h` shows the rest.
    """
    parts: list[tuple[str, str]] = [
        ("RAM ", short_size(summary.memory_total_kib)),
        ("free ", short_size(summary.memory_free_kib)),
    ]
    if not compact:
        parts.append(("max ", short_size(summary.sum_maximum_kib)))
        if summary.sum_target_kib != summary.sum_actual_kib:
            parts.append(("target ", short_size(summary.sum_target_kib)))
    parts.append(("actual ", short_size(summary.sum_actual_kib)))
    if summary.overcommit is not None:
        parts.append(("over ", f"{summary.overcommit:.2f}x"))
    if not compact:
        parts.append(("reclaim ", short_size(summary.reclaimable_kib)))
    else:
        parts = [(label, value) for label, value in parts if value != short_size(None)]
    text = Text()
    for index, (label, value) in enumerate(parts):
        if index:
            text.append(" · ", render.STYLE_DIM)
        text.append(label, render.STYLE_DIM)
        text.append(value)
    return text


def fleet_text(hosts: list[HostSnapshot], compact: bool = False) -> Text:
    """One line for many hosts: how many answer, the totals, and which ones do not."""
    summary = summarize(hosts)
    down = [h for h in hosts if h.status is HostStatus.DISCONNECTED]
    slow = [h for h in hosts if h.status is HostStatus.SLOW]
    hosts_word, guests_word = plural(summary.hosts, "host"), plural(summary.guests, "guest")
    text = Text.assemble(
        ("Σ ", "bold"),
        (f"{summary.hosts_ok}/{summary.hosts} {hosts_word}", "bold"),
        f" {summary.guests_running}/{summary.guests} {guests_word}  ",
    )
    text.append_text(summary_text(summary, compact))
    labels = host_labels(hosts)
    for label, group, style in (
        ("down", down, render.STYLE_ERROR),
        ("slow", slow, render.STYLE_WARN),
    ):
        if group:
            names = ", ".join(labels[h.uri] for h in group[:3])
            more = f" +{len(group) - 3}" if len(group) > 3 else ""
            text.append(f"  {STATUS_SIGNS[group[0].status][0]} {label}: {names}{more}", style)
    return text


# Beyond this many hosts the bar shows the totals only; `h` lists every host.
HOST_LINES_MAX = 3
# Narrower than this, host lines keep only RAM, free, actual and overcommit.
COMPACT_BELOW = 120


def plan_words(plan: HostPlan, compact: bool) -> str:
    """`HostPlan.summary`; compact: the budget and what the proposals change, short sizes
    (the host's line above already says its actual)."""
    if not compact:
        return plan.summary
    change = plan.change_kib
    words = f"budget {short_size(plan.budget_kib)} · "
    if change:
        words += f"proposals {'free' if change < 0 else 'need'} {short_size(abs(change))}"
    else:
        words += "nothing to change"
    if plan.short_kib:
        words += f" · short by {short_size(plan.short_kib)}"
    return words


def host_regulation_text(regulation: HostRegulation, compact: bool) -> Text:
    """One host's regulator: its plan (or why there is none) and its autopilot."""
    plan = regulation.plan
    if plan is None:
        text = Text(visible(regulation.note or "no plan yet"), render.STYLE_DIM)
    elif plan.short_kib:
        text = Text(f"{render.MARK_STALLED} {plan_words(plan, compact)}", render.STYLE_WARN)
    else:
        text = Text(plan_words(plan, compact))
    if regulation.autopilot:
        text.append(" · ", render.STYLE_DIM)
        text.append(f"{render.MARK_PROPOSAL} autopilot on", render.STYLE_PROPOSAL)
        if regulation.next_round_s is not None:
            seconds = max(0, math.ceil(regulation.next_round_s))
            text.append(f" · {'next' if compact else 'next round in'} {seconds} s")
    return text


def regulation_text(
    regulation: Mapping[str, HostRegulation],
    labels: Mapping[str, str],
    selected: str | None,
    compact: bool,
) -> Text | None:
    """One line: the selected host's regulator (else the first host's), and how many other
    hosts have one and how many of them run the autopilot. None: no regulator anywhere."""
    if not regulation:
        return None
    uri = selected if selected is not None and selected in regulation else next(iter(regulation))
    text = Text("regulator ", render.STYLE_DIM, end="")
    others = [r for u, r in regulation.items() if u != uri]
    if others:
        text.append(f"{labels.get(uri) or visible(uri)}: ", "bold")
    text.append_text(host_regulation_text(regulation[uri], compact))
    if others:
        pilots = sum(1 for r in others if r.autopilot)
        more = f" · +{len(others)} {plural(len(others), 'host')}"
        if pilots:
            more += f" ({pilots} on autopilot)"
        text.append(more, render.STYLE_DIM)
    return text


def mode_text(mode: ApplyMode) -> Text:
    return Text.assemble(("mode ", render.STYLE_DIM), (mode.label, "bold"), (" (p)", "dim"))


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar { height: auto; }
    StatusBar > #lines { width: 1fr; height: auto; }
    StatusBar > #lines > Static { height: auto; }
    StatusBar > #lines > #regulation { display: none; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #lines > #regulation.-shown { display: block; }
    StatusBar > #mode { width: auto; padding: 0 1; }
    StatusBar > #readonly {
        width: auto; padding: 0 1; display: none;
        background: $warning; color: $background; text-style: bold;
    }
    StatusBar.-readonly > #readonly { display: block; }
    """

    _hosts: list[HostSnapshot] | None = None
    _regulation: Mapping[str, HostRegulation] = {}
    _selected: str | None = None

    def on_resize(self) -> None:
        if self._hosts is not None:
            self.show_hosts(self._hosts)

    def compose(self) -> ComposeResult:
        with Vertical(id="lines"):
            yield Static(Text("connecting…", style=render.STYLE_DIM), id="hosts")
            yield Static("", id="regulation")
        yield Static(mode_text(ApplyMode.LIVE), id="mode")
        yield Static("READ-ONLY", id="readonly")

    def show_hosts(self, hosts: list[HostSnapshot]) -> None:
        self._hosts = hosts
        compact = self.size.width < COMPACT_BELOW
        if len(hosts) > HOST_LINES_MAX:
            lines = [fleet_text(hosts, compact)]
        else:
            labels = host_labels(hosts)
            lines = [host_text(h, compact, labels[h.uri]) for h in hosts]
            if len(hosts) > 1:
                lines.append(fleet_text(hosts, compact))
        content = Text("\n").join(lines) if lines else Text("connecting…", style="dim")
        update_if_changed(self.query_one("#hosts", Static), content)
        self._show_regulation()

    def show_regulation(
        self, regulation: Mapping[str, HostRegulation], selected: str | None = None
    ) -> None:
        """The regulator's line (host URI -> its state): the `selected` host's (a URI: the
        selected guest's host), else the first one's, and a count of the others."""
        self._regulation, self._selected = regulation, selected
        self._show_regulation()

    def _show_regulation(self) -> None:
        regulation = self._regulation
        # Names only when the line names a host (several of them): this runs every tick.
        labels = host_labels(self._hosts or []) if len(regulation) > 1 else {}
        line = regulation_text(regulation, labels, self._selected, self.size.width < COMPACT_BELOW)
        widget = self.query_one("#regulation", Static)
        widget.set_class(line is not None, "-shown")
        update_if_changed(widget, line if line is not None else "")

    def show_mode(self, mode: ApplyMode, readonly: bool) -> None:
        update_if_changed(self.query_one("#mode", Static), mode_text(mode))
        self.set_class(readonly, "-readonly")
