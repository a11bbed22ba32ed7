"""Messages from the Fleet's threads to the main screen (post_message is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from balloon_tui.core.guestpolicy import PolicyResult
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
