"""One libvirt connection: a poll builds a HostSnapshot, a write sets a balloon target.

Blocking by design: callers are the Fleet's poller and writer threads (or tests).
"""

from __future__ import annotations

import contextlib
import operator
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, TypeVar

import libvirt

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.guestpolicy import NO_POLICY, PolicyRead, PolicyRequest, PolicyResult
from balloon_tui.core.model import (
    BalloonDevice,
    DomainSnapshot,
    DomainState,
    GuestStats,
    HostSnapshot,
    HostStatus,
)
from balloon_tui.core.statsperiod import (
    StatsPeriodRequest,
    StatsPeriodResult,
    period_looks_changed,
)
from balloon_tui.core.targets import STALL_SECONDS, ConvergenceTracker, TargetBook
from balloon_tui.core.writes import TargetRequest, WriteResult
from balloon_tui.virt import domainxml, metadata
from balloon_tui.virt.connection import (
    ConnectError,
    CredentialPrompt,
    display_uri,
    open_connection,
)
from balloon_tui.virt.errors import code_of, describe
from balloon_tui.virt.events import register_domain_events
from balloon_tui.virt.guest_stats import guest_stats
from balloon_tui.virt.hostmemory import HostMemoryReader
from balloon_tui.virt.memfollow import MemoryDevices
from balloon_tui.virt.policy_writer import write_policy
from balloon_tui.virt.stats_period import arm_stats
from balloon_tui.virt.target_writer import refuse, write_target
from balloon_tui.virt.vmem_writer import write_device

__all__ = ["ConnectError", "HostSession", "refuse"]

_STATS_FLAGS = libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_STATE
_BY_NAME = operator.attrgetter("name")
T = TypeVar("T")


