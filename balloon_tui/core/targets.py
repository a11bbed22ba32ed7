"""Targets the operator asked for, and how the balloon follows them.

libvirt never reports the requested target of a running domain, so the app keeps it here.
The writer records a target when libvirt accepted it; the poller reads it on every tick and
turns successive actual sizes into a `Progress` (pending, converged, stalled).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from balloon_tui.core.display import shown
from balloon_tui.core.model import (
    CONVERGED_TOLERANCE_KIB,
    Convergence,
    DomainKey,
    DomainState,
    Progress,
)
from balloon_tui.core.sizes import MINIMUM_KIB, format_compact

STALL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class TargetRecord:
    target_kib: int
    requested_at: float
    actual_at_request: int | None  # None when adopted from metadata written by an earlier run


class TargetBook:
    """Thread-safe: written by writer threads, read by poller threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[DomainKey, TargetRecord] = {}
        # Bumped by every change: a poller that saw the same version last tick knows that no
        # domain got a record since, without looking each one up.
        self.version = 0

    def record(self, key: DomainKey, target_kib: int, actual_kib: int | None, now: float) -> None:
        with self._lock:
            self._records[key] = TargetRecord(target_kib, now, actual_kib)
            self.version += 1

    def adopt(self, key: DomainKey, target_kib: int, now: float) -> None:
        """Take a target remembered elsewhere (domain metadata) unless we have a newer one."""
        with self._lock:
            if key not in self._records:
                self._records[key] = TargetRecord(target_kib, now, None)
                self.version += 1

    def get(self, key: DomainKey) -> TargetRecord | None:
        with self._lock:
            return self._records.get(key)

    def peek(self, key: DomainKey) -> TargetRecord | None:
        """`get` without the lock, for a poller's per-domain fast path: one dict lookup is
        atomic, so the answer is either the record before a concurrent write or after it."""
        return self._records.get(key)

    def forget(self, key: DomainKey) -> None:
        with self._lock:
            if self._records.pop(key, None) is not None:
                self.version += 1


@dataclass(frozen=True, slots=True)
class Remembered:
    """A target found in a domain's metadata, checked: one to adopt, or why there is none."""

    target_kib: int | None = None
    note: str | None = None  # one line for the operator: what was found, and why it is ignored


NOTHING_REMEMBERED = Remembered()

# Cells of foreign metadata text quoted in a note: enough to recognise it, never a flood.
QUOTED_CELLS = 24
# 2**53 KiB (no machine has more) has 16 digits; a longer number is not parsed at all.
_MOST_DIGITS = 16


def check_remembered(found: Sequence[str | None], maximum_kib: int | None) -> Remembered:
    """Adopt a remembered target only if this guest can have it.

    Any client of libvirtd can write the metadata, so its value is a claim, not a fact: a
    target above the maximum would turn a shrink step into a grow, one below the minimum a
    grow into a "shrink". `found` holds the `kib` text of each element in our namespace
    (None for an element that is not a plain `<target kib=…/>`).
    """
    if not found:
        return NOTHING_REMEMBERED
    if len(found) > 1:
        return Remembered(
            note=f"{len(found)} remembered targets in metadata ignored: there should be one"
        )
    text = found[0]
    if text is None:
        return Remembered(
            note="remembered target in metadata ignored: not a <target kib='…'/> element"
        )
    if not (text.isascii() and text.isdigit()):
        return Remembered(
            note=f"remembered target '{shown(text, QUOTED_CELLS)}' in metadata "
            "ignored: not a size in KiB"
        )
    if maximum_kib is None:
        return Remembered(
            note="remembered target in metadata ignored: the guest's maximum is unknown"
        )
    if len(text.lstrip("0")) > _MOST_DIGITS:
        return Remembered(
            note=f"remembered target {shown(text, QUOTED_CELLS)} KiB in metadata "
            f"ignored: above the maximum {format_compact(maximum_kib)}"
        )
    value = int(text)
    if value > maximum_kib:
        return Remembered(
            note=f"remembered target {format_compact(value)} in metadata "
            f"ignored: above the maximum {format_compact(maximum_kib)}"
        )
    minimum = max(1, min(MINIMUM_KIB, maximum_kib))
    if value < minimum:
        return Remembered(
            note=f"remembered target {format_compact(value)} in metadata "
            f"ignored: below the minimum {format_compact(minimum)}"
        )
    return Remembered(target_kib=value)


