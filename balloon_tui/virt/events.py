"""libvirt's process-wide set-up: quiet errors and one event loop on a daemon thread.

The default event implementation on its own thread (not libvirtaio) survives the many
asyncio loops that tests start, and lets keepalive detect a frozen daemon.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import libvirt

_lock = threading.Lock()
_started = False


def _ignore_error(_context: object, _error: object) -> None:
    """libvirt prints every error to stderr by default; that would corrupt the screen."""


def ensure_event_loop() -> None:
    """Idempotent; must run before the first connection is opened."""
    global _started
    with _lock:
        if _started:
            return
        libvirt.registerErrorHandler(_ignore_error, None)
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_forever, name="libvirt-events", daemon=True)
        thread.start()
        _started = True


def _run_forever() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:  # pragma: no cover - a broken impl must not end the app
            continue


CLOSE_REASONS = {1: "end of file", 2: "keepalive timeout"}


def register_domain_events(
    conn: libvirt.virConnect,
    changed: Callable[[str], None],
    moved: Callable[[], None],
    closed: Callable[[str], None],
) -> tuple[list[int], bool]:
    """Subscribe a session to what makes its next poll worth doing sooner.

    `changed(uuid)`: a domain whose XML must be read again (lifecycle, metadata, a
    virtio-mem device that moved); `moved()`: a balloon moved; `closed(reason)`: the
    connection ended. Returns the callback ids (to deregister) and whether the
    virtio-mem event is there (without it, moving devices are read on every tick).
    """

    def domain_changed(_c: object, dom: libvirt.virDomain, *_rest: object) -> None:
        changed(dom.UUIDString())

    def balloon(_c: object, _dom: object, _actual: int, _opaque: object) -> None:
        moved()

    def connection_closed(_c: object, reason: int, _opaque: object) -> None:
        closed(CLOSE_REASONS.get(reason, f"reason {reason}"))

    registrations: list[tuple[int, Callable[..., None]]] = [
        (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, domain_changed),
        (libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, balloon),
        # Someone (maybe another balloon-tui) stored a policy: read the XML again.
        (libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, domain_changed),
        # A virtio-mem `<current>` moved.
        (libvirt.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE, domain_changed),
    ]
    ids: list[int] = []
    memory_events = False
    for event_id, callback in registrations:
        try:
            ids.append(conn.domainEventRegisterAny(None, event_id, callback, None))
        except libvirt.libvirtError:
            continue  # events only speed things up; the poll is the truth
        if event_id == libvirt.VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE:
            memory_events = True
    with contextlib.suppress(libvirt.libvirtError):
        conn.registerCloseCallback(connection_closed, None)
    return ids, memory_events
