"""The host's own memory and KSM: parsed from libvirt's answers, unknown where a driver says
nothing (the test driver supports neither call), asked at most every REFRESH_SECONDS, and a
call the driver lacks is not asked again on that connection."""

from __future__ import annotations

import libvirt
import pytest
from nodefiles import DomainSpec

from balloon_tui.core.model import KsmState, NodeMemory
from balloon_tui.virt import hostmemory
from balloon_tui.virt.hostmemory import HostMemoryReader, base_page_kib, ksm_state, node_memory

# What a real qemu:///system (libvirt 9.0, Debian 12) answered on this machine.
REAL_STATS = {"total": 24684084, "free": 22894472, "buffers": 22456, "cached": 1203420}
REAL_PARAMS = {
    "shm_pages_to_scan": 100,
    "shm_sleep_millisecs": 20,
    "shm_pages_shared": 120,
    "shm_pages_sharing": 3000,
    "shm_pages_unshared": 7,
    "shm_pages_volatile": 2,
    "shm_full_scans": 5,
    "shm_merge_across_nodes": 1,
}


def test_node_memory_takes_the_four_values_in_kib():
    assert node_memory(REAL_STATS) == NodeMemory(24684084, 22894472, 22456, 1203420)


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        ({}, None),
        ({"total": 0}, None),  # no host runs guests on nothing: unknown, not 0
        ({"total": 1024, "free": -5}, NodeMemory(1024, None, None, None)),
        ({"total": True, "free": "12", "cached": 10**30}, None),
        ({"free": 0, "buffers": 0}, NodeMemory(None, 0, 0, None)),
    ],
    ids=["empty", "zero-total", "negative", "nonsense", "zeros-are-given"],
)
def test_node_memory_keeps_unknown_and_absurd_values_out(stats, expected):
    assert node_memory(stats) == expected


def test_ksm_saves_pages_sharing_times_the_page_size():
    ksm = ksm_state(REAL_PARAMS, 4)
    assert ksm == KsmState(120, 3000, 7, 2, 5, 4)
    assert ksm is not None and ksm.saved_kib == 12000


def test_ksm_without_a_page_size_or_values_is_unknown():
    ksm = ksm_state({"shm_pages_sharing": 10}, None)
    assert ksm is not None and ksm.saved_kib is None and ksm.pages_shared is None
    assert ksm_state({"shm_pages_to_scan": 100}, 4) is None


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            "<capabilities><host><cpu><pages unit='KiB' size='4'/>"
            "<pages unit='KiB' size='2048'/></cpu></host></capabilities>",
            4,
        ),
        ("<capabilities><host><cpu><pages unit='MiB' size='2'/></cpu></host></capabilities>", 2048),
        ("<capabilities><host><cpu/></host></capabilities>", None),
        (
            "<capabilities><host><cpu><pages unit='KiB' size='-4'/></cpu></host></capabilities>",
            None,
        ),
        ("<capabilities><host><cpu><pages unit='GiB' size='1'/></cpu></host></capabilities>", None),
        ("not xml", None),
    ],
    ids=["kib", "mib", "none", "negative", "unknown-unit", "broken"],
)
def test_the_base_page_comes_first_in_the_capabilities(xml, expected):
    assert base_page_kib(xml) == expected


class FakeConn:
    """The three calls the reader makes; each raises `errors[name]` when set."""

    def __init__(self, errors: dict[str, int] | None = None) -> None:
        self.errors = errors or {}
        self.calls: list[str] = []

    def _answer(self, name: str, value: object) -> object:
        self.calls.append(name)
        code = self.errors.get(name)
        if code is not None:
            error = libvirt.libvirtError(f"{name} failed")
            error.err = (code, 0, f"{name} failed", 2, "", None, None, 0, 0)
            raise error
        return value

    def getCapabilities(self) -> object:
        return self._answer("caps", "<c><host><cpu><pages unit='KiB' size='4'/></cpu></host></c>")

    def getMemoryStats(self, cell: int, flags: int) -> object:
        assert cell == libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS
        return self._answer("stats", dict(REAL_STATS))

    def getMemoryParameters(self, flags: int) -> object:
        return self._answer("params", dict(REAL_PARAMS))


def _reader(conn: FakeConn) -> tuple[HostMemoryReader, list[float]]:
    now = [100.0]
    reader = HostMemoryReader(clock=lambda: now[0])
    reader.reset(conn)  # type: ignore[arg-type]
    return reader, now


def test_the_reader_asks_at_most_every_refresh_interval():
    conn = FakeConn()
    reader, now = _reader(conn)
    memory, ksm = reader.read(conn)  # type: ignore[arg-type]
    assert memory == node_memory(REAL_STATS) and ksm is not None and ksm.saved_kib == 12000
    now[0] += hostmemory.REFRESH_SECONDS / 2
    assert reader.read(conn) == (memory, ksm)  # type: ignore[arg-type]
    assert conn.calls == ["caps", "stats", "params"]
    now[0] += hostmemory.REFRESH_SECONDS
    reader.read(conn)  # type: ignore[arg-type]
    assert conn.calls == ["caps", "stats", "params", "stats", "params"]


def test_a_call_the_driver_lacks_is_not_asked_again_but_a_failure_is():
    conn = FakeConn({"stats": libvirt.VIR_ERR_NO_SUPPORT, "params": libvirt.VIR_ERR_INTERNAL_ERROR})
    reader, now = _reader(conn)
    assert reader.read(conn) == (None, None)  # type: ignore[arg-type]
    conn.errors = {}
    now[0] += hostmemory.REFRESH_SECONDS
    memory, ksm = reader.read(conn)  # type: ignore[arg-type]
    assert memory is None and ksm is not None  # no support stays no support on this connection
    assert conn.calls.count("stats") == 1 and conn.calls.count("params") == 2
    reader.reset(conn)  # type: ignore[arg-type]  # a new connection asks everything again
    assert reader.read(conn)[0] == node_memory(REAL_STATS)  # type: ignore[arg-type]


def test_no_page_size_means_ksm_saves_an_unknown_amount():
    conn = FakeConn({"caps": libvirt.VIR_ERR_RPC})
    reader, _now = _reader(conn)
    _memory, ksm = reader.read(conn)  # type: ignore[arg-type]
    assert ksm is not None and ksm.pages_sharing == 3000 and ksm.saved_kib is None


def test_the_test_driver_gives_neither_and_the_snapshot_says_unknown(node, sessions, monkeypatch):
    asked: list[str] = []
    for name in ("getMemoryStats", "getMemoryParameters"):
        original = getattr(libvirt.virConnect, name)

        def spy(self, *args, _original=original, _name=name):  # type: ignore[no-untyped-def]
            asked.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(libvirt.virConnect, name, spy)
    monkeypatch.setattr(hostmemory, "REFRESH_SECONDS", 0.0)
    session = sessions(node([DomainSpec("alpha")]))
    for _ in range(3):
        snapshot = session.poll()
        assert snapshot.node_memory is None and snapshot.ksm is None
    # VIR_ERR_NO_SUPPORT: asked once per call on this connection, not on every poll.
    assert asked == ["getMemoryStats", "getMemoryParameters"]
