"""What a Fleet's threads deliver, collected for the tests to wait on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.writes import WriteResult


class Inbox:
    """Snapshots (with when they came) and write results as the fleet's threads deliver them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.snapshots: list[tuple[float, HostSnapshot]] = []
        self.writes: list[WriteResult] = []

    def on_snapshot(self, snapshot: HostSnapshot) -> None:
        with self.cond:
            self.snapshots.append((time.monotonic(), snapshot))
            self.cond.notify_all()

    def on_write(self, result: WriteResult) -> None:
        with self.cond:
            self.writes.append(result)
            self.cond.notify_all()

    def of(self, uri: str, status: HostStatus | None = None) -> list[HostSnapshot]:
        with self.cond:
            return [s for _, s in self.snapshots if s.uri == uri and status in (None, s.status)]

    def times(self, uri: str, status: HostStatus) -> list[float]:
        with self.cond:
            return [t for t, s in self.snapshots if s.uri == uri and s.status is status]

    def wait(self, predicate: Callable[[Inbox], bool], timeout: float = 5.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), "timed out"
