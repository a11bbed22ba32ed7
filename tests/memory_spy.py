"""A spy on virDomain.setMemoryFlags: what reached libvirt, in order, and how many at once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import libvirt
import pytest


@dataclass
class MemoryCalls:
    """Every virDomain.setMemoryFlags call: (domain name, kib, flags, accepted).

    `delay` makes each call slow (seconds), to see coalescing; `max_in_flight` is the
    largest number of calls that were running at the same time.
    """

    delay: float = 0.0
    calls: list[tuple[str, int, int, bool]] = field(default_factory=list)
    # The same calls by domain key (connection URI, UUID): names repeat across hosts.
    keyed: list[tuple[tuple[str, str], int, int, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    max_in_flight: int = 0

    def accepted(self, name: str | None = None) -> list[tuple[int, int]]:
        with self.lock:
            return [(k, f) for n, k, f, ok in self.calls if ok and (name is None or n == name)]

    def attempted(self) -> list[tuple[str, int, int]]:
        """Every call as (domain name, kib, flags), accepted or not."""
        with self.lock:
            return [(n, k, f) for n, k, f, _ok in self.calls]

    def sizes(self) -> list[tuple[int, int]]:
        """Every call as (kib, flags), accepted or not."""
        with self.lock:
            return [(k, f) for _n, k, f, _ok in self.calls]


@pytest.fixture
def memory_calls(monkeypatch: pytest.MonkeyPatch) -> MemoryCalls:
    spy = MemoryCalls()
    original = libvirt.virDomain.setMemoryFlags

    def recording(self: libvirt.virDomain, memory: int, flags: int = 0) -> int:
        name = self.name()
        key = (self.connect().getURI(), self.UUIDString())
        with spy.lock:
            spy.in_flight += 1
            spy.max_in_flight = max(spy.max_in_flight, spy.in_flight)
        try:
            if spy.delay:
                time.sleep(spy.delay)
            result = original(self, memory, flags)
        except libvirt.libvirtError:
            with spy.lock:
                spy.calls.append((name, memory, flags, False))
                spy.keyed.append((key, memory, flags, False))
            raise
        finally:
            with spy.lock:
                spy.in_flight -= 1
        with spy.lock:
            spy.calls.append((name, memory, flags, True))
            spy.keyed.append((key, memory, flags, True))
        return result

    monkeypatch.setattr(libvirt.virDomain, "setMemoryFlags", recording)
    return spy


@pytest.fixture
def periods(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Every setMemoryStatsPeriod call that reached libvirt: (name, period, flags)."""
    calls: list[tuple[str, int, int]] = []
    original = libvirt.virDomain.setMemoryStatsPeriod

    def recording(self: libvirt.virDomain, period: int, flags: int = 0) -> int:
        calls.append((self.name(), period, flags))
        return original(self, period, flags)

    monkeypatch.setattr(libvirt.virDomain, "setMemoryStatsPeriod", recording)
    return calls


class _Unsupported(libvirt.libvirtError):
    def __init__(self) -> None:
        Exception.__init__(self, "unsupported")

    def get_error_code(self) -> int:
        return libvirt.VIR_ERR_NO_SUPPORT

    def get_error_message(self) -> str:
        return (
            "this function is not supported by the connection driver: virDomainSetMemoryStatsPeriod"
        )


@pytest.fixture
def periods_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A driver without stats periods: setMemoryStatsPeriod fails as libvirt says it."""

    def unsupported(self: libvirt.virDomain, period: int, flags: int = 0) -> int:
        raise _Unsupported()

    monkeypatch.setattr(libvirt.virDomain, "setMemoryStatsPeriod", unsupported)
