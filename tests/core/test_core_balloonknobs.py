"""The balloon settings' words: each change says when it takes effect; periods are checked."""

from __future__ import annotations

import pytest

from balloon_tui.core.balloonknobs import (
    BalloonKnobs,
    KnobsRequest,
    KnobsResult,
    knobs_words,
    period_problem,
)
from balloon_tui.core.model import BalloonDevice


def test_of_a_device_and_in_words():
    knobs = BalloonKnobs.of(BalloonDevice("virtio", True, False, -3))
    assert knobs == BalloonKnobs(True, False, 0)  # a negative period is no period
    assert knobs_words(knobs) == "autodeflate on · free page reporting off · no stats"
    assert knobs_words(BalloonKnobs(stats_period=5)).endswith("· stats 5 s")


def test_changes_name_the_config_and_the_live_part():
    request = KnobsRequest(
        "test:///x", "u", "g", BalloonKnobs(False, True, 0), BalloonKnobs(False, False, 4), 0, 4
    )
    assert request.changes == (
        "free page reporting: off → on (config: takes effect at the next boot)",
        "stats: every 4 s → off (config: takes effect at the next boot)",
        "stats: every 4 s → off (live: now)",
    )


def test_a_transient_guest_changes_only_live():
    request = KnobsRequest("test:///x", "u", "g", None, None, 3, None)
    assert request.changes == ("stats: unknown → every 3 s (live: now)",)
    assert KnobsRequest("test:///x", "u", "g", None, None).changes == ()


def test_the_summary_says_what_was_done_or_why_not():
    request = KnobsRequest("test:///x", "u", "g", None, None, 3, 0)
    assert KnobsResult(request, True, "live").summary == "g: balloon settings stored (live)"
    assert KnobsResult(request, False, "no").summary == "g: balloon settings not stored: no"


@pytest.mark.parametrize(
    ("period", "problem"),
    [
        (0, None),
        (3600, None),
        (-1, "the stats period must be 0 (off) to 3600 seconds, not -1"),
        (3601, "the stats period must be 0 (off) to 3600 seconds, not 3601"),
        (True, "the stats period must be whole seconds, not True"),
        (2.5, "the stats period must be whole seconds, not 2.5"),
    ],
)
def test_period_problem(period, problem):
    assert period_problem(period) == problem
