"""Credentials for a libvirt URI that asks for them: libvirt's own questions, secrets hidden.

Dismisses with the answers in the order asked, or None when the operator skips the host
(Escape or "Skip host"): the host then stays disconnected until a refresh (ctrl+r).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from balloon_tui.core.display import shown, visible
from balloon_tui.tui import render

# libvirt's virConnectCredentialType (the tui does not import libvirt).
CRED_USERNAME = 1
CRED_AUTHNAME = 2
CRED_PASSPHRASE = 5
CRED_NOECHOPROMPT = 7
SECRET_CREDENTIALS = frozenset({CRED_PASSPHRASE, CRED_NOECHOPROMPT})
NAME_CREDENTIALS = frozenset({CRED_USERNAME, CRED_AUTHNAME})


# The URI's share of the title line (the box is 64 cells).
TITLE_URI_CELLS = 50


class AuthScreen(ModalScreen[list[str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "skip", "skip host")]

    DEFAULT_CSS = """
    AuthScreen { align: center top; }
    AuthScreen > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%; margin: 2 0 0 0;
        border: round $primary; background: $surface; padding: 0 1;
    }
    AuthScreen #auth-note { margin: 1 0 0 0; }
    AuthScreen Label { margin: 1 0 0 0; color: $text-muted; }
    AuthScreen Input { background: $boost; }
    AuthScreen Horizontal { height: auto; margin: 1 0 0 0; align-horizontal: right; }
    AuthScreen Button { margin: 0 0 0 2; min-width: 10; }
    """

    def __init__(
        self,
        uri: str,
        questions: list[tuple[int, str]],
        *,
        note: str | None = None,
        username: str = "",
    ) -> None:
        super().__init__()
        self.uri = uri
        self.questions = questions
        self.note = note
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text("log in to ") + Text(shown(self.uri, TITLE_URI_CELLS))
            box.border_subtitle = "enter: log in · esc: skip this host"
            if self.note:
                yield Static(
                    render.themed(
                        Text(f"{render.MARK_ERROR} {visible(self.note)}", style=render.STYLE_ERROR)
                    ),
                    id="auth-note",
                )
            for index, (kind, prompt) in enumerate(self.questions):
                # libvirt's (or the server's) question: plain text, never markup.
                yield Label(
                    Text(visible(prompt.strip().rstrip(":")) + ":"), id=f"auth-label-{index}"
                )
                yield Input(
                    value=self.username if kind in NAME_CREDENTIALS else "",
                    password=kind in SECRET_CREDENTIALS,
                    id=f"auth-input-{index}",
                    classes="auth-input",
                    compact=True,
                )
            with Horizontal():
                yield Button("Log in", id="login", variant="primary", compact=True)
                yield Button("Skip host", id="skip", compact=True)

    def on_mount(self) -> None:
        inputs = list(self.query(".auth-input").results(Input))
        empty = next((i for i in inputs if not i.value), None)
        target = empty or next(iter(self.query("#login").results(Button)), None)
        if target is not None:
            self.set_focus(target)

    def answers(self) -> list[str]:
        return [i.value for i in self.query(".auth-input").results(Input)]

    @on(Input.Submitted, ".auth-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(".auth-input").results(Input))
        at = inputs.index(event.input)
        if at + 1 < len(inputs):
            self.set_focus(inputs[at + 1])
        else:
            self.dismiss(self.answers())

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.answers() if event.button.id == "login" else None)

    def action_skip(self) -> None:
        self.dismiss(None)
