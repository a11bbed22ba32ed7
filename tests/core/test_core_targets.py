"""core/targets.py: the remembered targets, and turning successive actuals into progress."""

from __future__ import annotations

import threading

import pytest

from balloon_tui.core.model import Convergence, DomainState
from balloon_tui.core.sizes import GIB, MIB
from balloon_tui.core.targets import ConvergenceTracker, TargetBook, TargetRecord

KEY = ("test:///h.xml", "uuid-1")
OTHER = ("test:///h.xml", "uuid-2")
RUNNING = DomainState.RUNNING


# -- TargetBook ------------------------------------------------------------------------------
def test_record_then_get() -> None:
    book = TargetBook()
    assert book.get(KEY) is None
    book.record(KEY, 2 * GIB, 4 * GIB, now=100.0)
    assert book.get(KEY) == TargetRecord(2 * GIB, 100.0, 4 * GIB)
    assert book.get(OTHER) is None


def test_record_replaces_an_older_record() -> None:
    book = TargetBook()
    book.record(KEY, 2 * GIB, 4 * GIB, now=100.0)
    book.record(KEY, 3 * GIB, 2 * GIB, now=105.0)
    assert book.get(KEY) == TargetRecord(3 * GIB, 105.0, 2 * GIB)


def test_adopt_fills_in_but_never_overrides_a_record() -> None:
    book = TargetBook()
    book.adopt(KEY, 2 * GIB, now=50.0)
    assert book.get(KEY) == TargetRecord(2 * GIB, 50.0, None)  # no actual at request: adopted
    book.adopt(KEY, 1 * GIB, now=60.0)
    assert book.get(KEY) == TargetRecord(2 * GIB, 50.0, None)  # the first one stays
    book.record(KEY, 3 * GIB, 4 * GIB, now=70.0)
    assert book.get(KEY) == TargetRecord(3 * GIB, 70.0, 4 * GIB)  # ours replaces the adopted
    book.adopt(KEY, 1 * GIB, now=80.0)
    assert book.get(KEY) == TargetRecord(3 * GIB, 70.0, 4 * GIB)  # metadata never beats ours


def test_forget() -> None:
    book = TargetBook()
    book.record(KEY, GIB, GIB, now=1.0)
    book.record(OTHER, 2 * GIB, GIB, now=1.0)
    book.forget(KEY)
    book.forget(KEY)  # twice is fine
    assert book.get(KEY) is None
    assert book.get(OTHER) is not None
    book.adopt(KEY, 5 * GIB, now=2.0)
    assert book.get(KEY) == TargetRecord(5 * GIB, 2.0, None)


def test_book_survives_concurrent_writers_and_readers() -> None:
    book = TargetBook()
    keys = [("h", f"u{i}") for i in range(20)]
    errors: list[BaseException] = []
    start = threading.Barrier(9)

    def writer(offset: int) -> None:
        try:
            start.wait()
            for n in range(500):
                for key in keys:
                    book.record(key, offset * 1_000_000 + n, None, float(n))
                    book.adopt(key, 1, 0.0)
                    if n % 50 == 0:
                        book.forget(key)
        except BaseException as exc:  # pragma: no cover - the failure is reported below
            errors.append(exc)

    def reader() -> None:
        try:
            start.wait()
            for _ in range(2000):
                for key in keys:
                    record = book.get(key)
                    assert record is None or isinstance(record, TargetRecord)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(1, 5)]
    threads += [threading.Thread(target=reader) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    # Every writer's last step recorded n=499 (after any forget at n=450).
    for key in keys:
        record = book.get(key)
        assert record is not None
        assert record.target_kib % 1_000_000 == 499
        assert record.requested_at == 499.0


# -- ConvergenceTracker ----------------------------------------------------------------------
class Run:
    """One domain watched tick by tick, with the book and the injected clock."""

    def __init__(self, stall_seconds: float = 10.0) -> None:
        self.book = TargetBook()
        self.tracker = ConvergenceTracker(stall_seconds=stall_seconds)

    def request(self, target: int, actual: int, now: float) -> None:
        self.book.record(KEY, target, actual, now)

    def tick(self, actual: int, now: float, state: DomainState = RUNNING):
        return self.tracker.observe(KEY, self.book.get(KEY), actual, state, now)


def test_no_target_no_progress() -> None:
    run = Run()
    progress, outside = run.tick(4 * GIB, 0.0)
    assert progress.state is Convergence.NONE
    assert not progress.is_moving
    assert not outside


def test_pending_then_converged() -> None:
    run = Run()
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=1.0)
    progress, outside = run.tick(4 * GIB, 1.5)
    assert progress.state is Convergence.PENDING
    assert progress.is_moving
    assert progress.start_kib == 4 * GIB
    assert progress.since == 1.0
    assert not outside
    progress, _ = run.tick(3 * GIB, 3.0)
    assert progress.state is Convergence.PENDING
    assert progress.last_moved == 3.0
    progress, outside = run.tick(2 * GIB + 512, 5.0)  # within the 1 MiB tolerance
    assert progress.state is Convergence.CONVERGED
    assert not progress.is_moving
    assert progress.start_kib == 4 * GIB
    assert not outside


