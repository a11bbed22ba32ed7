"""`--once`: print every connection's snapshot as a table or JSON, for scripts and bug reports.

The table shows names as the TUI does (`visible`: controls escaped, never markup: every cell
is a `Text`, which Rich does not parse); the JSON keeps libvirt's exact strings.

Each host gets the regulator's plan from this one snapshot (its reasons say "from one
sample, not damped"), with the same budgets as the app (`--budget`, config.toml).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from balloon_tui.core.display import visible
from balloon_tui.core.hostwords import host_memory_lines
from balloon_tui.core.model import (
    VIRTIO_MEM_MARK,
    DomainSnapshot,
    FleetSnapshot,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.regulator import HostPlan
from balloon_tui.core.regulator_feed import RegulatorFeed, no_plan_note, plan_for
from balloon_tui.core.regulator_settings import DEFAULT_OPTIONS, Budget, RegulatorOptions
from balloon_tui.core.regulator_words import Proposal
from balloon_tui.core.sizes import format_compact


@dataclasses.dataclass(frozen=True, slots=True)
class HostPlanning:
    """The regulator's word on one host of the report: its plan, or why there is none."""

    budget: Budget
    plan: HostPlan | None
    note: str | None = None  # why there is no plan


def plan_hosts(
    fleet: FleetSnapshot, options: RegulatorOptions, now: float
) -> dict[str, HostPlanning]:
    """One round per host on this one snapshot: no history, so nothing is damped."""
    feed = RegulatorFeed(options.settings)
    plans = {}
    for host in fleet.hosts:
        budget = options.budgets.for_host(host.uri)
        if host.status not in (HostStatus.OK, HostStatus.SLOW):
            plans[host.uri] = HostPlanning(budget, None, f"host {host.status.word}")
            continue
        feed.add(host)
        plan = plan_for(feed, host, budget, now)
        plans[host.uri] = HostPlanning(budget, plan, None if plan else no_plan_note(budget))
    return plans


def _plan_json(planning: HostPlanning) -> dict[str, Any]:
    plan = planning.plan
    numbers = None
    if plan is not None:
        numbers = {
            "budget_kib": plan.budget_kib,
            "actual_kib": plan.actual_kib,
            "need_kib": plan.need_kib,
            "change_kib": plan.change_kib,
            "short_kib": plan.short_kib,
            "summary": plan.summary,
        }
    return {"budget": planning.budget.text, "plan": numbers, "plan_note": planning.note}