class HostSession:
    def __init__(
        self,
        uri: str | None,
        *,
        readonly: bool = False,
        targets: TargetBook | None = None,
        stall_seconds: float = STALL_SECONDS,
        prompt: CredentialPrompt | None = None,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.requested_uri = uri
        self.uri = display_uri(uri)
        self.readonly = readonly
        self.targets = targets if targets is not None else TargetBook()
        self.prompt = prompt
        self.audit = audit
        self.clock = clock
        self.on_event: Callable[[], None] = lambda: None
        self.on_close: Callable[[str], None] = lambda _reason: None
        self._tracker = ConvergenceTracker(stall_seconds)
        self._conn: libvirt.virConnect | None = None
        self._lock = threading.Lock()
        # One libvirt call at a time on our connection (poller and writer take turns).
        # libvirt 9.0's client mishandles a keepalive timeout with two calls in flight on
        # one connection: one call never returns, the close callback never fires, and the
        # process crashes (SIGSEGV) once the host answers again. Calls are ~1 ms apiece.
        self._calls = threading.RLock()
        self._devices: dict[str, tuple[DomainState, BalloonDevice]] = {}
        self._memory = MemoryDevices()  # virtio-mem devices, read with the XML
        # uuid -> why the target its metadata remembers was not adopted (shown in the panel)
        self._ignored: dict[str, str] = {}
        # uuid -> the policy its metadata holds, checked; read with the XML (any state: a
        # shut-off guest's XML is its config, where its policy is kept)
        self._policies: dict[str, PolicyRead] = {}
        self._open_lock = threading.Lock()
        self._opens_finished = 0
        self._open_failure: ConnectError | None = None
        # What libvirt said of each domain last tick: unchanged words, unchanged snapshot.
        self._seen: dict[str, tuple[tuple[Any, ...], DomainSnapshot]] = {}
        self._targets_seen = -1  # TargetBook.version at the last poll
        self._period_checked: dict[str, Any] = {}  # uuid -> stats update the XML was read for
        self._dirty: set[str] = set()
        self._callback_ids: list[int] = []
        self._hostname = ""
        self._memory_total_kib: int | None = None
        self._host_memory = HostMemoryReader()

    # -- connection -------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._conn is not None

    def open(self) -> None:
        """Connect; a second caller (the poller, while the CLI's open still waits on a host
        that does not answer) waits for the first instead of opening a second connection."""
        finished = self._opens_finished
        with self._open_lock:
            if self._conn is not None:
                return
            if self._opens_finished != finished and self._open_failure is not None:
                # The open we waited for failed: its answer (a skipped log-in, a refused
                # host key) is ours too; opening again would ask the operator again.
                raise self._open_failure
            try:
                self._open()
                self._open_failure = None
            except ConnectError as exc:
                self._open_failure = exc
                raise
            finally:
                self._opens_finished += 1

    def _open(self) -> None:
        conn = open_connection(self.requested_uri, self.readonly, self.prompt)
        if self.requested_uri is None and self.uri == display_uri(None):
            try:
                self.uri = conn.getURI()  # keys must name the real host from the first open on
            except libvirt.libvirtError as exc:  # the daemon went away right after the open
                with contextlib.suppress(libvirt.libvirtError):
                    conn.close()
                raise ConnectError(self.uri, describe(exc), code_of(exc)) from None
        try:
            self._hostname = conn.getHostname()
        except libvirt.libvirtError:
            self._hostname = socket.gethostname() if self.uri.startswith("test") else ""
        try:
            self._memory_total_kib = int(conn.getInfo()[1]) * 1024
        except libvirt.libvirtError:
            self._memory_total_kib = None
        self._host_memory.reset(conn)
        self._register_events(conn)
        with self._lock:
            self._devices.clear()
            self._ignored.clear()  # the metadata is read again, with the device
            self._policies.clear()
            self._memory.clear()
            self._seen.clear()  # a new connection reads every domain's XML again
            self._conn = conn

    def _register_events(self, conn: libvirt.virConnect) -> None:
        def changed(uuid: str) -> None:
            with self._lock:
                self._dirty.add(uuid)
            self.on_event()

        def closed(reason: str) -> None:
            if self._conn is conn:  # else an old connection, already replaced: not news
                self.on_close(reason)

        self._callback_ids, self._memory.events = register_domain_events(
            conn, changed, self.on_event, closed
        )

    def close(self) -> None:
        with self._calls:
            with self._lock:
                conn, self._conn = self._conn, None
            if conn is None:
                return
            for callback_id in self._callback_ids:
                with contextlib.suppress(libvirt.libvirtError):
                    conn.domainEventDeregisterAny(callback_id)
            with contextlib.suppress(libvirt.libvirtError):
                conn.unregisterCloseCallback()
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    def connection(self) -> libvirt.virConnect:
        conn = self._conn
        if conn is None:
            raise libvirt.libvirtError("not connected")
        return conn

    # -- reading ----------------------------------------------------------------------
    def poll(self) -> HostSnapshot:
        """One tick: one getAllDomainStats call (plus fallbacks for drivers that lack it).

        Raises libvirt.libvirtError when the connection is broken; the caller reconnects.
        """
        with self._calls:
            return self._poll(self.connection())

    def _poll(self, conn: libvirt.virConnect) -> HostSnapshot:
        started = time.perf_counter()
        records = conn.getAllDomainStats(_STATS_FLAGS)
        free_kib: int | None
        try:
            # No real host has exactly nothing free; the test driver says 0 for "unknown".
            free_kib = int(conn.getFreeMemory()) // 1024 or None
        except libvirt.libvirtError:
            free_kib = None
        node_memory, ksm = self._host_memory.read(conn)
        now = self.clock()
        domains = []
        seen: dict[str, tuple[tuple[Any, ...], DomainSnapshot]] = {}
        targets_version = self.targets.version
        targets_moved = targets_version != self._targets_seen
        for dom, values in records:
            try:
                uuid = dom.UUIDString()
                raw, snapshot = self._look(dom, values, uuid, targets_moved, now)
                if snapshot is None:
                    snapshot = self._domain_snapshot(dom, uuid, raw, now)
                    last = self._seen.get(uuid)
                    if last is not None and last[1] == snapshot:
                        # The very same object for an unchanged domain: the app's per-tick
                        # diff then compares by identity instead of field by field.
                        snapshot = last[1]
                seen[uuid] = (raw, snapshot)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    continue  # vanished between the list and the look: next tick is right
                raise
            domains.append(snapshot)
        if seen.keys() != self._seen.keys():  # domains came or went: forget the gone
            self._tracker.forget_missing({(self.uri, uuid) for uuid in seen})
            books: tuple[dict[str, Any], ...] = (self._devices, self._ignored, self._policies)
            with self._lock:
                for book in (self._period_checked, *books):
                    for uuid in [u for u in book if u not in seen]:
                        del book[uuid]
                self._memory.forget_missing(seen)
        self._seen = seen
        self._targets_seen = targets_version
        domains.sort(key=_BY_NAME)
        return HostSnapshot(
            uri=self.uri,
            status=HostStatus.OK,
            hostname=self._hostname,
            memory_total_kib=self._memory_total_kib,
            memory_free_kib=free_kib,
            domains=tuple(domains),
            taken_at=now,
            fetch_seconds=time.perf_counter() - started,
            readonly=self.readonly,
            node_memory=node_memory,
            ksm=ksm,
        )

    def _look(
        self,
        dom: libvirt.virDomain,
        values: dict[str, Any],
        uuid: str,
        targets_moved: bool,
        now: float,
    ) -> tuple[tuple[Any, ...], DomainSnapshot | None]:
        """Everything libvirt says of one domain this tick, as comparable values; and last
        tick's snapshot when nothing it was built from can have changed: libvirt's words,
        the XML (no event marked it), and no target of ours to follow.

        Runs for every domain on every tick: plain reads, no locks (a set or dict lookup is
        atomic; a mark or a target that lands just after the look is seen next tick)."""
        # A guest with virtio-mem devices: their `<current>` moves with no mark of its own.
        dirty = uuid in self._dirty or self._memory.follows(uuid)
        if "balloon.current" in values:
            raw: tuple[Any, ...] = (values,)
            if not dirty and self._period_moved(uuid, values, now):
                dirty = True
                with self._lock:
                    self._dirty.add(uuid)  # the period changed outside: read the XML again
        else:
            # The test driver has no balloon group in getAllDomainStats.
            info = dom.info()[:3]  # state, max, actual; not the CPU time, which always moves
            state = DomainState.from_code(info[0])
            device = self.device(dom, uuid, state)
            memory = None
            # Real guests report stats only while a stats period is set; mirror that.
            if state.is_active and device.present and device.stats_period > 0:
                try:
                    memory = dom.memoryStats()
                except libvirt.libvirtError:
                    pass  # no stats this tick: shown as such
            raw = (values, info, device, memory)
        last = self._seen.get(uuid)
        if (
            last is None
            or dirty
            or last[0] != raw
            or last[1].target_kib is not None
            or (targets_moved and self.targets.peek((self.uri, uuid)) is not None)
            or dom.name() != last[1].name
        ):
            return raw, None
        return raw, last[1]

    def _period_moved(self, uuid: str, values: dict[str, Any], now: float) -> bool:
        """Once per stats update that says the stats period is not what the XML said."""
        cached = self._devices.get(uuid)
        update = values.get("balloon.last-update")
        if cached is None or not period_looks_changed(cached[1].stats_period, update, now):
            self._period_checked.pop(uuid, None)
            return False
        if self._period_checked.get(uuid) == update:
            return False  # already read the XML for this one
        self._period_checked[uuid] = update
        return True

    def _domain_snapshot(
        self, dom: libvirt.virDomain, uuid: str, raw: tuple[Any, ...], now: float
    ) -> DomainSnapshot:
        key = (self.uri, uuid)
        values = raw[0]
        if len(raw) == 1:
            state = DomainState.from_code(int(values.get("state.state", 0)))
            actual = int(values["balloon.current"])
            maximum = int(values.get("balloon.maximum", actual))
            device = self.device(dom, uuid, state)
            stats = guest_stats(values, "balloon.", now)
        else:
            info, device, memory = raw[1], raw[2], raw[3]
            state = DomainState.from_code(int(info[0]))
            maximum, actual = int(info[1]), int(info[2])
            stats = guest_stats(memory, "", now) if memory is not None else GuestStats()
        record = self.targets.get(key)
        progress, outside = self._tracker.observe(key, record, actual, state, now)
        policy = self._policies.get(uuid, NO_POLICY)
        return DomainSnapshot(
            host_uri=self.uri,
            uuid=uuid,
            name=dom.name(),
            state=state,
            maximum_kib=maximum,
            actual_kib=actual,
            target_kib=record.target_kib if record else None,
            target_outside=outside,
            stats=stats,
            device=device,
            progress=progress,
            # Once a target of ours is set, it replaced the ignored one in the metadata too.
            metadata_note=self._ignored.get(uuid) if record is None else None,
            policy=policy.policy,
            policy_note=policy.note,
            memory_devices=self._memory.of(uuid),
        )

    def device(self, dom: libvirt.virDomain, uuid: str, state: DomainState) -> BalloonDevice:
        """Balloon facts from the XML, re-read only when the domain is new or changed."""
        cached = self._devices.get(uuid)
        followed = self._memory.follows(uuid)  # its live virtio-mem `<current>`: every tick
        if cached is not None and cached[0] is state and uuid not in self._dirty and not followed:
            return cached[1]  # every domain, every tick: no lock (the lookups are atomic)
        with self._lock:
            cached = self._devices.get(uuid)
            dirty = uuid in self._dirty
            self._dirty.discard(uuid)
        if cached is not None and cached[0] == state and not dirty and not followed:
            return cached[1]
        try:
            root = domainxml.parse(dom.XMLDesc(0))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise
            root = None
        device = domainxml.balloon_device(root)
        policy = metadata.checked_policy(root) if root is not None else None
        memory = domainxml.memory_devices(root) if root is not None else None
        if cached is None and state.is_active:  # live metadata: only a running guest has it
            self._remember(uuid, root)
        with self._lock:
            self._devices[uuid] = (state, device)
            if policy is not None:  # an XML that could not be read keeps what was known
                self._policies[uuid] = policy
            if memory is not None:
                self._memory.keep(uuid, memory)
        return device

    def _remember(self, uuid: str, root: ET.Element | None) -> None:
        """First sight: adopt the target the live metadata remembers, if this guest can have
        it; otherwise keep the reason, for the panel."""
        remembered = metadata.checked(root)
        if remembered.target_kib is not None:
            self.targets.adopt((self.uri, uuid), remembered.target_kib, self.clock())
        with self._lock:
            if remembered.note is None:
                self._ignored.pop(uuid, None)
            else:
                self._ignored[uuid] = remembered.note

    # -- writing ----------------------------------------------------------------------
    def set_target(self, request: TargetRequest) -> WriteResult:
        """Never raises: every outcome is a WriteResult with a message for the operator.

        Every attempt is audited, also one refused because the host is disconnected.
        """
        with self._calls:
            conn = self._conn
            if conn is None:
                return refuse(self.audit, request, f"{self.uri} is disconnected")
            try:
                if request.device is not None:
                    return write_device(self, conn, request)
                return write_target(self, conn, request)
            except libvirt.libvirtError as exc:  # pragma: no cover - write_target catches its own
                return WriteResult(request, False, describe(exc), code_of(exc))

    # -- guest stats ------------------------------------------------------------------
    def mark_changed(self, uuid: str) -> None:
        """Read the domain's balloon facts from its XML again on the next poll."""
        with self._lock:
            self._dirty.add(uuid)
        self.on_event()

    def set_policy(self, request: PolicyRequest) -> PolicyResult:
        """Store a guest's regulator policy in its metadata. Never raises; audited."""
        with self._calls:
            return write_policy(self, self._conn, request)

    def locked(self, job: Callable[[HostSession, libvirt.virConnect | None], T]) -> T:
        """Run `job` with this session's connection, one libvirt call at a time."""
        with self._calls:
            return job(self, self._conn)

    def arm_stats(self, request: StatsPeriodRequest) -> StatsPeriodResult:
        """Set a live stats period so the guest reports what it uses. Never raises; audited."""
        with self._calls:
            return arm_stats(self, self._conn, request)
