"""Building and running the app: from libvirt URIs, or from a Fleet factory (tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from balloon_tui.tui.app import BalloonApp
from balloon_tui.tui.fleetlink import FleetFactory, FleetLike, fleet_factory


def create_app(
    source: Sequence[str | None] | FleetFactory,
    *,
    readonly: bool = False,
    refresh: float = 2.0,
    show_host: bool | None = None,
    fleet_class: Callable[..., FleetLike] | None = None,
    fleet_options: dict[str, Any] | None = None,
    **app_options: Any,
) -> BalloonApp:
    """The one way to build the app: from libvirt URIs, or from a Fleet factory (tests).

    From URIs, the Fleet is `fleet_class` (default balloon_tui.virt.fleet.Fleet) built with
    `readonly`, `refresh` and `fleet_options` (audit=..., prompt=...). A factory is called
    as factory(on_snapshot, on_write) and decides all that itself. `app_options` go to
    BalloonApp (floor=..., history_window=..., log_clock=..., clock=...).
    """
    if callable(source):
        factory = source
        hosts = 1
    else:
        uris = list(source) or [None]
        factory = fleet_factory(
            uris,
            readonly=readonly,
            refresh=refresh,
            fleet_class=fleet_class,
            **(fleet_options or {}),
        )
        hosts = len(uris)
    return BalloonApp(
        factory, show_host=hosts > 1 if show_host is None else show_host, **app_options
    )


def run_app(
    uris: Sequence[str | None],
    readonly: bool = False,
    refresh: float = 2.0,
    mouse: bool = True,
    *,
    audit: Any = None,
    prompt: Any = None,
    fleet_class: Callable[..., FleetLike] | None = None,
    **app_options: Any,
) -> int:
    """Run the TUI until the operator quits; the CLI's entry point. Returns an exit code.

    `audit` and `prompt` go to the Fleet (left out when None); `app_options` to BalloonApp.
    """
    fleet_options = {k: v for k, v in (("audit", audit), ("prompt", prompt)) if v is not None}
    app = create_app(
        uris,
        readonly=readonly,
        refresh=refresh,
        fleet_class=fleet_class,
        fleet_options=fleet_options,
        **app_options,
    )
    app.run(mouse=mouse)
    return app.return_code or 0
