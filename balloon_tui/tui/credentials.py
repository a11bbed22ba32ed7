"""Credentials for URIs that ask for them: a dialog answers libvirt's openAuth.

A mixin of BalloonApp (its attributes live there, hence the mypy note below).
"""
# mypy: disable-error-code="attr-defined, has-type"

from __future__ import annotations

import concurrent.futures
import contextlib

from balloon_tui.tui.screens.auth import SECRET_CREDENTIALS, AuthScreen


class CredentialPrompting:
    # -- credentials ---------------------------------------------------------------------------
    def ask_credentials(self, uri: str, questions: list[tuple[int, str]]) -> list[str] | None:
        """The Fleet's CredentialPrompt: runs on a poller thread inside libvirt's openAuth.

        Blocks that thread while the dialog is up (one dialog at a time). None = skipped:
        the host stays disconnected and is not asked again until a refresh (ctrl+r).
        """
        with self._auth_lock:
            if self._closing or uri in self._auth_skipped:
                return None
            note = None
            if uri in self._auth_sent:  # answered before and not connected since: refused
                self._auth_sent.discard(uri)
                note = ("authentication failed: the user name or password was not "
                        "accepted. Try again, or skip this host.")
            future: concurrent.futures.Future[list[str] | None] = concurrent.futures.Future()
            self._auth_waiting.add(future)

            def done(answers: list[str] | None) -> None:
                if not future.done():
                    future.set_result(answers)

            def show() -> None:
                self.push_screen(AuthScreen(uri, questions, note=note,
                                            username=self._auth_user.get(uri, "")), done)

            try:
                self.call_from_thread(show)
                answers = future.result()
            except RuntimeError:  # the app is not running (any more)
                answers = None
            finally:
                self._auth_waiting.discard(future)
            if answers is None:
                if not self._closing:
                    self._auth_skipped.add(uri)
                    with contextlib.suppress(RuntimeError):
                        self.call_from_thread(
                            self.log_panel.add,
                            f"{uri}: authentication skipped (ctrl+r asks again)", "warning",
                        )
                return None
            for (kind, _prompt), answer in zip(questions, answers, strict=False):
                if kind in SECRET_CREDENTIALS:
                    self._auth_sent.add(uri)
                elif answer:
                    self._auth_user[uri] = answer
            return answers
