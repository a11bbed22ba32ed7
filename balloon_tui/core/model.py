"""The immutable snapshot the poller hands to the app: hosts, domains, balloons.

All memory in KiB. Derived values (used, stats age, pending) live here, in one place.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

DomainKey = tuple[str, str]  # (host URI, domain UUID)


class DomainState(enum.IntEnum):
    """libvirt's virDomainState, with words and symbols that do not rely on colour."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7

    @property
    def word(self) -> str:
        return _STATE_WORDS[self]

    @property
    def symbol(self) -> str:
        return _STATE_SYMBOLS[self]

    @property
    def is_active(self) -> bool:
        """The guest has live memory (a balloon that can move, or is frozen mid-move)."""
        return self not in INACTIVE_STATES

    @classmethod
    def from_code(cls, code: int) -> DomainState:
        # A dict, not cls(code): this runs for every domain on every tick.
        return _STATES_BY_CODE.get(code, cls.NOSTATE)


_STATES_BY_CODE = {state.value: state for state in DomainState}
INACTIVE_STATES = frozenset({DomainState.SHUTOFF, DomainState.NOSTATE, DomainState.CRASHED})
_STATE_WORDS = {
    DomainState.NOSTATE: "unknown",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "blocked",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "stopping",
    DomainState.SHUTOFF: "shut off",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "suspended",
}
_STATE_SYMBOLS = {
    DomainState.NOSTATE: "?",
    DomainState.RUNNING: "▶",
    DomainState.BLOCKED: "■",
    DomainState.PAUSED: "⏸",
    DomainState.SHUTDOWN: "↓",
    DomainState.SHUTOFF: "○",
    DomainState.CRASHED: "✖",
    DomainState.PMSUSPENDED: "z",
}


@dataclass(frozen=True, slots=True)
class BalloonDevice:
    """What the domain XML says about the balloon; read when a domain appears or changes."""

    model: str = "none"
    autodeflate: bool = False
    free_page_reporting: bool = False
    stats_period: int = 0

    @property
    def present(self) -> bool:
        return self.model != "none"


NO_BALLOON = BalloonDevice()


@dataclass(frozen=True, slots=True)
class GuestStats:
    """The guest's own view, from the balloon driver. Every field is optional."""

    unused: int | None = None
    available: int | None = None
    usable: int | None = None
    disk_caches: int | None = None
    rss: int | None = None
    swap_in: int | None = None
    swap_out: int | None = None
    major_fault: int | None = None
    minor_fault: int | None = None
    last_update: int | None = None

    @property
    def empty(self) -> bool:
        return self.unused is None and self.usable is None and self.available is None


NO_STATS = GuestStats()


class Convergence(enum.Enum):
    """Where the balloon is relative to the target we asked for."""

    NONE = "none"  # no target known for this run: nothing to converge to
    CONVERGED = "converged"
    PENDING = "pending"
    STALLED = "stalled"


# Tolerance: QEMU reports actual in pages and guests round; 1 MiB is "there".
CONVERGED_TOLERANCE_KIB = 1024


@dataclass(frozen=True, slots=True)
class Progress:
    """How a balloon move is going, computed by core.convergence from successive ticks."""

    state: Convergence = Convergence.NONE
    start_kib: int | None = None
    since: float | None = None  # when the move was requested (monotonic-free epoch seconds)
    last_moved: float | None = None
    message: str = ""

    @property
    def is_moving(self) -> bool:
        return self.state in (Convergence.PENDING, Convergence.STALLED)


NO_PROGRESS = Progress()


# The sign of a guest with virtio-mem devices, in the TUI and in `--once` (a squared plus:
# memory plugged in), like the states' symbols above: it reads without colour.
VIRTIO_MEM_MARK = "⊞"


