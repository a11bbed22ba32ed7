"""UndoHistory: per guest, the targets before ours, newest first, bounded."""

from __future__ import annotations

import pytest

from balloon_tui.core.undo import UndoHistory

A = ("test:///a", "uuid-a")
B = ("test:///a", "uuid-b")


def test_nothing_to_undo_before_a_write():
    assert UndoHistory().last(A) is None


def test_a_write_remembers_the_target_before_it():
    undo = UndoHistory()
    undo.sent(A, 4096, 2048, undo=False)
    undo.sent(A, 2048, 1024, undo=False)
    assert undo.last(A) == 2048
    assert undo.last(B) is None


def test_an_undo_consumes_the_entry_it_went_back_to():
    undo = UndoHistory()
    undo.sent(A, 4096, 2048, undo=False)
    undo.sent(A, 2048, 1024, undo=False)
    undo.sent(A, 1024, 2048, undo=True)
    assert undo.last(A) == 4096
    undo.sent(A, 2048, 4096, undo=True)
    assert undo.last(A) is None
    undo.sent(A, 4096, 4096, undo=True)  # nothing left: harmless
    assert undo.last(A) is None


def test_a_write_that_does_not_move_the_target_is_not_remembered():
    undo = UndoHistory()
    undo.sent(A, 2048, 2048, undo=False)
    assert undo.last(A) is None


def test_the_oldest_entries_fall_off_past_the_depth():
    undo = UndoHistory(depth=3)
    for before in range(1, 6):
        undo.sent(A, before, before + 100, undo=False)
    seen = []
    while (last := undo.last(A)) is not None:
        seen.append(last)
        undo.sent(A, 0, last, undo=True)
    assert seen == [5, 4, 3]


def test_a_vanished_guest_is_forgotten():
    undo = UndoHistory()
    undo.sent(A, 4096, 2048, undo=False)
    undo.sent(B, 4096, 2048, undo=False)
    undo.forget(A)
    undo.forget(A)
    assert undo.last(A) is None and undo.last(B) == 4096


def test_the_depth_must_be_positive():
    with pytest.raises(ValueError):
        UndoHistory(depth=0)
