"""All connections at once: per host, one poller thread and one writer thread.

A slow or dead host never delays the others. Polls are chained (the next one starts
`interval` seconds after the previous finished) and woken early by events or writes;
missed wake-ups collapse into one fetch. Writes are coalesced per domain.

A lost connection (a failed poll, or libvirt's close callback: end of file or keepalive
timeout) is reported as DISCONNECTED with the reason, then reopened: at once after a
close callback, then after 1, 2, 4, 8 and at most 10 s between tries. The poller thread owns
its connection and closes it when it ends; a thread stuck in a call to a frozen host is a
daemon and never holds up Fleet.stop.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import libvirt

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.balloonknobs import KnobsLook, KnobsQuery, KnobsRequest, KnobsResult
from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult
from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.core.targets import STALL_SECONDS, TargetBook
from balloon_tui.core.writes import TargetRequest, WriteResult, WriteSlot
from balloon_tui.virt.balloon_settings import read_knobs, write_knobs
from balloon_tui.virt.connection import AUTH_SKIPPED, ConnectError, CredentialPrompt, DeferredPrompt
from balloon_tui.virt.errors import describe
from balloon_tui.virt.session import HostSession
from balloon_tui.virt.target_writer import refuse

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0
# How often connect_all looks whether the hosts still opening all wait on a question.
CONNECT_POLL_SECONDS = 0.05
# A fetch slower than this marks the host "slow" (the operator sees the latency too).
SLOW_FETCH_SECONDS = 1.0

SnapshotCallback = Callable[[HostSnapshot], None]
WriteCallback = Callable[[WriteResult], None]


def backoff_seconds(failures: int) -> float:
    """The wait before the next try after `failures` failed ones in a row: 1, 2, 4, 8, 10."""
    if failures <= 0:
        return 0.0
    return min(FIRST_BACKOFF_SECONDS * 2.0 ** min(failures - 1, 16), MAX_BACKOFF_SECONDS)


def _unexpected(exc: Exception) -> str:
    return f"unexpected error while connecting: {type(exc).__name__}: {exc}"


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
        # Per guest and device (`TargetRequest.slot`): a balloon target never replaces a
        # virtio-mem request of the same guest, nor one device another.
        self._queued: dict[WriteSlot, TargetRequest] = {}
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()
        self._unsent: list[tuple[TargetRequest, str]] = []
        self._lost = threading.Event()
        self._lost_reason = ""
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
    @property
    def polling(self) -> bool:
        return self._threads[0].is_alive()

    def _connection_lost(self, reason: str) -> None:
        """libvirt's close callback (any thread): wake the poller to reconnect."""
        self._lost_reason = reason
        self._lost.set()
        self._wake.set()

    def _emit_status(self, status: HostStatus, error: str | None) -> None:
        base = self._last or HostSnapshot(uri=self.session.uri, status=status)
        self.on_snapshot(replace(base, status=status, error=error, taken_at=time.time()))

    def _poll_loop(self) -> None:
        try:
            self._poll_until_stopped()
        finally:
            self.session.close()

    def _poll_until_stopped(self) -> None:
        failures = 0  # failed opens and polls since the last good poll
        self._emit_status(HostStatus.CONNECTING, None)
        while not self._stop.is_set():
            if self._lost.is_set() and self.session.connected:
                self.session.close()
                self._emit_status(HostStatus.DISCONNECTED, f"connection lost: {self._lost_reason}")
            if not self.session.connected:
                if self._stop.wait(backoff_seconds(failures)):
                    return
                self._lost.clear()
                try:
                    self.session.open()
                except ConnectError as exc:
                    failures += 1
                    if exc.cancelled:
                        # The operator skipped the credentials: no asking again and again;
                        # only a refresh (or a stop) tries again.
                        # "authentication skipped" is the status word; a refused host key
                        # is said as such.
                        reason = None if exc.reason == AUTH_SKIPPED else exc.reason
                        self._emit_status(HostStatus.SKIPPED, reason)
                        self._wake.clear()
                        if not self._stop.is_set():  # stop() sets _stop before _wake
                            self._wake.wait()
                        failures = 0
                        continue
                    self._emit_status(HostStatus.DISCONNECTED, exc.reason)
                    continue
                except Exception as exc:  # a bug, not a host problem: say so, never die
                    failures += 1
                    self._emit_status(HostStatus.DISCONNECTED, _unexpected(exc))
                    continue
                if self._stop.is_set():
                    return
            self._wake.clear()
            try:
                snapshot = self.session.poll()
            except libvirt.libvirtError as exc:
                failures += 1
                self.session.close()
                # "client socket is closed" says less than the close callback's reason.
                lost = self._lost.is_set()
                reason = f"connection lost: {self._lost_reason}" if lost else describe(exc)
                self._emit_status(HostStatus.DISCONNECTED, reason)
                continue
            failures = 0
            if (snapshot.fetch_seconds or 0) > SLOW_FETCH_SECONDS:
                snapshot = replace(snapshot, status=HostStatus.SLOW)
            self._last = snapshot
            self.on_snapshot(snapshot)
            self._wake.wait(self.interval)

    # -- writing ------------------------------------------------------------------------
    def request(self, request: TargetRequest) -> None:
        with self._queue_lock:
            # A newer request replaces one still queued for the same domain: last wins.
            replaced = self._queued.get(request.slot)
            if replaced is not None:
                self._unsent.append((replaced, "superseded by a newer target before it was sent"))
            self._queued[request.slot] = request
            self._queue_lock.notify()

    def call(self, job: Callable[[], None]) -> None:
        """Run `job` on this host's writer thread (other writes, e.g. a stats period)."""
        with self._queue_lock:
            self._jobs.append(job)
            self._queue_lock.notify()

    def _audit_unsent(self) -> None:
        """Requests that never reach libvirt are attempts too: the audit log says so."""
        with self._queue_lock:
            unsent, self._unsent = self._unsent, []
        for request, why in unsent:
            refuse(self.session.audit, request, why)

    def _write_loop(self) -> None:
        while True:
            self._audit_unsent()
            request: TargetRequest | None = None
            job: Callable[[], None] | None = None
            with self._queue_lock:
                while not (self._queued or self._jobs or self._unsent or self._stop.is_set()):
                    self._queue_lock.wait()
                stopping = self._stop.is_set()
                if stopping:
                    self._unsent += [
                        (r, "not sent: balloon-tui was closing") for r in self._queued.values()
                    ]
                    self._queued.clear()
                elif self._jobs:
                    job = self._jobs.popleft()
                elif self._queued:
                    request = self._queued.pop(next(iter(self._queued)))
            if stopping:
                self._audit_unsent()
                return
            if job is not None:
                try:
                    job()
                except Exception:  # pragma: no cover - jobs never raise; the writes must go on
                    pass
            elif request is not None:
                self.on_write(self.session.set_target(request))
            if job is not None or request is not None:
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
        ask_later: bool = False,
    ) -> None:
        """`ask_later`: hosts that ask for credentials before the app has a prompt wait for
        it (`use_prompt`) instead of failing (the CLI opens before the UI exists)."""
        self.readonly = readonly
        self.deferred = DeferredPrompt() if ask_later and prompt is None else None
        if self.deferred is not None:
            prompt = self.deferred
        self.targets = TargetBook()
        self.on_write = on_write
        self.audit = audit
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

    def connect_all(self, timeout: float | None = None) -> dict[str, ConnectError]:
        """Open every connection now, in parallel; blocking (the CLI calls it before the UI).

        With `timeout`, hosts that have not answered by then are left to their pollers (the
        open goes on; the host shows "connecting"): one dead host must not hold up the rest.
        Nor does a host waiting on a question (`ask_later`): the app asks it.
        """
        errors: dict[str, ConnectError] = {}

        def open_one(worker: HostWorker) -> None:
            try:
                worker.session.open()
            except ConnectError as exc:
                errors[worker.session.uri] = exc
            except Exception as exc:  # a bug, not a host problem: report it as the host's
                uri = worker.session.uri
                errors[uri] = ConnectError(uri, _unexpected(exc))

        threads = [
            threading.Thread(target=open_one, args=(w,), daemon=True) for w in self.workers.values()
        ]
        for thread in threads:
            thread.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        uris = [w.session.uri for w in self.workers.values()]
        while True:
            busy = [uri for uri, thread in zip(uris, threads, strict=True) if thread.is_alive()]
            if not busy:
                break
            if self.deferred is not None and set(busy) <= self.deferred.waiting():
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            time.sleep(CONNECT_POLL_SECONDS if left is None else min(CONNECT_POLL_SECONDS, left))
        return dict(errors)

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Returns within `timeout` seconds, also when a host is frozen mid-call.

        Each poller closes its own connection as it ends. One stuck in a call to a frozen
        host (until keepalive ends the call) is left behind: its threads are daemons.
        """
        if self.deferred is not None:
            self.deferred.close()  # a question nobody will answer now: the open gives up
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            worker.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers.values():
            if not worker.polling:  # opened by connect_all but never started, or finished
                worker.session.close()

    def refresh(self) -> None:
        for worker in self.workers.values():
            worker.refresh()

    def request_target(self, request: TargetRequest) -> None:
        # Read-only refusals go through the session too, so the attempt is audited.
        worker = self._worker_for(request.host_uri)
        if worker is None:
            self.on_write(refuse(self.audit, request, f"unknown host {request.host_uri}"))
            return
        worker.request(request)

    def arm_stats(
        self, request: StatsPeriodRequest, done: Callable[[StatsPeriodResult], None]
    ) -> None:
        """Set a live stats period on the host's writer thread; `done` gets the result there."""
        worker = self._worker_for(request.host_uri)
        if worker is None:
            done(StatsPeriodResult(request, False, f"unknown host {request.host_uri}"))
            return
        session = worker.session
        worker.call(lambda: done(session.arm_stats(request)))

    def set_policy(self, request: PolicyRequest, done: Callable[[PolicyResult], None]) -> None:
        """Store a guest's regulator policy on the host's writer thread (audited there);
        `done` gets the result on that thread, and the poller reads the policy back."""
        worker = self._worker_for(request.host_uri)
        if worker is None:
            done(PolicyResult(request, False, f"unknown host {request.host_uri}"))
            return
        session = worker.session
        worker.call(lambda: done(session.set_policy(request)))

    def read_knobs(self, query: KnobsQuery, done: Callable[[KnobsLook], None]) -> None:
        """Read a guest's balloon settings (live and config) on the host's writer thread."""
        worker = self._worker_for(query.host_uri)
        if worker is None:
            done(KnobsLook(query, False, f"unknown host {query.host_uri}"))
            return
        session = worker.session
        worker.call(lambda: done(session.locked(lambda s, c: read_knobs(s, c, query))))

    def set_knobs(self, request: KnobsRequest, done: Callable[[KnobsResult], None]) -> None:
        """Store a guest's balloon settings on the host's writer thread (audited there)."""
        worker = self._worker_for(request.host_uri)
        if worker is None:
            done(KnobsResult(request, False, f"unknown host {request.host_uri}"))
            return
        session = worker.session
        worker.call(lambda: done(session.locked(lambda s, c: write_knobs(s, c, request))))

    def use_prompt(self, prompt: CredentialPrompt) -> None:
        """Ask for credentials with `prompt` (the app's dialog) where none was given."""
        if self.deferred is not None and not self.deferred.attached:
            self.deferred.attach(prompt)
            return
        for worker in self.workers.values():
            if worker.session.prompt is None:
                worker.session.prompt = prompt

    def _worker_for(self, uri: str) -> HostWorker | None:
        worker = self.workers.get(uri)
        if worker is not None:
            return worker
        # A default URI is renamed to the real one on first open.
        return next((w for w in self.workers.values() if w.session.uri == uri), None)
