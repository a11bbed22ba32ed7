"""core/targets.check_remembered: a target found in domain metadata is a claim by whoever
wrote it (any client of libvirtd); only one this guest can have is adopted. And
core/writes.ApplyMode.for_state: a shut-off guest is written config only."""

from __future__ import annotations

import pytest

from balloon_tui.core.display import has_unsafe
from balloon_tui.core.model import DomainState
from balloon_tui.core.sizes import GIB, KIB, MINIMUM_KIB
from balloon_tui.core.targets import NOTHING_REMEMBERED, Remembered, check_remembered
from balloon_tui.core.writes import ApplyMode

MAXIMUM = 4 * GIB
# A note is one line in the panel: the fixed words plus at most QUOTED_CELLS of foreign text.
NOTE_BOUND = 110


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (str(3 * GIB), 3 * GIB),
        (str(MAXIMUM), MAXIMUM),  # the maximum itself is a target the guest can have
        (str(MINIMUM_KIB), MINIMUM_KIB),
        ("0003145728", 3 * GIB),  # leading zeros: still the number
    ],
)
def test_a_target_in_range_is_adopted(text: str, target: int) -> None:
    assert check_remembered([text], MAXIMUM) == Remembered(target_kib=target)


def test_nothing_found_is_nothing_to_say() -> None:
    assert check_remembered([], MAXIMUM) is NOTHING_REMEMBERED
    assert check_remembered((), None) == Remembered(None, None)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (
            str(8 * GIB),
            "remembered target 8.00 GiB in metadata ignored: above the maximum 4.00 GiB",
        ),
        (
            str(MAXIMUM + 1),
            "remembered target 4.00 GiB in metadata ignored: above the maximum 4.00 GiB",
        ),
        ("1", "remembered target 1 KiB in metadata ignored: below the minimum 1.00 MiB"),
        (
            str(MINIMUM_KIB - 1),
            "remembered target 1023 KiB in metadata ignored: below the minimum 1.00 MiB",
        ),
        ("0", "remembered target 0 KiB in metadata ignored: below the minimum 1.00 MiB"),
        ("-5", "remembered target '-5' in metadata ignored: not a size in KiB"),
        ("lots", "remembered target 'lots' in metadata ignored: not a size in KiB"),
        ("", "remembered target '' in metadata ignored: not a size in KiB"),
        (" 5", "remembered target ' 5' in metadata ignored: not a size in KiB"),
        ("+5", "remembered target '+5' in metadata ignored: not a size in KiB"),
        ("5_000", "remembered target '5_000' in metadata ignored: not a size in KiB"),
        ("3.5", "remembered target '3.5' in metadata ignored: not a size in KiB"),
        ("٣١٤٥٧٢٨", "remembered target '٣١٤٥٧٢٨' in metadata ignored: not a size in KiB"),
        ("²", "remembered target '²' in metadata ignored: not a size in KiB"),
        (
            str(2**64),
            "remembered target 18446744073709551616 KiB in metadata ignored: "
            "above the maximum 4.00 GiB",
        ),
        (
            str(2**100),
            "remembered target 126765060022…96703205376 KiB in metadata ignored: "
            "above the maximum 4.00 GiB",
        ),
    ],
)
def test_out_of_range_or_malformed_is_ignored_with_a_reason(text: str, note: str) -> None:
    assert check_remembered([text], MAXIMUM) == Remembered(None, note)


def test_an_absurd_length_is_not_parsed_and_the_note_stays_one_short_line() -> None:
    for text in ("9" * 100_000, "x" * 100_000, "1" + "0" * 5000):
        remembered = check_remembered([text], MAXIMUM)
        assert remembered.target_kib is None
        assert remembered.note is not None and len(remembered.note) <= NOTE_BOUND
        assert "…" in remembered.note


def test_control_characters_in_the_value_are_shown_not_sent_to_the_terminal() -> None:
    remembered = check_remembered(["\x9b31m\u202eevil\n"], MAXIMUM)
    assert remembered.target_kib is None
    note = remembered.note
    assert note is not None and not has_unsafe(note)
    assert "\\x9b31m\\u202eevil\\x0a" in note


def test_several_elements_are_refused_even_when_each_would_do() -> None:
    assert check_remembered([str(GIB), str(2 * GIB)], MAXIMUM) == Remembered(
        None, "2 remembered targets in metadata ignored: there should be one"
    )


def test_an_element_that_is_not_a_plain_target_is_refused() -> None:
    assert check_remembered([None], MAXIMUM) == Remembered(
        None, "remembered target in metadata ignored: not a <target kib='…'/> element"
    )


def test_without_a_known_maximum_nothing_is_adopted() -> None:
    assert check_remembered([str(GIB)], None) == Remembered(
        None, "remembered target in metadata ignored: the guest's maximum is unknown"
    )


def test_a_guest_smaller_than_the_minimum_has_its_maximum_as_minimum() -> None:
    small = 512 * KIB
    assert check_remembered([str(small)], small).target_kib == small
    assert check_remembered(["256"], small).note == (
        "remembered target 256 KiB in metadata ignored: below the minimum 512 KiB"
    )
    assert check_remembered(["0"], 0).target_kib is None  # never a target of zero


# -- the mode a write can have -----------------------------------------------------------------
@pytest.mark.parametrize("mode", list(ApplyMode))
@pytest.mark.parametrize("state", list(DomainState))
def test_a_guest_without_live_memory_is_written_config_only(
    mode: ApplyMode, state: DomainState
) -> None:
    assert mode.for_state(state) is (mode if state.is_active else ApplyMode.CONFIG)


def test_the_words_for_a_shut_off_guest_say_config() -> None:
    mode = ApplyMode.LIVE.for_state(DomainState.SHUTOFF)
    assert (mode.value, mode.label) == ("config", "config only")
    assert ApplyMode.LIVE_PERSIST.for_state(DomainState.PAUSED) is ApplyMode.LIVE_PERSIST