def _proposal_json(proposal: Proposal | None) -> dict[str, Any] | None:
    if proposal is None:
        return None
    return {
        "target_kib": proposal.target_kib,
        "reason": proposal.reason,
        "need_kib": proposal.need_kib,
        "not_responding": proposal.not_responding,
        "pressure": proposal.pressure,
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Derived fields (init=False, like a domain's key) repeat what is already there.
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def snapshot_json(fleet: FleetSnapshot, options: RegulatorOptions = DEFAULT_OPTIONS) -> str:
    now = time.time()
    plans = plan_hosts(fleet, options, now)
    hosts = []
    for host in fleet.hosts:
        host_data = _plain(host)
        planning = plans[host.uri]
        host_data.update(_plan_json(planning))
        if host.ksm is not None:  # derived, as a domain's "derived": pages sharing x page size
            host_data["ksm"]["saved_kib"] = host.ksm.saved_kib
        for domain, data in zip(host.domains, host_data["domains"], strict=True):
            # The name for them: `{alias, node, block_kib, size_kib, requested_kib,
            # current_kib}` each, in XML order (current_kib null when libvirt gave none).
            data["virtio_mem"] = data.pop("memory_devices")
            plan = planning.plan
            data["proposal"] = _proposal_json(plan.get(domain.key) if plan else None)
            data["derived"] = {
                "used_kib": domain.used_kib,
                "pending": domain.pending,
                "stats_age_seconds": domain.stats_age(now),
                "stats_stale": domain.stats_stale(now),
                # what a balloon target can reach: boot + plugged virtio-mem (the maximum
                # without devices)
                "balloon_ceiling_kib": domain.balloon_ceiling_kib,
            }
        hosts.append(host_data)
    return json.dumps({"hosts": hosts}, indent=2, sort_keys=True)


def virtio_mem_cell(domain: DomainSnapshot) -> str:
    """`⊞ virtio-mem 1.00 GiB/8.00 GiB`: plugged of the devices' size (`?` when libvirt
    gave no `<current>`); `…` while a device moves toward what was requested."""
    devices = domain.memory_devices
    size = format_compact(sum(m.size_kib for m in devices))
    if any(m.current_kib is None for m in devices):
        plugged = "?"
    else:
        plugged = format_compact(sum(m.current_kib or 0 for m in devices))
    moving = "…" if any(m.pending for m in devices) else ""
    return f"{VIRTIO_MEM_MARK} virtio-mem {plugged}/{size}{moving}"


def _proposal_cell(proposal: Proposal | None, actual_kib: int) -> str:
    if proposal is None or proposal.target_kib is None:
        return "–"
    arrow = "↓" if proposal.target_kib < actual_kib else "↑"
    return f"{arrow} {format_compact(proposal.target_kib)}"


def _plan_lines(host: HostSnapshot, planning: HostPlanning) -> list[Text]:
    """The host's budget and plan, then each proposal's reason."""
    plan = planning.plan
    head = f"regulator ({planning.budget.text}): "
    if plan is None:
        return [Text(head + (planning.note or ""))]
    lines = [Text(head + plan.summary)]
    for d in host.domains:
        proposal = plan.get(d.key)
        if proposal is not None and proposal.target_kib is not None:
            lines.append(Text(f"  {visible(d.name)}: {proposal.reason}"))
    return lines


def print_table(
    fleet: FleetSnapshot, console: Console, options: RegulatorOptions = DEFAULT_OPTIONS
) -> None:
    plans = plan_hosts(fleet, options, time.time())
    for host in fleet.hosts:
        planning = plans[host.uri]
        title = Text(
            f"{visible(host.label)} ({visible(host.uri)}) — RAM "
            f"{format_compact(host.memory_total_kib)}, "
            f"free {format_compact(host.memory_free_kib)}, {host.status.word}"
        )
        table = Table(title=title, title_justify="left", box=None, pad_edge=False)
        columns = (
            "name",
            "state",
            "max",
            "target",
            "actual",
            "used",
            "proposal",
            "balloon",
            "note",
        )
        for column in columns:
            justify: JustifyMethod = (
                "right" if column in ("max", "target", "actual", "used", "proposal") else "left"
            )
            table.add_column(column, justify=justify)
        for d in host.domains:
            note = d.progress.message or ("pending" if d.pending else "")
            if d.target_outside:
                note = "changed outside"
            balloon = d.device.model
            if d.device.present:
                balloon += f" {d.device.stats_period}s" if d.device.stats_period else " no-stats"
            if d.memory_devices:
                balloon += f" {virtio_mem_cell(d)}"
            table.add_row(
                *(
                    Text(visible(cell))
                    for cell in (
                        d.name,
                        f"{d.state.symbol} {d.state.word}",
                        format_compact(d.maximum_kib),
                        format_compact(d.target_kib),
                        format_compact(d.actual_kib),
                        format_compact(d.used_kib),
                        _proposal_cell(
                            planning.plan.get(d.key) if planning.plan else None, d.actual_kib
                        ),
                        balloon,
                        note,
                    )
                )
            )
        console.print(table)
        for words in host_memory_lines(host):
            console.print(Text(words))
        for line in _plan_lines(host, planning):
            console.print(line)
        console.print()


def run_once(
    uris: list[str | None],
    readonly: bool,
    as_json: bool,
    options: RegulatorOptions,
    fail: Callable[[str], int],
    wait: float,
) -> int:
    """`--once`: connect to every host (`wait` seconds at most), poll each once, print."""
    from balloon_tui.virt.fleet import Fleet

    fleet = Fleet(uris, readonly=readonly, on_snapshot=lambda _s: None, on_write=lambda _r: None)
    errors = fleet.connect_all(timeout=wait)
    silent = [w.session.uri for w in fleet.workers.values() if not w.session.connected]
    for error in errors.values():
        fail(str(error))
    for uri in silent:
        if uri not in errors:
            fail(f"cannot open {uri}: no answer within {wait:.0f} s")
    if errors or silent:
        return 2
    hosts = [w.session.poll() for w in fleet.workers.values()]
    fleet.stop()
    snapshot = FleetSnapshot(tuple(hosts))
    if as_json:
        print(snapshot_json(snapshot, options))
    else:
        # Piped output (scripts, bug reports) is not cut to 80 columns.
        width = None if sys.stdout.isatty() else 200
        print_table(snapshot, Console(highlight=False, width=width), options)
    return 0
