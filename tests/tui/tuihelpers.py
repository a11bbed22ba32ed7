"""Helpers for the TUI tests: build the app, wait for it, find rows; a fake Fleet."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.widgets import Static

from balloon_tui.core.model import (
    BalloonDevice,
    DomainSnapshot,
    DomainState,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.safety import Assessment, SafetyPolicy
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.core.writes import TargetRequest, WriteResult
from balloon_tui.tui import BalloonApp, create_app
from balloon_tui.tui.fleetlink import FleetLike
from balloon_tui.tui.render import row_key


class TrustingPolicy(SafetyPolicy):
    """Never asks: for tests about how a target travels (mouse, coalescing), not the floor.

    The floor itself is the default one (it is still drawn); tests/tui/test_tui_safety*.py
    cover the confirmation.
    """

    __slots__ = ()

    def assess(
        self, domain: DomainSnapshot, target_kib: int, now: float, current_kib: int | None = None
    ) -> Assessment:
        return Assessment(False, self.floor_kib(domain, now), "")


TRUSTING = TrustingPolicy()


def make_app(uris: Sequence[str], **options: Any) -> BalloonApp:
    """The app as the CLI builds it, on real test-driver connections, quiet log times."""
    options.setdefault("refresh", 0.2)
    options.setdefault("log_clock", False)
    return create_app(list(uris), **options)


async def until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll `predicate` on the event loop until it holds; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def ready(app: BalloonApp, pilot: Any) -> None:
    await asyncio.wait_for(app.ready.wait(), 10)
    await pilot.pause()


async def select(app: BalloonApp, pilot: Any, name: str) -> tuple[str, str]:
    """Move the table cursor to the guest called `name`; return its key."""
    row = next(r for r in app.rows.values() if r.domain.name == name)
    index = app.table.get_row_index(row_key(*row.domain.key))
    app.table.move_cursor(row=index)
    await pilot.pause()
    assert app.selected == row.domain.key
    return row.domain.key


def on_track(slider: Any, x: int) -> tuple[int, int]:
    """The slider's widget offset of track column x (the slider has a cell of padding)."""
    return (x + slider.gutter.left, 0)


def shown_target(app: BalloonApp, name: str) -> str:
    """The target cell of `name` as the table shows it (plain text)."""
    row = next(r for r in app.rows.values() if r.domain.name == name)
    return app.table.get_cell(row_key(*row.domain.key), "target").plain.strip()


class FakeFleet(FleetLike):
    """A Fleet stand-in for hand-built snapshots: records requests, emits what it is told."""

    def __init__(
        self,
        on_snapshot: Callable[[HostSnapshot], None],
        on_write: Callable[[WriteResult], None],
        *,
        readonly: bool = False,
        uris: Sequence[str] = ("test:///fake.xml",),
    ) -> None:
        self.on_snapshot = on_snapshot
        self.on_write = on_write
        self.readonly = readonly
        self._uris = list(uris)
        self.requests: list[TargetRequest] = []
        self.stats_requests: list[StatsPeriodRequest] = []
        self.stats_done: list[Callable[[StatsPeriodResult], None]] = []
        self.started = False
        self.stopped = False
        self.refreshed = 0

    @property
    def uris(self) -> list[str]:
        return self._uris

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def refresh(self) -> None:
        self.refreshed += 1

    def request_target(self, request: TargetRequest) -> None:
        self.requests.append(request)

    def arm_stats(
        self, request: StatsPeriodRequest, done: Callable[[StatsPeriodResult], None]
    ) -> None:
        """Recorded; the test answers with `stats_done[i](StatsPeriodResult(...))`."""
        self.stats_requests.append(request)
        self.stats_done.append(done)


@dataclass
class FakeFleetHandle:
    """What a test holds: the fleet the app built (after mount)."""

    readonly: bool = False
    uris: Sequence[str] = ("test:///fake.xml",)
    fleet: FakeFleet | None = None

    def factory(
        self, on_snapshot: Callable[[HostSnapshot], None], on_write: Callable[[WriteResult], None]
    ) -> FakeFleet:
        self.fleet = FakeFleet(on_snapshot, on_write, readonly=self.readonly, uris=self.uris)
        return self.fleet


FAKE_URI = "test:///fake.xml"


def dom(
    name: str,
    index: int,
    *,
    maximum: int = 4 * 1024 * 1024,
    actual: int | None = None,
    uri: str = FAKE_URI,
    **fields: Any,
) -> DomainSnapshot:
    """A hand-built running domain with a virtio balloon (override any field)."""
    fields.setdefault("state", DomainState.RUNNING)
    fields.setdefault("device", BalloonDevice("virtio", stats_period=2))
    return DomainSnapshot(
        host_uri=uri,
        uuid=f"00000000-0000-4000-8000-{index:012d}",
        name=name,
        maximum_kib=maximum,
        actual_kib=maximum if actual is None else actual,
        **fields,
    )


def host(
    *domains: DomainSnapshot, uri: str = FAKE_URI, taken_at: float = 1000.0, **fields: Any
) -> HostSnapshot:
    fields.setdefault("status", HostStatus.OK)
    fields.setdefault("memory_total_kib", 64 * 1024 * 1024)
    return HostSnapshot(uri=uri, domains=tuple(domains), taken_at=taken_at, **fields)


async def emit(app: BalloonApp, pilot: Any, snapshot: HostSnapshot) -> None:
    """Hand a snapshot to the app the way a poller thread does, and let it apply."""
    app.main._thread_snapshot(snapshot)
    await pilot.pause()


def table_names(app: BalloonApp) -> list[str]:
    return [app.rows[key].domain.name for key in app.table.ordered_keys]


def plain(widget: Any, width: int | None = None) -> str:
    """The text a widget renders, without styles (Rich renderables printed to a console)."""
    from rich.console import Console

    renderable = widget.content if isinstance(widget, Static) else widget.render()
    if isinstance(renderable, str):
        return renderable
    if hasattr(renderable, "plain"):
        return str(renderable.plain)
    console = Console(
        width=width or widget.size.width or 100, color_system=None, record=True, file=io.StringIO()
    )
    console.print(renderable)
    return console.export_text()
