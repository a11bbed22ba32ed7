"""`o`: edit the selected guest's regulator policy; the one caller of `Fleet.set_policy`.

Intent: key -> `edit` (read-only, the guest bound by `WriteGuard.intended_row`) -> the dialog
-> the same intent checks for the guest as it was when the dialog opened -> Fleet writer
thread (checked again, audited) -> `PolicyStored` -> `stored`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult
from balloon_tui.core.model import DomainSnapshot, GuestPolicy
from balloon_tui.core.writes import WriteSource
from balloon_tui.tui.messages import PolicyStored
from balloon_tui.tui.policytext import policy_words
from balloon_tui.tui.screens.policy import PolicyScreen

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen

LABEL = "policy"  # the log's word for this way of writing, as "key +64M" or "typed"


def _refused_readonly(screen: MainScreen) -> bool:
    if not screen.readonly:
        return False
    screen.not_written(
        "read-only: balloon-tui does not change regulator policies here",
        f"refused ({LABEL}): the connection is read-only",
    )
    return True


async def edit(screen: MainScreen) -> None:
    """Open the dialog on the selected guest; its answer is stored for that guest only."""
    if _refused_readonly(screen):
        return
    selected = screen.selected_row()  # None: it said "select a guest first"
    if selected is None:
        return
    row = screen.writes.intended_row(selected.domain.key, None, LABEL, what=LABEL)
    if row is None:  # its host is offline: it said so
        return
    seen = row.domain

    def answer(policy: GuestPolicy | None) -> None:
        if policy is not None and not screen.closing_down():
            submit(screen, seen, policy)

    # Awaited (and `o` is a priority binding): what is typed next lands in the dialog.
    await screen.app.push_screen(PolicyScreen(seen, screen.floor(row)), answer)


def submit(screen: MainScreen, seen: DomainSnapshot, policy: GuestPolicy) -> bool:
    """Send `policy` for the guest the dialog showed (`seen`), if it is still that guest.

    True when the request went out. The writer checks it once more against libvirt.
    """
    if _refused_readonly(screen):  # never asked in read-only; defence in depth
        return False
    row = screen.writes.intended_row(seen.key, seen, LABEL, what=LABEL)
    if row is None:
        return False
    now = row.domain
    words = policy_words(policy, now.maximum_kib)
    if policy == now.policy and now.policy_note is None:
        screen.notify(f"{now.name}: the policy is already {words}: nothing to store")
        return False
    fleet = screen.fleet
    assert fleet is not None  # not read-only
    request = PolicyRequest(
        now.host_uri, now.uuid, now.name, policy, now.policy, source=WriteSource.TYPED
    )
    screen.log_panel.add(f"{now.name}: storing policy {words}")
    fleet.set_policy(request, lambda result: screen.post_from_thread(PolicyStored(result, words)))
    return True


def stored(screen: MainScreen, result: PolicyResult, words: str) -> None:
    """The Fleet's writer thread answered (`PolicyStored`); `words` describe what was sent."""
    if result.ok:
        screen.regulation.write_settled(result.request.key)  # plan with it at the next poll
        screen.log_panel.add(f"{result.summary}: {words}")
        screen.notify(result.summary, title="regulator policy")
        return
    screen.log_panel.add(result.summary, "error")
    screen.notify(
        result.message,
        title=f"{result.request.name}: policy not stored",
        severity="error",
        timeout=8,
    )