@dataclass(slots=True)
class _Seen:
    actual_kib: int
    last_moved: float
    requested_at: float | None
    converged_once: bool
    outside: bool


class ConvergenceTracker:
    """Per host; used from that host's poller thread only."""

    def __init__(self, stall_seconds: float = STALL_SECONDS) -> None:
        self.stall_seconds = stall_seconds
        self._seen: dict[DomainKey, _Seen] = {}

    def observe(
        self,
        key: DomainKey,
        record: TargetRecord | None,
        actual_kib: int,
        state: DomainState,
        now: float,
    ) -> tuple[Progress, bool]:
        """Return (progress, changed_outside) for this tick."""
        seen = self._seen.get(key)
        requested_at = record.requested_at if record else None
        if seen is None:
            seen = _Seen(actual_kib, now, requested_at, False, False)
            self._seen[key] = seen
        moved = abs(actual_kib - seen.actual_kib) > CONVERGED_TOLERANCE_KIB
        previous_distance = (record.target_kib - seen.actual_kib) if record else 0
        new_request = requested_at != seen.requested_at
        if new_request:
            seen.requested_at = requested_at
            seen.converged_once = False
            seen.outside = False
            seen.last_moved = max(seen.last_moved, now if requested_at is None else requested_at)
        if moved:
            seen.last_moved = now
        seen.actual_kib = actual_kib if moved else seen.actual_kib

        if record is None:
            # Nobody here asked: any movement of a running balloon came from outside.
            if moved and state.is_active:
                seen.outside = True
            return Progress(), seen.outside

        distance = record.target_kib - actual_kib
        if abs(distance) <= CONVERGED_TOLERANCE_KIB:
            seen.converged_once = True
            seen.outside = False
            return Progress(
                Convergence.CONVERGED, record.actual_at_request, requested_at, seen.last_moved
            ), False
        if moved and (seen.converged_once or abs(distance) > abs(previous_distance)):
            # It went away from our target without a request of ours: another client.
            seen.outside = True
        if seen.outside:
            return Progress(
                Convergence.NONE,
                record.actual_at_request,
                requested_at,
                seen.last_moved,
                "changed outside balloon-tui",
            ), True
        if not state.is_active or state is DomainState.PAUSED:
            note = "paused: the balloon moves when the guest runs" if state.is_active else ""
            return Progress(
                Convergence.PENDING, record.actual_at_request, requested_at, seen.last_moved, note
            ), False
        still_for = now - seen.last_moved
        if still_for >= self.stall_seconds:
            return Progress(
                Convergence.STALLED,
                record.actual_at_request,
                requested_at,
                seen.last_moved,
                self._stall_message(record, actual_kib, still_for),
            ), False
        return Progress(
            Convergence.PENDING, record.actual_at_request, requested_at, seen.last_moved
        ), False

    def forget_missing(self, present: set[DomainKey]) -> None:
        for key in [k for k in self._seen if k not in present]:
            del self._seen[key]

    @staticmethod
    def _stall_message(record: TargetRecord, actual_kib: int, still_for: float) -> str:
        short = format_compact(abs(record.target_kib - actual_kib))
        never_moved = (
            record.actual_at_request is not None
            and abs(actual_kib - record.actual_at_request) <= CONVERGED_TOLERANCE_KIB
        )
        if never_moved:
            return (
                f"stalled: no balloon movement in {still_for:.0f} s — the guest's "
                "virtio_balloon driver is not responding (not loaded?)"
            )
        if record.target_kib < actual_kib:
            return (
                f"stalled {short} above the target for {still_for:.0f} s — the guest "
                "cannot give more memory"
            )
        return (
            f"stalled {short} below the target for {still_for:.0f} s — the guest "
            "is not taking the memory back"
        )
