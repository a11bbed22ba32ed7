"""How the app gets a Fleet, and how thread callbacks reach the event loop.

The tui never imports libvirt: it talks to `balloon_tui.virt.fleet.Fleet` (imported lazily,
only by the default factory) through the small protocol below, so tests can also hand in
a fake.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from balloon_tui.core.balloonknobs import KnobsLook, KnobsQuery, KnobsRequest, KnobsResult
from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult
from balloon_tui.core.model import HostSnapshot
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.core.writes import TargetRequest, WriteResult

SnapshotCallback = Callable[[HostSnapshot], None]
WriteCallback = Callable[[WriteResult], None]
# libvirt's openAuth questions (credential type, prompt) -> answers, None = skipped. The
# same shape as balloon_tui.virt.connection.CredentialPrompt (not imported: it loads libvirt).
CredentialPrompt = Callable[[str, list[tuple[int, str]]], list[str] | None]


class FleetLike(Protocol):
    """Everything the UI asks of a Fleet (balloon_tui.virt.fleet.Fleet satisfies it).

    The last five are optional: a fleet without them (a test fake, a benchmark) subclasses
    this protocol and inherits the defaults, so the UI never probes with getattr.
    """

    readonly: bool

    @property
    def uris(self) -> list[str]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def refresh(self) -> None: ...

    def request_target(self, request: TargetRequest) -> None: ...

    def arm_stats(
        self, request: StatsPeriodRequest, done: Callable[[StatsPeriodResult], None]
    ) -> None:
        """Set a live stats period; `done` gets the result (on any thread)."""
        done(StatsPeriodResult(request, False, "this connection cannot arm guest stats"))

    def set_policy(self, request: PolicyRequest, done: Callable[[PolicyResult], None]) -> None:
        """Store a guest's regulator policy; `done` gets the result (on any thread)."""
        done(PolicyResult(request, False, "this connection cannot store regulator policies"))

    def read_knobs(self, query: KnobsQuery, done: Callable[[KnobsLook], None]) -> None:
        """Read a guest's balloon settings, live and in its config; `done` gets them."""
        done(KnobsLook(query, False, "this connection cannot read balloon settings"))

    def set_knobs(self, request: KnobsRequest, done: Callable[[KnobsResult], None]) -> None:
        """Store a guest's balloon settings; `done` gets the result (on any thread)."""
        done(KnobsResult(request, False, "this connection cannot store balloon settings"))

    def use_prompt(self, prompt: CredentialPrompt) -> None:
        """Ask for missing credentials with `prompt` (the app's dialog); by default the
        fleet never asks."""


FleetFactory = Callable[[SnapshotCallback, WriteCallback], FleetLike]


def fleet_factory(
    uris: Sequence[str | None],
    *,
    readonly: bool,
    refresh: float,
    fleet_class: Callable[..., FleetLike] | None = None,
    **options: Any,
) -> FleetFactory:
    """A factory for the real Fleet; `options` go to Fleet as they are (audit, prompt...)."""

    def build(on_snapshot: SnapshotCallback, on_write: WriteCallback) -> FleetLike:
        fleet_type = fleet_class
        if fleet_type is None:
            # Imported here: importing the tui must not load libvirt.
            from balloon_tui.virt.fleet import Fleet

            fleet_type = Fleet
        fleet: FleetLike = fleet_type(
            list(uris),
            readonly=readonly,
            interval=refresh,
            on_snapshot=on_snapshot,
            on_write=on_write,
            **options,
        )
        return fleet

    return build


class Inbox:
    """Latest snapshot per host, filled by poller threads, emptied by the event loop.

    `put` returns True only when the inbox was empty: the caller then wakes the app once.
    Ticks that arrive while the app is busy collapse into the newest one per host.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, HostSnapshot] = {}

    def put(self, host: HostSnapshot) -> bool:
        with self._lock:
            was_empty = not self._hosts
            self._hosts[host.uri] = host
            return was_empty

    def take(self) -> list[HostSnapshot]:
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
            return hosts