@dataclass(frozen=True, slots=True)
class MemoryDevice:
    """A virtio-mem device: memory plugged into the guest in blocks (libvirt 7.9+,
    `<memory model='virtio-mem'>`). Sizes in KiB. libvirt's `<memory>` and the balloon's
    maximum already count `size_kib` whole, plugged or not; the balloon's actual is boot
    memory + what is plugged here − the balloon."""

    alias: str  # libvirt's alias ("virtiomem0"): how a write names the device
    node: int | None  # the guest NUMA node it plugs into
    block_kib: int  # requests are whole blocks
    size_kib: int  # the most it can plug
    requested_kib: int  # what was asked (`<requested>`)
    current_kib: int | None = None  # what the guest has plugged (`<current>`, live XML only)

    @property
    def pending(self) -> bool:
        return self.current_kib is not None and self.current_kib != self.requested_kib


DEFAULT_SHARES = 1000


@dataclass(frozen=True, slots=True)
class GuestPolicy:
    """The regulator's bounds for one guest, from its metadata (`core.guestpolicy` checks
    them there): a proposal stays within [min, max]; shares weigh what is left of a host's
    budget."""

    min_kib: int | None = None  # None: the safety floor is the only lower bound
    max_kib: int | None = None  # None: the guest's maximum
    shares: int = DEFAULT_SHARES  # 0: the regulator leaves this guest alone


DEFAULT_GUEST_POLICY = GuestPolicy()


@dataclass(frozen=True, slots=True)
class DomainSnapshot:
    host_uri: str
    uuid: str
    name: str
    state: DomainState
    maximum_kib: int
    actual_kib: int
    target_kib: int | None = None  # what we (or another balloon-tui) asked for; None = unknown
    target_outside: bool = False  # actual moved to a value nobody here asked for
    stats: GuestStats = NO_STATS
    device: BalloonDevice = NO_BALLOON
    progress: Progress = NO_PROGRESS
    error: str | None = None
    # Why the target remembered in the domain's metadata was not taken (out of range,
    # malformed): that metadata is foreign text, and the target shows as unknown.
    metadata_note: str | None = None
    policy: GuestPolicy = DEFAULT_GUEST_POLICY
    # Why the policy in the metadata was not taken (malformed, out of range): the defaults hold.
    policy_note: str | None = None
    memory_devices: tuple[MemoryDevice, ...] = ()  # virtio-mem devices, in XML order
    # (host URI, UUID): made once here, read for every guest on every tick by the UI.
    key: DomainKey = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.host_uri, self.uuid))

    @property
    def effective_target_kib(self) -> int:
        return self.actual_kib if self.target_kib is None else self.target_kib

    @property
    def unplugged_kib(self) -> int:
        """virtio-mem memory the maximum counts but the running guest has not plugged (size
        − current; a device whose current is unknown, or a guest not running, counts 0)."""
        if not self.memory_devices or not self.state.is_active:
            return 0
        return sum(
            m.size_kib - m.current_kib for m in self.memory_devices if m.current_kib is not None
        )

    @property
    def balloon_ceiling_kib(self) -> int:
        """The most a balloon target can give the guest: boot memory + plugged. libvirt
        takes targets up to the maximum (boot + whole device sizes), but QEMU deflates the
        balloon at most to boot + plugged, so a target above this would never be reached
        (docs/virtio-mem.md). The maximum for a guest without virtio-mem devices; never
        below what the guest has now (the XML and the balloon are read at different times)."""
        unplugged = self.unplugged_kib
        if not unplugged:
            return self.maximum_kib
        return min(self.maximum_kib, max(self.actual_kib, self.maximum_kib - unplugged))

    @property
    def used_kib(self) -> int | None:
        """Memory the guest needs: actual − usable (MemAvailable), else actual − unused."""
        if self.stats.usable is not None:
            return max(0, self.actual_kib - self.stats.usable)
        if self.stats.unused is not None:
            return max(0, self.actual_kib - self.stats.unused)
        return None

    @property
    def pending(self) -> bool:
        return self.target_kib is not None and (
            abs(self.target_kib - self.actual_kib) > CONVERGED_TOLERANCE_KIB
        )

    @property
    def inflating(self) -> bool:
        """The balloon grows: the guest is giving memory back to the host."""
        return self.pending and self.effective_target_kib < self.actual_kib

    def stats_age(self, now: float) -> float | None:
        if self.stats.last_update is None:
            return None
        return max(0.0, now - self.stats.last_update)

    def stats_stale(self, now: float) -> bool:
        """Older than three stats periods (or no period at all while stats exist)."""
        age = self.stats_age(now)
        if age is None:
            return False
        if self.device.stats_period <= 0:
            return True
        return age > 3 * self.device.stats_period


