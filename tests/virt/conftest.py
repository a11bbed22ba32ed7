"""Fixtures for the libvirt layer: node files, sessions that close, call spies."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libvirt
import pytest
from fleet_inbox import Inbox
from nodefiles import DomainSpec, write_node_file

from balloon_tui.virt.fleet import Fleet
from balloon_tui.virt.session import HostSession


@pytest.fixture
def node(tmp_path: Path) -> Callable[..., str]:
    """node(specs, host_memory_kib=...) -> a fresh test:/// URI."""
    counter = iter(range(1_000_000))

    def make(specs: Sequence[DomainSpec], **kwargs: Any) -> str:
        return write_node_file(tmp_path / f"node{next(counter)}.xml", specs, **kwargs)

    return make


@pytest.fixture
def sessions() -> Iterator[Callable[..., HostSession]]:
    """sessions(uri, **kwargs) -> an opened HostSession, closed after the test."""
    opened: list[HostSession] = []

    def make(uri: str, **kwargs: Any) -> HostSession:
        session = HostSession(uri, **kwargs)
        session.open()
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


@dataclass
class MemoryCalls:
    """Every virDomain.setMemoryFlags call: (domain name, kib, flags, accepted)."""

    calls: list[tuple[str, int, int, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempted(self, name: str | None = None) -> list[tuple[int, int]]:
        with self.lock:
            return [(k, f) for n, k, f, _ in self.calls if name is None or n == name]

    def accepted(self, name: str | None = None) -> list[tuple[int, int]]:
        with self.lock:
            return [(k, f) for n, k, f, ok in self.calls if ok and (name is None or n == name)]


@pytest.fixture
def memory_calls(monkeypatch: pytest.MonkeyPatch) -> MemoryCalls:
    spy = MemoryCalls()
    original = libvirt.virDomain.setMemoryFlags

    def recording(self: libvirt.virDomain, memory: int, flags: int = 0) -> int:
        name = self.name()
        try:
            result = original(self, memory, flags)
        except libvirt.libvirtError:
            with spy.lock:
                spy.calls.append((name, memory, flags, False))
            raise
        with spy.lock:
            spy.calls.append((name, memory, flags, True))
        return result

    monkeypatch.setattr(libvirt.virDomain, "setMemoryFlags", recording)
    return spy


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def make_fleet(inbox: Inbox) -> Iterator[Callable[..., Fleet]]:
    fleets: list[Fleet] = []

    def make(uris: list[str | None], **kwargs: object) -> Fleet:
        fleet = Fleet(uris, on_snapshot=inbox.on_snapshot, on_write=inbox.on_write, **kwargs)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.stop()
