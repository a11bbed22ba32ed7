"""The host's own memory and KSM in words, for the hosts screen and `--once`.

A value the driver did not give is "unknown", never 0: a host that says nothing about KSM is
not a host where KSM saves nothing.
"""

from __future__ import annotations

from balloon_tui.core.model import HostSnapshot, KsmState, NodeMemory
from balloon_tui.core.sizes import format_compact

UNKNOWN = "unknown"


def _size(kib: int | None) -> str:
    return UNKNOWN if kib is None else format_compact(kib)


def _count(pages: int | None) -> str:
    return UNKNOWN if pages is None else f"{pages:,}"


def cache_kib(memory: NodeMemory | None) -> int | None:
    """Buffers + page cache: memory the host kernel gives back when asked."""
    if memory is None or memory.buffers_kib is None or memory.cached_kib is None:
        return None
    return memory.buffers_kib + memory.cached_kib


def ksm_saved_kib(ksm: KsmState | None) -> int | None:
    return None if ksm is None else ksm.saved_kib


def node_memory_line(memory: NodeMemory | None) -> str:
    if memory is None:
        return "host memory: unknown (this driver does not report it)"
    return (
        f"host memory: total {_size(memory.total_kib)} · free {_size(memory.free_kib)} · "
        f"buffers {_size(memory.buffers_kib)} · cached {_size(memory.cached_kib)}"
    )


def ksm_line(ksm: KsmState | None) -> str:
    if ksm is None:
        return "KSM: unknown (this driver does not report it)"
    page = UNKNOWN if ksm.page_size_kib is None else format_compact(ksm.page_size_kib)
    return (
        f"KSM: saves {_size(ksm.saved_kib)} · {_count(ksm.pages_shared)} pages shared by "
        f"{_count(ksm.pages_sharing)} more · {page} pages · {_count(ksm.full_scans)} full scans"
    )


def host_memory_lines(host: HostSnapshot) -> tuple[str, str]:
    return node_memory_line(host.node_memory), ksm_line(host.ksm)
