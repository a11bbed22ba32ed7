"""Hosts that ask a log-in question before the app exists: the question waits for the app's
prompt, start-up does not wait for the question, and a skipped open is not asked twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from balloon_tui.virt import session as session_module
from balloon_tui.virt.connection import AUTH_SKIPPED, ConnectError, DeferredPrompt
from balloon_tui.virt.fleet import Fleet
from balloon_tui.virt.session import HostSession

QUESTION = [(7, "btui@host's password: ")]
REAL_OPEN = session_module.open_connection


def _until(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Asker:
    """A thread asking `prompt` one question, as libvirt's openAuth would."""

    def __init__(self, prompt: DeferredPrompt, uri: str) -> None:
        self.answer: list[str] | str | None = "not yet"
        self.thread = threading.Thread(target=self._ask, args=(prompt, uri), daemon=True)
        self.thread.start()

    def _ask(self, prompt: DeferredPrompt, uri: str) -> None:
        self.answer = prompt(uri, QUESTION)

    def result(self) -> list[str] | str | None:
        self.thread.join(5)
        assert not self.thread.is_alive()
        return self.answer


def test_a_question_waits_for_the_prompt_attached_later() -> None:
    deferred = DeferredPrompt()
    asked: list[tuple[str, list[tuple[int, str]]]] = []
    asker = Asker(deferred, "qemu+ssh://host/system")
    _until(lambda: deferred.waiting() == {"qemu+ssh://host/system"}, "the question to wait")
    time.sleep(0.1)
    assert asker.answer == "not yet" and not deferred.attached
    deferred.attach(lambda uri, questions: asked.append((uri, questions)) or ["s3cret"])
    assert asker.result() == ["s3cret"]
    assert asked == [("qemu+ssh://host/system", QUESTION)]
    assert deferred.waiting() == frozenset() and deferred.attached
    # Once attached, a question goes straight through.
    assert deferred("other", QUESTION) == ["s3cret"]


def test_closing_gives_up_the_waiting_questions() -> None:
    deferred = DeferredPrompt()
    askers = [Asker(deferred, "a"), Asker(deferred, "a"), Asker(deferred, "b")]
    _until(lambda: deferred.waiting() == {"a", "b"}, "three questions")
    deferred.close()
    assert [asker.result() for asker in askers] == [None, None, None]
    assert deferred.waiting() == frozenset()
    assert deferred("c", QUESTION) is None  # after close: no waiting at all


def _asking_open(asking_uri: str, opens: list[str]) -> Callable[..., object]:
    """open_connection where `asking_uri` asks a password first, as a qemu+ssh host would."""

    def fake_open(uri: str | None, readonly: bool = False, prompt: object = None) -> object:
        opens.append(str(uri))
        if uri == asking_uri:
            answers = prompt(uri, QUESTION) if callable(prompt) else None
            if answers is None:
                raise ConnectError(uri, AUTH_SKIPPED, cancelled=True)
            return REAL_OPEN("test:///default", readonly)
        return REAL_OPEN(uri, readonly, prompt)  # type: ignore[arg-type]

    return fake_open


def test_start_up_does_not_wait_for_a_host_that_asks(
    monkeypatch: pytest.MonkeyPatch, make_fleet: Callable[..., Fleet], node: Callable[..., str]
) -> None:
    asking = node([])
    opens: list[str] = []
    monkeypatch.setattr(session_module, "open_connection", _asking_open(asking, opens))
    fleet = make_fleet([asking, "test:///default"], ask_later=True)
    started = time.monotonic()
    errors = fleet.connect_all(timeout=10)
    took = time.monotonic() - started
    assert took < 1.0, took
    assert errors == {}
    assert fleet.workers["test:///default"].session.connected
    assert not fleet.workers[asking].session.connected
    assert fleet.deferred is not None and fleet.deferred.waiting() == {asking}
    # The app comes up and answers: the same open goes on and connects.
    answered: list[str] = []
    fleet.use_prompt(lambda uri, questions: answered.append(uri) or ["s3cret"])
    _until(lambda: fleet.workers[asking].session.connected, "the asking host to connect")
    assert answered == [asking] and opens.count(asking) == 1


def test_stop_gives_up_a_question_nobody_answered(
    monkeypatch: pytest.MonkeyPatch, make_fleet: Callable[..., Fleet], node: Callable[..., str]
) -> None:
    asking = node([])
    monkeypatch.setattr(session_module, "open_connection", _asking_open(asking, []))
    fleet = make_fleet([asking], ask_later=True)
    assert fleet.connect_all(timeout=10) == {}
    fleet.stop(timeout=5)
    assert fleet.deferred is not None
    _until(lambda: not fleet.deferred.waiting(), "the question to be given up")  # type: ignore[union-attr]


def test_without_ask_later_connect_all_waits_for_the_question_to_fail(
    monkeypatch: pytest.MonkeyPatch, make_fleet: Callable[..., Fleet], node: Callable[..., str]
) -> None:
    # The control: no deferred prompt, no prompt at all -- the open fails at once.
    asking = node([])
    monkeypatch.setattr(session_module, "open_connection", _asking_open(asking, []))
    fleet = make_fleet([asking])
    assert fleet.deferred is None
    errors = fleet.connect_all(timeout=10)
    assert errors[asking].cancelled


def test_a_caller_that_waited_on_a_skipped_open_takes_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow_skip(uri: str | None, readonly: bool = False, prompt: object = None) -> object:
        calls.append(str(uri))
        release.wait(5)
        raise ConnectError(str(uri), AUTH_SKIPPED, cancelled=True)

    monkeypatch.setattr(session_module, "open_connection", slow_skip)
    session = HostSession("qemu+ssh://host/system")
    failures: dict[str, BaseException] = {}

    def open_as(name: str) -> None:
        try:
            session.open()
        except ConnectError as exc:
            failures[name] = exc

    first = threading.Thread(target=open_as, args=("first",))
    first.start()
    _until(lambda: calls == ["qemu+ssh://host/system"], "the first open")
    second = threading.Thread(target=open_as, args=("second",))
    second.start()
    time.sleep(0.2)  # the second waits on the open lock
    release.set()
    first.join(5)
    second.join(5)
    assert failures["first"] is failures["second"]
    assert failures["second"].cancelled  # type: ignore[attr-defined]
    assert len(calls) == 1  # one dialog, not two
    # A later open (a refresh) asks again.
    with pytest.raises(ConnectError):
        session.open()
    assert len(calls) == 2
