"""All connections at once: per host, one poller thread and one writer thread.

A slow or dead host never delays the others. Polls are chained (the next one starts
`interval` seconds after the previous finished) and woken early by events or writes;
missed wake-ups collapse into one fetch. Writes are coalesced per domain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import libvirt

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.targets import STALL_SECONDS, TargetBook
from balloon_tui.core.writes import TargetRequest, WriteResult
from balloon_tui.virt.connection import ConnectError, CredentialPrompt
from balloon_tui.virt.errors import describe
from balloon_tui.virt.session import HostSession

MAX_BACKOFF_SECONDS = 10.0
# A fetch slower than this marks the host "slow" (the operator sees the latency too).
SLOW_FETCH_SECONDS = 1.0

SnapshotCallback = Callable[[HostSnapshot], None]
WriteCallback = Callable[[WriteResult], None]


class HostWorker:
    def __init__(
        self,
        session: HostSession,
        interval: float,
        on_snapshot: SnapshotCallback,
        on_write: WriteCallback,
    ) -> None:
        self.session = session
        self.interval = interval
        self.on_snapshot = on_snapshot
        self.on_write = on_write
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._queue_lock = threading.Condition()
        self._queued: dict[tuple[str, str], TargetRequest] = {}
        self._lost = threading.Event()
        self._last: HostSnapshot | None = None
        session.on_event = self._wake.set
        session.on_close = self._connection_lost
        self._threads = [
            threading.Thread(target=self._poll_loop, name=f"poll {session.uri}", daemon=True),
            threading.Thread(target=self._write_loop, name=f"write {session.uri}", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._queue_lock:
            self._queue_lock.notify_all()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(timeout)

    def refresh(self) -> None:
        self._wake.set()

    # -- polling ------------------------------------------------------------------------
    def _connection_lost(self, reason: str) -> None:
        self._lost.set()
        self._wake.set()

    def _emit_status(self, status: HostStatus, error: str | None) -> None:
        base = self._last or HostSnapshot(uri=self.session.uri, status=status)
        self.on_snapshot(replace(base, status=status, error=error, taken_at=time.time()))

    def _poll_loop(self) -> None:
        backoff = 1.0
        self._emit_status(HostStatus.CONNECTING, None)
        while not self._stop.is_set():
            if self._lost.is_set() and self.session.connected:
                self._lost.clear()
                self.session.close()
            if not self.session.connected:
                try:
                    self.session.open()
                    backoff = 1.0
                except ConnectError as exc:
                    self._emit_status(HostStatus.DISCONNECTED, exc.reason)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
            self._wake.clear()
            try:
                snapshot = self.session.poll()
            except libvirt.libvirtError as exc:
                self.session.close()
                self._emit_status(HostStatus.DISCONNECTED, describe(exc))
                continue
            if (snapshot.fetch_seconds or 0) > SLOW_FETCH_SECONDS:
                snapshot = replace(snapshot, status=HostStatus.SLOW)
            self._last = snapshot
            self.on_snapshot(snapshot)
            self._wake.wait(self.interval)

    # -- writing ------------------------------------------------------------------------
    def request(self, request: TargetRequest) -> None:
        with self._queue_lock:
            # A newer request replaces one still queued for the same domain: last wins.
            self._queued[request.key] = request
            self._queue_lock.notify()

    def _write_loop(self) -> None:
        while True:
            with self._queue_lock:
                while not self._queued and not self._stop.is_set():
                    self._queue_lock.wait()
                if self._stop.is_set():
                    return
                key = next(iter(self._queued))
                request = self._queued.pop(key)
            result = self.session.set_target(request)
            self.on_write(result)
            self._wake.set()


class Fleet:
    """The app's one handle on libvirt. Every method returns at once."""

    def __init__(
        self,
        uris: Sequence[str | None],
        *,
        readonly: bool = False,
        interval: float = 2.0,
        on_snapshot: SnapshotCallback = lambda _snapshot: None,
        on_write: WriteCallback = lambda _result: None,
        audit: AuditLog | None = None,
        prompt: CredentialPrompt | None = None,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self.readonly = readonly
        self.targets = TargetBook()
        self.on_write = on_write
        self.workers: dict[str, HostWorker] = {}
        for uri in uris or [None]:
            session = HostSession(
                uri,
                readonly=readonly,
                targets=self.targets,
                stall_seconds=stall_seconds,
                prompt=prompt,
                audit=audit,
            )
            self.workers[session.uri] = HostWorker(session, interval, on_snapshot, on_write)

    def bind(self, on_snapshot: SnapshotCallback, on_write: WriteCallback) -> Fleet:
        """Point the callbacks elsewhere (the CLI opens connections before the UI exists)."""
        self.on_write = on_write
        for worker in self.workers.values():
            worker.on_snapshot = on_snapshot
            worker.on_write = on_write
        return self

    @property
    def uris(self) -> list[str]:
        return list(self.workers)

    def connect_all(self) -> dict[str, ConnectError]:
        """Open every connection now, in parallel; blocking (the CLI calls it before the UI)."""
        errors: dict[str, ConnectError] = {}

        def open_one(worker: HostWorker) -> None:
            try:
                worker.session.open()
            except ConnectError as exc:
                errors[worker.session.uri] = exc

        threads = [
            threading.Thread(target=open_one, args=(w,), daemon=True) for w in self.workers.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers.values():
            worker.session.close()

    def refresh(self) -> None:
        for worker in self.workers.values():
            worker.refresh()

    def request_target(self, request: TargetRequest) -> None:
        # Read-only refusals go through the session too, so the attempt is audited.
        worker = self._worker_for(request.host_uri)
        if worker is None:
            self.on_write(WriteResult.refused(request, f"unknown host {request.host_uri}"))
            return
        worker.request(request)

    def _worker_for(self, uri: str) -> HostWorker | None:
        worker = self.workers.get(uri)
        if worker is not None:
            return worker
        # A default URI is renamed to the real one on first open.
        return next((w for w in self.workers.values() if w.session.uri == uri), None)
