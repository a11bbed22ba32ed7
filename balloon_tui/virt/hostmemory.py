"""The host's own memory (`virNodeGetMemoryStats`) and KSM (`virNodeGetMemoryParameters`).

Two cheap per-host calls, made by the poller at most every `REFRESH_SECONDS` (events can wake
it many times a second; the host's memory does not need that). A driver that lacks a call
(the test driver: VIR_ERR_NO_SUPPORT) is not asked again on that connection. Every value a
driver does not give stays None, never 0.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import libvirt

from balloon_tui.core.model import KsmState, NodeMemory
from balloon_tui.virt.errors import code_of

REFRESH_SECONDS = 2.0
_NOT_SUPPORTED = frozenset(
    {
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
        libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
    }
)
_MOST_DIGITS = 19  # a value longer than this is no memory size any host has
_UNITS_KIB = {"b": None, "bytes": None, "kib": 1, "k": 1, "mib": 1024, "m": 1024}


def _count(values: Mapping[str, Any], key: str) -> int | None:
    """A non-negative whole number from libvirt's answer, or None (absent or nonsense)."""
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if value < 0 or len(str(value)) > _MOST_DIGITS:
        return None
    return value


def node_memory(stats: Mapping[str, Any]) -> NodeMemory | None:
    """`virNodeGetMemoryStats` (KiB) as a NodeMemory; None when it says nothing we know.
    A total of 0 is "unknown": no host that runs guests has no memory."""
    memory = NodeMemory(
        total_kib=_count(stats, "total") or None,
        free_kib=_count(stats, "free"),
        buffers_kib=_count(stats, "buffers"),
        cached_kib=_count(stats, "cached"),
    )
    return None if memory == NodeMemory() else memory


def ksm_state(params: Mapping[str, Any], page_size_kib: int | None) -> KsmState | None:
    """The `shm_*` values of `virNodeGetMemoryParameters`; None when there are none."""
    ksm = KsmState(
        pages_shared=_count(params, "shm_pages_shared"),
        pages_sharing=_count(params, "shm_pages_sharing"),
        pages_unshared=_count(params, "shm_pages_unshared"),
        pages_volatile=_count(params, "shm_pages_volatile"),
        full_scans=_count(params, "shm_full_scans"),
    )
    return None if ksm == KsmState() else replace(ksm, page_size_kib=page_size_kib)


def base_page_kib(capabilities: str) -> int | None:
    """The host's base page size from the capabilities XML: libvirt lists it first among
    `<host><cpu><pages>`. None when it is not there or not in a unit we know."""
    try:
        root = ET.fromstring(capabilities)
    except ET.ParseError:
        return None
    pages = root.find("./host/cpu/pages")
    if pages is None:
        return None
    size = (pages.get("size") or "").strip()
    factor = _UNITS_KIB.get((pages.get("unit") or "KiB").strip().lower())
    if factor is None or not (size.isascii() and size.isdigit()) or len(size) > 9:
        return None
    return int(size) * factor or None


class HostMemoryReader:
    """One per HostSession; its calls run on the poller thread, under the session's lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._page_kib: int | None = None
        self._unsupported: set[str] = set()
        self._last: tuple[NodeMemory | None, KsmState | None] = (None, None)
        self._read_at: float | None = None

    def reset(self, conn: libvirt.virConnect) -> None:
        """A new connection (maybe another daemon or driver): ask everything again."""
        self._unsupported.clear()
        self._last = (None, None)
        self._read_at = None
        try:
            self._page_kib = base_page_kib(conn.getCapabilities())
        except libvirt.libvirtError:
            self._page_kib = None

    def read(self, conn: libvirt.virConnect) -> tuple[NodeMemory | None, KsmState | None]:
        now = self.clock()
        if self._read_at is not None and now - self._read_at < REFRESH_SECONDS:
            return self._last
        self._read_at = now
        stats = self._ask(
            "stats", lambda: conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
        )
        params = self._ask("params", lambda: conn.getMemoryParameters(0))
        self._last = (
            node_memory(stats) if stats is not None else None,
            ksm_state(params, self._page_kib) if params is not None else None,
        )
        return self._last

    def _ask(self, call: str, ask: Callable[[], Any]) -> Mapping[str, Any] | None:
        if call in self._unsupported:
            return None
        try:
            answer = ask()
        except libvirt.libvirtError as exc:
            if code_of(exc) in _NOT_SUPPORTED:
                self._unsupported.add(call)
            return None  # anything else: unknown this time, asked again next time
        return answer if isinstance(answer, Mapping) else None
