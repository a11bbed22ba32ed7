"""libvirt's process-wide set-up: quiet errors and one event loop on a daemon thread.

The default event implementation on its own thread (not libvirtaio) survives the many
asyncio loops that tests start, and lets keepalive detect a frozen daemon.
"""

from __future__ import annotations

import threading

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
