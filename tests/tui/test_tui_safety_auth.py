"""A URI that needs credentials: the app asks in a dialog (the password is not echoed), a
wrong password says so and asks again, a skip leaves the host disconnected without asking
again and again; the CLI does not give up on such a URI before the app starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from nodefiles import AUTH_NODE
from textual.widgets import Input, Static
from tuihelpers import make_app, plain, until

from balloon_tui.core.model import HostStatus
from balloon_tui.tui.screens.auth import AuthScreen


@pytest.fixture
def auth_uri(tmp_path: Path) -> str:
    path = tmp_path / "auth.xml"
    path.write_text(AUTH_NODE)
    return f"test://{path}"


async def _dialog(app, what: str) -> AuthScreen:
    await until(
        lambda: isinstance(app.screen, AuthScreen) and bool(app.screen.query(Input)), what=what
    )
    return app.screen


async def _answer(app, pilot, text: str) -> None:
    screen = app.screen
    box = screen.query_one(Input)
    box.value = text
    box.focus()
    await pilot.press("enter")
    await until(lambda: app.screen is not screen, what="the dialog to close")


async def test_wrong_password_says_so_then_the_right_one_connects(auth_uri, memory_calls):
    app = make_app([auth_uri])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _dialog(app, "the user name question")
        # A long URI keeps both ends: the scheme and the file that tells hosts apart.
        title = str(screen.query_one("Vertical").border_title)
        assert title.startswith("log in to test:///") and title.endswith("/auth.xml")
        [name] = screen.query(Input)
        assert not name.password and "username" in plain(screen.query_one("#auth-label-0"))
        await _answer(app, pilot, "admin")
        screen = await _dialog(app, "the password question")
        [secret] = screen.query(Input)
        assert secret.password  # not echoed
        assert not screen.query("#auth-note")  # nothing failed yet
        await _answer(app, pilot, "wrong")
        # Refused: the host line says so, and after the back-off the dialog asks again.
        screen = await _dialog(app, "the second try")
        note = plain(screen.query_one("#auth-note", Static))
        assert "authentication failed" in note and "skip" in note
        assert screen.query_one(Input).value == "admin"  # remembered
        assert any(h.error and "authentication failed" in h.error for h in app.main.hosts.values())
        await _answer(app, pilot, "admin")
        await _dialog(app, "the password again")
        await _answer(app, pilot, "s3cret")
        await until(
            lambda: any(r.domain.name == "guarded" for r in app.rows.values()), what="the guest"
        )
        assert app.main.hosts[auth_uri].status is HostStatus.OK
    assert memory_calls.attempted() == []


async def test_skip_leaves_the_host_disconnected_without_asking_again(auth_uri):
    app = make_app([auth_uri])
    async with app.run_test(size=(80, 24)) as pilot:
        await _dialog(app, "the question")
        await pilot.press("escape")
        await until(
            lambda: (
                auth_uri in app.main.hosts and app.main.hosts[auth_uri].status is HostStatus.SKIPPED
            ),
            what="skipped",
        )
        line = plain(app.query_one("#hosts"))
        assert "authentication skipped" in line and "retrying" not in line
        await pilot.pause(1.3)  # longer than the first back-off
        assert not isinstance(app.screen, AuthScreen)
        await pilot.press("ctrl+r")  # a refresh asks again
        await _dialog(app, "the question after a refresh")
        await pilot.click("#skip")
        await until(lambda: not isinstance(app.screen, AuthScreen), what="skipped again")
        assert app.is_running


async def test_quitting_while_the_dialog_is_up_does_not_hang(auth_uri):
    app = make_app([auth_uri])
    async with app.run_test(size=(80, 24)) as pilot:
        await _dialog(app, "the question")
        app.exit()
        await pilot.pause()
    # on_unmount gave the waiting poller thread its answer (None): stop was quick.
    assert not app.main.credentials.waiting


def test_the_cli_does_not_give_up_on_a_uri_that_needs_credentials(
    auth_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from balloon_tui import cli

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    started: list[object] = []

    def interactive(fleet, mouse, **options) -> int:
        started.append(fleet)
        fleet.stop()
        return 0

    monkeypatch.setattr(cli, "_interactive", interactive)
    assert cli.main(["-c", auth_uri]) == 0
    assert len(started) == 1  # the app starts and asks there
    assert capsys.readouterr().err == ""
    # --once has no dialog: one line that says what is missing.
    assert cli.main(["-c", auth_uri, "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs credentials" in err