def test_first_sight_with_a_target_already_there() -> None:
    run = Run()
    run.request(2 * GIB, 2 * GIB, now=0.0)
    progress, outside = run.tick(2 * GIB, 0.5)
    assert progress.state is Convergence.CONVERGED
    assert not outside


def test_stalled_when_actual_never_moved_blames_the_driver() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    for now in (1.0, 5.0, 9.9):
        progress, _ = run.tick(4 * GIB, now)
        assert progress.state is Convergence.PENDING, now
        assert progress.message == ""
    progress, outside = run.tick(4 * GIB, 10.0)
    assert progress.state is Convergence.STALLED
    assert progress.is_moving
    assert not outside
    assert "not responding" in progress.message
    assert "driver" in progress.message
    assert "cannot give more" not in progress.message


def test_stalled_after_moving_says_the_guest_cannot_give_more() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0)
    run.request(1 * GIB, 4 * GIB, now=0.0)
    run.tick(3 * GIB, 2.0)
    progress, _ = run.tick(2 * GIB, 4.0)  # moving: the clock restarts
    assert progress.state is Convergence.PENDING
    progress, _ = run.tick(2 * GIB, 13.9)
    assert progress.state is Convergence.PENDING  # 9.9 s still
    progress, outside = run.tick(2 * GIB, 14.0)
    assert progress.state is Convergence.STALLED
    assert progress.last_moved == 4.0
    assert "cannot give more" in progress.message
    assert "not responding" not in progress.message
    assert "1.00 GiB above the target" in progress.message
    assert not outside


def test_stalled_while_growing_says_the_guest_does_not_take_memory() -> None:
    run = Run(stall_seconds=10)
    run.tick(GIB, 0.0)
    run.request(3 * GIB, GIB, now=0.0)
    run.tick(2 * GIB, 1.0)
    progress, _ = run.tick(2 * GIB, 11.0)
    assert progress.state is Convergence.STALLED
    assert "below the target" in progress.message
    assert "not taking the memory back" in progress.message


def test_small_drift_within_tolerance_is_not_movement() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    run.tick(4 * GIB - 100, 5.0)
    progress, _ = run.tick(4 * GIB - 200, 10.0)
    assert progress.state is Convergence.STALLED
    assert "not responding" in progress.message


def test_slow_drift_adds_up_to_movement() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    # 600 KiB per tick: each step under the tolerance, but measured from the last "moved".
    for i in range(1, 4):
        run.tick(4 * GIB - 600 * i, float(i * 3))
    progress, _ = run.tick(4 * GIB - 1800, 12.0)
    assert progress.state is Convergence.PENDING  # moved at t=6 (1200 KiB > 1 MiB)
    assert progress.last_moved == 6.0


def test_paused_guest_is_pending_with_a_note_not_stalled() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0, DomainState.PAUSED)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    progress, _ = run.tick(4 * GIB, 100.0, DomainState.PAUSED)
    assert progress.state is Convergence.PENDING
    assert "paused" in progress.message


def test_shut_off_guest_is_pending_not_stalled() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0, DomainState.SHUTOFF)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    progress, outside = run.tick(4 * GIB, 100.0, DomainState.SHUTOFF)
    assert progress.state is Convergence.PENDING
    assert not outside


