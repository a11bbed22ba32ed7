"""`D`: the balloon device's own settings for the selected guest; the one caller of
`Fleet.read_knobs` and `Fleet.set_knobs`.

Intent: key -> `edit` (read-only, the guest bound by `WriteGuard.intended_row`) -> the Fleet
reads its settings, live and in its config (`KnobsRead`) -> `opened`: the same intent checks
for the guest as it was at the key -> the dialog -> the confirmation -> `submit`: the checks
once more -> Fleet writer thread (checked again, audited) -> `KnobsStored` -> `stored`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from balloon_tui.core.balloonknobs import KnobsLook, KnobsQuery, KnobsRequest, KnobsResult
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.tui.messages import KnobsRead, KnobsStored
from balloon_tui.tui.screens.knobs import BalloonKnobsScreen, ConfirmKnobsScreen

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen

LABEL = "balloon settings"  # the log's word for this way of writing


def _refused_readonly(screen: MainScreen) -> bool:
    if not screen.readonly:
        return False
    screen.not_written(
        "read-only: balloon-tui does not change balloon settings here",
        f"refused ({LABEL}): the connection is read-only",
    )
    return True


def _bound(screen: MainScreen, seen: DomainSnapshot) -> DomainSnapshot | None:
    """The guest the operator pressed `D` on, if it is still that guest (said why if not)."""
    row = screen.writes.intended_row(seen.key, seen, LABEL, what=LABEL)
    return None if row is None else row.domain


def edit(screen: MainScreen) -> None:
    """Ask the Fleet for the selected guest's settings; the dialog opens with its answer."""
    if _refused_readonly(screen):
        return
    selected = screen.selected_row()  # None: it said "select a guest first"
    if selected is None:
        return
    row = screen.writes.intended_row(selected.domain.key, None, LABEL, what=LABEL)
    if row is None:
        return
    seen = row.domain
    if not seen.device.present:
        screen.writes.not_written(seen.name, f"{seen.name} has no balloon device", LABEL, LABEL)
        return
    if any(isinstance(s, BalloonKnobsScreen | ConfirmKnobsScreen) for s in screen.app.screen_stack):
        return
    fleet = screen.fleet
    assert fleet is not None  # not read-only
    query = KnobsQuery(seen.host_uri, seen.uuid, seen.name)
    fleet.read_knobs(query, lambda look: screen.post_from_thread(KnobsRead(look, seen)))


def opened(screen: MainScreen, look: KnobsLook, seen: DomainSnapshot) -> None:
    """The Fleet read the settings (`KnobsRead`): the dialog, for the guest of the key."""
    if not look.ok:
        screen.writes.not_written(seen.name, look.message, LABEL, LABEL)
        return
    if _bound(screen, seen) is None:
        return
    if any(isinstance(s, BalloonKnobsScreen | ConfirmKnobsScreen) for s in screen.app.screen_stack):
        return  # a second `D` while the first was being read

    def answer(request: KnobsRequest | None) -> None:
        if request is not None and not screen.closing_down():
            confirm(screen, seen, request)

    screen.app.push_screen(BalloonKnobsScreen(seen, look), answer)


def confirm(screen: MainScreen, seen: DomainSnapshot, request: KnobsRequest) -> None:
    def answer(store: bool | None) -> None:
        if screen.closing_down():
            return
        if store:
            submit(screen, seen, request)
        else:
            screen.log_panel.add(f"{request.name}: balloon settings cancelled; nothing written")

    screen.app.push_screen(ConfirmKnobsScreen(request), answer)


def submit(screen: MainScreen, seen: DomainSnapshot, request: KnobsRequest) -> bool:
    """Send the confirmed `request` for the guest the dialog showed, if it is still that
    guest. True when it went out; the writer checks it once more against libvirt."""
    if _refused_readonly(screen):  # never asked in read-only; defence in depth
        return False
    if _bound(screen, seen) is None:
        return False
    fleet = screen.fleet
    assert fleet is not None
    screen.log_panel.add(f"{request.name}: storing balloon settings: {'; '.join(request.changes)}")
    fleet.set_knobs(request, lambda result: screen.post_from_thread(KnobsStored(result)))
    return True


def stored(screen: MainScreen, result: KnobsResult) -> None:
    """The Fleet's writer thread answered (`KnobsStored`)."""
    if result.ok:
        screen.log_panel.add(result.summary)
        screen.notify(result.summary, title=LABEL)
        return
    screen.log_panel.add(result.summary, "error")
    screen.notify(
        result.message,
        title=f"{result.request.name}: {LABEL} not stored",
        severity="error",
        timeout=8,
    )
