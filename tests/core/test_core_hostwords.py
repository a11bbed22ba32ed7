"""The host's memory and KSM in words: every value the driver did not give says "unknown"."""

from __future__ import annotations

from balloon_tui.core.hostwords import cache_kib, ksm_line, ksm_saved_kib, node_memory_line
from balloon_tui.core.model import KsmState, NodeMemory

MIB = 1024


def test_known_values_are_sizes():
    memory = NodeMemory(16 * 1024 * MIB, 8 * 1024 * MIB, 32 * MIB, 1024 * MIB)
    assert node_memory_line(memory) == (
        "host memory: total 16.0 GiB · free 8.00 GiB · buffers 32.0 MiB · cached 1.00 GiB"
    )
    assert cache_kib(memory) == 1056 * MIB


def test_missing_values_are_unknown_never_zero():
    memory = NodeMemory(total_kib=1024 * MIB, free_kib=0)
    assert node_memory_line(memory) == (
        "host memory: total 1.00 GiB · free 0 KiB · buffers unknown · cached unknown"
    )
    assert cache_kib(memory) is None
    assert node_memory_line(None) == "host memory: unknown (this driver does not report it)"


def test_ksm_says_what_it_saves_and_from_what():
    ksm = KsmState(pages_shared=1200, pages_sharing=25600, full_scans=3, page_size_kib=4)
    assert ksm_line(ksm) == (
        "KSM: saves 100 MiB · 1,200 pages shared by 25,600 more · 4 KiB pages · 3 full scans"
    )
    assert ksm_saved_kib(ksm) == 100 * MIB


def test_ksm_unknowns():
    assert ksm_line(None) == "KSM: unknown (this driver does not report it)"
    assert ksm_saved_kib(None) is None
    assert ksm_line(KsmState(pages_sharing=5)) == (
        "KSM: saves unknown · unknown pages shared by 5 more · unknown pages · unknown full scans"
    )
