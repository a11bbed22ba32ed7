"""CredentialBroker: libvirt's openAuth questions answered in a dialog.

It owns every piece of log-in state: one dialog at a time across poller threads (the lock),
the poller threads waiting on a dialog, the hosts whose log-in was skipped, the hosts whose
password was sent but not yet seen connected, and the user names typed so far.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from typing import TYPE_CHECKING

from balloon_tui.core.questions import NAME_CREDENTIALS, SECRET_CREDENTIALS
from balloon_tui.tui.screens.auth import AuthScreen

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen

Answers = list[str] | None


class CredentialBroker:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._lock = threading.Lock()
        self.waiting: set[concurrent.futures.Future[Answers]] = set()
        self._skipped: set[str] = set()
        self._sent: set[str] = set()  # answered, not yet seen connected: a retry = wrong
        self._user: dict[str, str] = {}
        self._closing = False

    def ask(self, uri: str, questions: list[tuple[int, str]]) -> Answers:
        """The Fleet's CredentialPrompt: runs on a poller thread inside libvirt's openAuth.

        Blocks that thread while the dialog is up (one dialog at a time). None = skipped:
        the host stays disconnected and is not asked again until a refresh (ctrl+r).
        """
        with self._lock:
            if self._closing or uri in self._skipped:
                return None
            try:
                app = self.screen.app  # found through the screen's parent on this thread
            except RuntimeError:  # the screen has left the app: the app is closing
                return None
            note = None
            if uri in self._sent:  # answered before and not connected since: refused
                self._sent.discard(uri)
                note = (
                    "authentication failed: the user name or password was not "
                    "accepted. Try again, or skip this host."
                )
            future: concurrent.futures.Future[Answers] = concurrent.futures.Future()
            self.waiting.add(future)

            def done(answers: Answers) -> None:
                if not future.done():
                    future.set_result(answers)

            def show() -> None:
                app.push_screen(
                    AuthScreen(uri, questions, note=note, username=self._user.get(uri, "")), done
                )

            try:
                app.call_from_thread(show)
                answers = future.result()
            except RuntimeError:  # the app is not running (any more)
                answers = None
            finally:
                self.waiting.discard(future)
            if answers is None:
                if not self._closing:
                    self._skipped.add(uri)
                    with contextlib.suppress(RuntimeError):
                        app.call_from_thread(
                            self.screen.log_panel.add,
                            f"{uri}: authentication skipped (ctrl+r asks again)",
                            "warning",
                        )
                return None
            for (kind, _prompt), answer in zip(questions, answers, strict=False):
                if kind in SECRET_CREDENTIALS:
                    self._sent.add(uri)
                elif kind in NAME_CREDENTIALS and answer:
                    self._user[uri] = answer
            return answers

    def connected(self, uri: str) -> None:
        """The host is connected: the credentials sent for it were right."""
        self._sent.discard(uri)

    def ask_again(self) -> bool:
        """A refresh (ctrl+r): hosts whose log-in was skipped ask again. True if there were."""
        skipped = bool(self._skipped)
        self._skipped.clear()
        return skipped

    def close(self) -> None:
        """The app ends: poller threads waiting on a dialog give up, and none asks again."""
        self._closing = True
        for future in list(self.waiting):
            if not future.done():
                future.set_result(None)
