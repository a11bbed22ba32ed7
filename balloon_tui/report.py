"""`--once`: print every connection's snapshot as a table or JSON, for scripts and bug reports.

The table shows names as the TUI does (`visible`: controls escaped, never markup: every cell
is a `Text`, which Rich does not parse); the JSON keeps libvirt's exact strings.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import time
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from balloon_tui.core.display import visible
from balloon_tui.core.model import FleetSnapshot
from balloon_tui.core.sizes import format_compact


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Derived fields (init=False, like a domain's key) repeat what is already there.
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def snapshot_json(fleet: FleetSnapshot) -> str:
    now = time.time()
    hosts = []
    for host in fleet.hosts:
        host_data = _plain(host)
        for domain, data in zip(host.domains, host_data["domains"], strict=True):
            data["derived"] = {
                "used_kib": domain.used_kib,
                "pending": domain.pending,
                "stats_age_seconds": domain.stats_age(now),
                "stats_stale": domain.stats_stale(now),
            }
        hosts.append(host_data)
    return json.dumps({"hosts": hosts}, indent=2, sort_keys=True)


def print_table(fleet: FleetSnapshot, console: Console) -> None:
    for host in fleet.hosts:
        title = Text(
            f"{visible(host.label)} ({visible(host.uri)}) — RAM "
            f"{format_compact(host.memory_total_kib)}, "
            f"free {format_compact(host.memory_free_kib)}, {host.status.word}"
        )
        table = Table(title=title, title_justify="left", box=None, pad_edge=False)
        for column in ("name", "state", "max", "target", "actual", "used", "balloon", "note"):
            justify: JustifyMethod = (
                "right" if column in ("max", "target", "actual", "used") else "left"
            )
            table.add_column(column, justify=justify)
        for d in host.domains:
            note = d.progress.message or ("pending" if d.pending else "")
            if d.target_outside:
                note = "changed outside"
            balloon = d.device.model
            if d.device.present:
                balloon += f" {d.device.stats_period}s" if d.device.stats_period else " no-stats"
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
                        balloon,
                        note,
                    )
                )
            )
        console.print(table)
        console.print()