class HostStatus(enum.Enum):
    CONNECTING = "connecting"
    OK = "ok"
    SLOW = "slow"
    DISCONNECTED = "disconnected"
    SKIPPED = "skipped"  # the operator declined to give credentials: not retried by itself

    @property
    def word(self) -> str:
        if self is HostStatus.DISCONNECTED:
            return "disconnected — retrying"
        if self is HostStatus.SKIPPED:
            return "disconnected — authentication skipped"
        return str(self.value)


class MemorySums(NamedTuple):
    """Over the running guests (those with live memory): how many, and their sums."""

    running: int
    maximum_kib: int
    target_kib: int  # the effective target: the actual size where none was asked
    actual_kib: int
    usable_kib: int  # MemAvailable of the guests that report stats


def memory_sums(domains: Iterable[DomainSnapshot]) -> MemorySums:
    # One pass: the status bar sums the whole fleet on every tick.
    running = maximum = target = actual = usable = 0
    for d in domains:
        if d.state in INACTIVE_STATES:
            continue
        running += 1
        maximum += d.maximum_kib
        actual += d.actual_kib
        target += d.actual_kib if d.target_kib is None else d.target_kib
        usable += d.stats.usable or 0
    return MemorySums(running, maximum, target, actual, usable)


@dataclass(frozen=True, slots=True)
class NodeMemory:
    """The host's own memory (`virNodeGetMemoryStats`), in KiB; None: the driver did not say."""

    total_kib: int | None = None
    free_kib: int | None = None
    buffers_kib: int | None = None
    cached_kib: int | None = None


@dataclass(frozen=True, slots=True)
class KsmState:
    """Kernel same-page merging on the host (`virNodeGetMemoryParameters`, its `shm_*`
    values); None: the driver did not say. libvirt does not tell whether KSM runs."""

    pages_shared: int | None = None  # merged pages kept once
    pages_sharing: int | None = None  # the places that share them: the pages saved
    pages_unshared: int | None = None
    pages_volatile: int | None = None
    full_scans: int | None = None
    page_size_kib: int | None = None  # the host's base page (KSM merges only those)

    @property
    def saved_kib(self) -> int | None:
        if self.pages_sharing is None or self.page_size_kib is None:
            return None
        return self.pages_sharing * self.page_size_kib


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    uri: str
    status: HostStatus
    hostname: str = ""
    memory_total_kib: int | None = None
    memory_free_kib: int | None = None
    domains: tuple[DomainSnapshot, ...] = ()
    taken_at: float = 0.0
    fetch_seconds: float | None = None
    readonly: bool = False
    error: str | None = None
    node_memory: NodeMemory | None = None  # None: the driver cannot tell (the test driver)
    ksm: KsmState | None = None

    @property
    def label(self) -> str:
        return self.hostname or self.uri

    @property
    def sum_actual_kib(self) -> int:
        return memory_sums(self.domains).actual_kib

    @property
    def sum_maximum_kib(self) -> int:
        return memory_sums(self.domains).maximum_kib

    @property
    def sum_target_kib(self) -> int:
        return memory_sums(self.domains).target_kib

    @property
    def sum_usable_kib(self) -> int:
        return memory_sums(self.domains).usable_kib

    @property
    def overcommit(self) -> float | None:
        if not self.memory_total_kib:
            return None
        return self.sum_maximum_kib / self.memory_total_kib


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    hosts: tuple[HostSnapshot, ...] = field(default_factory=tuple)

    @property
    def domains(self) -> tuple[DomainSnapshot, ...]:
        return tuple(d for h in self.hosts for d in h.domains)

    def host(self, uri: str) -> HostSnapshot | None:
        return next((h for h in self.hosts if h.uri == uri), None)

    def domain(self, key: DomainKey) -> DomainSnapshot | None:
        host = self.host(key[0])
        if host is None:
            return None
        return next((d for d in host.domains if d.uuid == key[1]), None)