def test_changed_outside_after_convergence() -> None:
    run = Run()
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=1.0)
    progress, _ = run.tick(2 * GIB, 2.0)
    assert progress.state is Convergence.CONVERGED
    # Someone else (virsh setmem) moves it: no new request from us.
    progress, outside = run.tick(3 * GIB, 3.0)
    assert outside is True
    assert progress.state is Convergence.NONE
    assert "outside" in progress.message
    assert run.book.get(KEY) == TargetRecord(2 * GIB, 1.0, 4 * GIB)  # remembered unchanged
    # It stays "outside" while it sits there, and never turns into a stall.
    progress, outside = run.tick(3 * GIB, 100.0)
    assert outside is True
    assert progress.state is Convergence.NONE
    # A new request of ours clears it.
    run.request(3 * GIB + 512 * MIB, 3 * GIB, now=101.0)
    progress, outside = run.tick(3 * GIB, 101.5)
    assert outside is False
    assert progress.state is Convergence.PENDING
    progress, outside = run.tick(3 * GIB + 512 * MIB, 102.0)
    assert progress.state is Convergence.CONVERGED
    assert outside is False


def test_outside_change_back_to_our_target_counts_as_converged() -> None:
    run = Run()
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    run.tick(2 * GIB, 1.0)
    _, outside = run.tick(3 * GIB, 2.0)
    assert outside
    progress, outside = run.tick(2 * GIB, 3.0)
    assert progress.state is Convergence.CONVERGED
    assert not outside


def test_pending_move_that_overshoots_elsewhere_is_not_outside_before_converging() -> None:
    # Not yet converged once: movement toward anywhere is just the balloon on its way.
    run = Run()
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    progress, outside = run.tick(3 * GIB, 1.0)
    assert not outside
    assert progress.state is Convergence.PENDING


def test_movement_with_no_target_is_outside() -> None:
    run = Run()
    run.tick(4 * GIB, 0.0)
    progress, outside = run.tick(3 * GIB, 1.0)
    assert outside is True
    assert progress.state is Convergence.NONE


def test_shut_off_config_change_is_not_outside() -> None:
    run = Run()
    run.tick(4 * GIB, 0.0, DomainState.SHUTOFF)
    _, outside = run.tick(3 * GIB, 1.0, DomainState.SHUTOFF)
    assert outside is False


def test_new_request_restarts_the_stall_clock() -> None:
    run = Run(stall_seconds=10)
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    progress, _ = run.tick(4 * GIB, 20.0)
    assert progress.state is Convergence.STALLED
    run.request(3 * GIB, 4 * GIB, now=21.0)
    progress, _ = run.tick(4 * GIB, 25.0)
    assert progress.state is Convergence.PENDING
    progress, _ = run.tick(4 * GIB, 31.0)
    assert progress.state is Convergence.STALLED


def test_adopted_target_from_metadata_is_tracked() -> None:
    run = Run(stall_seconds=10)
    run.book.adopt(KEY, 2 * GIB, now=0.0)
    progress, outside = run.tick(2 * GIB, 0.0)
    assert progress.state is Convergence.CONVERGED
    assert progress.start_kib is None
    assert not outside


def test_domains_are_tracked_separately_and_forgotten() -> None:
    book = TargetBook()
    tracker = ConvergenceTracker(stall_seconds=10)
    book.record(KEY, 2 * GIB, 4 * GIB, 0.0)
    book.record(OTHER, 2 * GIB, 4 * GIB, 0.0)
    tracker.observe(KEY, book.get(KEY), 4 * GIB, RUNNING, 0.0)
    tracker.observe(OTHER, book.get(OTHER), 4 * GIB, RUNNING, 0.0)
    tracker.observe(KEY, book.get(KEY), 3 * GIB, RUNNING, 8.0)
    p_key, _ = tracker.observe(KEY, book.get(KEY), 3 * GIB, RUNNING, 12.0)
    p_other, _ = tracker.observe(OTHER, book.get(OTHER), 4 * GIB, RUNNING, 12.0)
    assert p_key.state is Convergence.PENDING
    assert p_other.state is Convergence.STALLED
    tracker.forget_missing({KEY})
    # OTHER comes back: seen afresh, its stall clock restarts at its request time.
    p_other, _ = tracker.observe(OTHER, book.get(OTHER), 4 * GIB, RUNNING, 13.0)
    assert p_other.state is Convergence.PENDING


@pytest.mark.parametrize("stall", [1.0, 30.0])
def test_stall_seconds_is_honoured(stall: float) -> None:
    run = Run(stall_seconds=stall)
    run.tick(4 * GIB, 0.0)
    run.request(2 * GIB, 4 * GIB, now=0.0)
    assert run.tick(4 * GIB, stall - 0.01)[0].state is Convergence.PENDING
    assert run.tick(4 * GIB, stall)[0].state is Convergence.STALLED
