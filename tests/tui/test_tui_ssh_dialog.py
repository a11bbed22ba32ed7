"""ssh's and libssh's questions in the log-in dialog: a host key is shown whole with its
fingerprint and answered with buttons (Refuse by default, the word each asker expects); a
password is typed unseen; a host-key answer is never remembered as a user name."""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.app import App
from textual.widgets import Button, Input, Static
from tuihelpers import make_app, plain, until

from balloon_tui.tui.screens.auth import AuthScreen

FINGERPRINT = "SHA256:7bXlDsW5SaunRG+UqKAJMETLCkZM/lEy1sqR5mAqp1w"
SSH_HOST_KEY = (
    "The authenticity of host '[localhost]:2222 ([127.0.0.1]:2222)' can't be established.\n"
    f"ED25519 key fingerprint is {FINGERPRINT}.\n"
    "This key is not known by any other names.\n"
    "Are you sure you want to continue connecting (yes/no/[fingerprint])? "
)
LIBSSH_HASH = (
    "ed:b5:e5:0e:c5:b9:49:ab:a7:44:6f:94:a8:a0:09:30:44:"
    "cb:0a:46:4c:fe:51:32:d6:ca:91:e6:60:2a:a7:5c"
)
LIBSSH_HOST_KEY = f"Accept SSH host key with hash '{LIBSSH_HASH}' for host 'localhost:2222' (y/n)?"
SSH_URI = "qemu+ssh://btui-ssh-pw@localhost:2222/system"
LIBSSH_URI = "qemu+libssh://btui-ssh-pw@localhost:2222/system"
SSH = (SSH_URI, [(6, SSH_HOST_KEY)])
LIBSSH = (LIBSSH_URI, [(6, LIBSSH_HOST_KEY)])
NOT_YET = object()


class DialogApp(App[None]):
    """Only the dialog, as the broker pushes it; `answer` is what it was dismissed with."""

    def __init__(self, uri: str, questions: list[tuple[int, str]]) -> None:
        super().__init__()
        self.dialog = AuthScreen(uri, questions)
        self.answer: object = NOT_YET

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, answer: list[str] | None) -> None:
        self.answer = answer


async def _answer_with(keys: list[str], uri: str, questions: list[tuple[int, str]]) -> object:
    app = DialogApp(uri, questions)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await until(lambda: app.answer is not NOT_YET, what="the dialog to close")
    return app.answer


async def test_sshs_host_key_question_is_shown_whole_with_refuse_focused() -> None:
    app = DialogApp(*SSH)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.dialog
        text = plain(screen.query_one("#auth-label-0", Static), width=200)
        assert FINGERPRINT in text
        assert "[localhost]:2222 ([127.0.0.1]:2222)" in text and "ED25519" in text
        assert "Are you sure" not in text  # our buttons ask that
        assert not screen.query(Input)  # nothing to type a "yes" into
        assert screen.focused is screen.query_one("#refuse", Button)
        assert {b.id for b in screen.query(Button)} == {"accept", "refuse", "skip"}
        assert "a: accept" in str(screen.query_one("Vertical").border_subtitle)


@pytest.mark.parametrize(
    ("keys", "asked", "answer"),
    [
        (["enter"], SSH, ["no"]),  # Enter alone never accepts a key
        (["a"], SSH, ["yes"]),
        (["r"], SSH, ["no"]),
        (["escape"], SSH, None),
        (["enter"], LIBSSH, ["n"]),
        (["a"], LIBSSH, ["y"]),
        (["r"], LIBSSH, ["n"]),
        (["escape"], LIBSSH, None),
    ],
)
async def test_host_key_answers_in_the_askers_words(
    keys: list[str], asked: tuple[str, list[tuple[int, str]]], answer: list[str] | None
) -> None:
    assert await _answer_with(keys, *asked) == answer


async def test_the_accept_button_accepts() -> None:
    app = DialogApp(*LIBSSH)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = plain(app.dialog.query_one("#auth-label-0", Static), width=200)
        assert LIBSSH_HASH in text and "(y/n)" in text  # libssh's own words, whole
        await pilot.click("#accept")
        await until(lambda: app.answer is not NOT_YET, what="the dialog to close")
    assert app.answer == ["y"]


async def test_sshs_password_is_typed_unseen() -> None:
    app = DialogApp(SSH_URI, [(7, "btui-ssh-pw@localhost's password: ")])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        box = app.dialog.query_one(Input)
        assert box.password and app.dialog.focused is box
        assert not app.dialog.query("#accept")
        await pilot.press(*"s3cret", "enter")
        await until(lambda: app.answer is not NOT_YET, what="the dialog to close")
    assert app.answer == ["s3cret"]


async def test_a_host_key_answer_is_not_remembered_as_the_user_name() -> None:
    app = make_app(["test:///default"])
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 10)
        broker = app.main.credentials

        async def ask(questions: list[tuple[int, str]], keys: list[str]) -> list[str] | None:
            result: list[list[str] | None] = []
            thread = threading.Thread(
                target=lambda: result.append(broker.ask(SSH_URI, questions)), daemon=True
            )
            thread.start()
            await until(lambda: isinstance(app.screen, AuthScreen), what="the dialog")
            dialog = app.screen
            name_boxes = [b.value for b in dialog.query(Input) if not b.password]
            for key in keys:
                await pilot.press(key)
            await until(lambda: bool(result), what="the answer")
            thread.join(5)
            return [*name_boxes, "->", *(result[0] or [])]

        assert await ask([(6, SSH_HOST_KEY)], ["a"]) == ["->", "yes"]
        # The next name question starts empty: "yes" is nobody's user name.
        assert await ask([(1, "Please enter your username")], [*"root", "enter"]) == [
            "",
            "->",
            "root",
        ]
        # A name typed once is offered again (what the empty box above is measured against).
        assert await ask([(1, "Please enter your username")], ["enter"]) == ["root", "->", "root"]


def test_host_key_dialog_80x24(snap_compare) -> None:
    import screenshots  # the demo app behind the dialog, as the operator sees it

    async def run_before(pilot) -> None:
        app = pilot.app
        await asyncio.wait_for(app.ready.wait(), 10)
        await app.push_screen(AuthScreen(*SSH))
        await pilot.pause()

    assert snap_compare(screenshots.demo_app(), terminal_size=(80, 24), run_before=run_before)
