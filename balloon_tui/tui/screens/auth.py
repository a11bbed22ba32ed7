"""Credentials for a URI that asks for them: libvirt's questions and ssh's, secrets hidden.

Dismisses with the answers in the order asked, or None when the operator skips the host
(Escape or "Skip host"): the host then stays disconnected until a refresh (ctrl+r).

A host key question (ssh's "are you sure you want to continue connecting", libssh's
"accept SSH host key ... (y/n)") is shown whole, fingerprint included, with Accept and
Refuse buttons; Refuse has the focus, so Enter alone never accepts a key.
"""

from __future__ import annotations

import re
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from balloon_tui.core.display import shown, visible
from balloon_tui.core.questions import Question, QuestionKind, classify
from balloon_tui.tui import render

# ssh's own last line of a host key question: our buttons ask it.
_SSH_CONTINUE = re.compile(r"^\s*Are you sure you want to continue connecting.*$", re.MULTILINE)


# The URI's share of the title line (the box is 64 cells).
TITLE_URI_CELLS = 50


class AuthScreen(ModalScreen[list[str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "skip", "skip host"),
        Binding("a", "host_key(True)", "accept host key", show=False),
        Binding("r", "host_key(False)", "refuse host key", show=False),
    ]

    DEFAULT_CSS = """
    AuthScreen { align: center top; }
    AuthScreen > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%; margin: 2 0 0 0;
        border: round $primary; background: $surface; padding: 0 1;
    }
    AuthScreen #auth-note { margin: 1 0 0 0; }
    AuthScreen Label { margin: 1 0 0 0; color: $text-muted; }
    AuthScreen .auth-host-key { margin: 1 0 0 0; }
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
        self.asked: list[Question] = [classify(kind, words) for kind, words in questions]
        self.host_key = next((q for q in self.asked if q.kind is QuestionKind.HOST_KEY), None)
        self.note = note
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text("log in to ") + Text(shown(self.uri, TITLE_URI_CELLS))
            box.border_subtitle = (
                "a: accept · r: refuse · esc: skip this host"
                if self.host_key is not None
                else "enter: log in · esc: skip this host"
            )
            if self.note:
                yield Static(
                    render.themed(
                        Text(f"{render.MARK_ERROR} {visible(self.note)}", style=render.STYLE_ERROR)
                    ),
                    id="auth-note",
                )
            for index, question in enumerate(self.asked):
                if question.kind is QuestionKind.HOST_KEY:
                    yield from self._host_key(question, index)
                    continue
                # libvirt's (or the server's) question: plain text, never markup.
                words = visible(question.prompt.strip().rstrip(":"))
                yield Label(Text(words + ":"), id=f"auth-label-{index}")
                yield Input(
                    value=self.username if question.kind is QuestionKind.NAME else "",
                    password=question.kind is QuestionKind.SECRET,
                    id=f"auth-input-{index}",
                    classes="auth-input",
                    compact=True,
                )
            with Horizontal():
                if self.host_key is not None:
                    yield Button("Accept host key", id="accept", compact=True)
                    yield Button("Refuse", id="refuse", variant="primary", compact=True)
                else:
                    yield Button("Log in", id="login", variant="primary", compact=True)
                yield Button("Skip host", id="skip", compact=True)

    def _host_key(self, question: Question, index: int) -> ComposeResult:
        """The question whole -- host, key type, fingerprint -- minus ssh's own yes/no line."""
        words = _SSH_CONTINUE.sub("", question.prompt).strip()
        lines = [visible(line) for line in words.splitlines() if line.strip()]
        text = Text("Unknown host key: accept it only if the fingerprint is the host's.\n")
        text.append("\n".join(lines), style="bold")
        yield Static(text, id=f"auth-label-{index}", classes="auth-host-key")

    def on_mount(self) -> None:
        if self.host_key is not None:
            self.set_focus(self.query_one("#refuse", Button))
            return
        inputs = list(self.query(".auth-input").results(Input))
        empty = next((i for i in inputs if not i.value), None)
        target = empty or next(iter(self.query("#login").results(Button)), None)
        if target is not None:
            self.set_focus(target)

    def answers(self, accept_key: bool = False) -> list[str]:
        typed = iter(i.value for i in self.query(".auth-input").results(Input))
        answers = []
        for question in self.asked:
            if question.kind is QuestionKind.HOST_KEY:
                answers.append(question.accept if accept_key else question.refuse)
            else:
                answers.append(next(typed, ""))
        return answers

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
        if event.button.id == "skip":
            self.dismiss(None)
        else:
            self.dismiss(self.answers(accept_key=event.button.id == "accept"))

    def action_host_key(self, accept: bool) -> None:
        if self.host_key is not None:
            self.dismiss(self.answers(accept_key=accept))

    def action_skip(self) -> None:
        self.dismiss(None)
