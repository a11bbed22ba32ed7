"""Messages from the Fleet's threads to the main screen (post_message is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from balloon_tui.core.balloonknobs import KnobsLook, KnobsResult
from balloon_tui.core.guestpolicy import PolicyResult
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.statsperiod import StatsPeriodResult
from balloon_tui.core.writes import WriteResult


class SnapshotsReady(Message):
    """Poller threads left snapshots in the inbox."""


class WriteDone(Message):
    def __init__(self, result: WriteResult) -> None:
        super().__init__()
        self.result = result


class StatsArmed(Message):
    def __init__(self, result: StatsPeriodResult) -> None:
        super().__init__()
        self.result = result


class PolicyStored(Message):
    """A guest's regulator policy was stored, or not (`Fleet.set_policy`'s answer); `words`:
    the policy as the log says it (its defaults named for the guest it was sent to)."""

    def __init__(self, result: PolicyResult, words: str) -> None:
        super().__init__()
        self.result = result
        self.words = words


class KnobsRead(Message):
    """A guest's balloon settings, read for the `D` dialog; `seen`: the guest at the key."""

    def __init__(self, look: KnobsLook, seen: DomainSnapshot) -> None:
        super().__init__()
        self.look = look
        self.seen = seen


class KnobsStored(Message):
    """A guest's balloon settings were stored, or not (`Fleet.set_knobs`'s answer)."""

    def __init__(self, result: KnobsResult) -> None:
        super().__init__()
        self.result = result
