"""`D`: the balloon device's own settings for one guest, then a confirmation of the changes.

autodeflate and free page reporting are config-only ("takes effect at the next boot"); the
stats period goes in the config and, for a running guest, live too unless unticked. A
transient guest has no config: only its live stats period can change.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from balloon_tui.core.balloonknobs import (
    NEXT_BOOT,
    BalloonKnobs,
    KnobsLook,
    KnobsRequest,
    knobs_words,
    period_problem,
)
from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import DomainSnapshot
from balloon_tui.core.statsperiod import MAX_STATS_PERIOD
from balloon_tui.tui import render

TITLE_NAME_CELLS = 44  # the box is 72 cells; "balloon settings for " and the corners take 26
_PERIOD_DIGITS = len(str(MAX_STATS_PERIOD)) + 1  # longer is out of range: not parsed


def read_request(
    domain: DomainSnapshot,
    look: KnobsLook,
    autodeflate: bool,
    free_page_reporting: bool,
    period_text: str,
    live_too: bool,
) -> KnobsRequest | str:
    """What the dialog's fields ask of this guest, or why nothing can be sent."""
    text = period_text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _PERIOD_DIGITS):
        return f"stats period: {text[:20]!r} is not whole seconds (0: off)"
    period = int(text)
    problem = period_problem(period)
    if problem is not None:
        return problem
    config = None
    if look.config is not None:
        config = BalloonKnobs(autodeflate, free_page_reporting, period)
        if config == look.config:
            config = None
    live_before = look.live.stats_period if look.live is not None else None
    live = period if live_too and look.live is not None and period != live_before else None
    if config is None and live is None:
        return "nothing to change"
    return KnobsRequest(
        domain.host_uri, domain.uuid, domain.name, config, look.config, live, live_before
    )


class BalloonKnobsScreen(ModalScreen[KnobsRequest | None]):
    """Dismisses with the changes to confirm and send, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = """
    BalloonKnobsScreen { align: center middle; }
    BalloonKnobsScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    BalloonKnobsScreen #knobs-facts, BalloonKnobsScreen #knobs-note { color: $text-muted; }
    BalloonKnobsScreen #knobs-note { margin: 1 0 0 0; }
    BalloonKnobsScreen Checkbox { margin: 0; }
    BalloonKnobsScreen #knobs-autodeflate { margin: 1 0 0 0; }
    BalloonKnobsScreen #knobs-period-row { height: 1; margin: 1 0 0 0; }
    BalloonKnobsScreen #knobs-period-row Label { width: 14; }
    BalloonKnobsScreen #knobs-period { width: 8; background: $panel; }
    BalloonKnobsScreen #knobs-period-hint { width: 1fr; margin: 0 0 0 1; color: $text-muted; }
    BalloonKnobsScreen #knobs-check { height: auto; min-height: 1; margin: 1 0 0 0; }
    BalloonKnobsScreen Horizontal.knobs-buttons { height: auto; align-horizontal: right; }
    BalloonKnobsScreen Button { margin: 0 0 0 2; min-width: 12; }
    """

    def __init__(self, domain: DomainSnapshot, look: KnobsLook) -> None:
        super().__init__()
        self.domain = domain
        self.look = look

    def compose(self) -> ComposeResult:
        look, config = self.look, self.look.config
        shown_knobs = config or look.live or BalloonKnobs()
        with Vertical() as box:
            box.border_title = Text("balloon settings for ") + Text(
                shown(self.domain.name, TITLE_NAME_CELLS)
            )
            box.border_subtitle = "space toggles · enter stores · esc cancels"
            yield Static(Text(self._facts()), id="knobs-facts")
            yield Checkbox(
                "autodeflate (deflate on OOM)",
                shown_knobs.autodeflate,
                id="knobs-autodeflate",
                disabled=config is None,
                compact=True,
            )
            yield Checkbox(
                "free page reporting",
                shown_knobs.free_page_reporting,
                id="knobs-fpr",
                disabled=config is None,
                compact=True,
            )
            with Horizontal(id="knobs-period-row"):
                yield Label("stats period")
                yield Input(str(shown_knobs.stats_period), compact=True, id="knobs-period")
                yield Static(
                    f"seconds (0: off, at most {MAX_STATS_PERIOD})", id="knobs-period-hint"
                )
            if look.live is not None:
                yield Checkbox(
                    "set the stats period now too (live)", True, id="knobs-live", compact=True
                )
            yield Static(Text(self._note()), id="knobs-note")
            yield Static("", id="knobs-check")
            with Horizontal(classes="knobs-buttons"):
                yield Button("Cancel", id="knobs-cancel")
                yield Button("Store…", id="knobs-store", variant="primary")

    def _facts(self) -> str:
        look = self.look
        where = "transient (no config)" if look.config is None else "persistent"
        lines = [f"{visible(look.model)} balloon · {self.domain.state.word} · {where}"]
        if look.live is not None:
            lines.append(f"now:    {knobs_words(look.live)}")
        if look.config is not None:
            lines.append(f"config: {knobs_words(look.config)}")
        return "\n".join(lines)

    def _note(self) -> str:
        if self.look.config is None:
            return (
                "a transient guest has no config: only the live stats period can change "
                "(libvirt cannot change autodeflate or free page reporting on a running guest)"
            )
        return (
            f"autodeflate and free page reporting: config only, {NEXT_BOOT} "
            "(libvirt cannot change them on a running guest)"
        )

    def on_mount(self) -> None:
        first = "#knobs-period" if self.look.config is None else "#knobs-autodeflate"
        self.set_focus(self.query_one(first))

    def request(self) -> KnobsRequest | str:
        live = self.query("#knobs-live")
        return read_request(
            self.domain,
            self.look,
            self.query_one("#knobs-autodeflate", Checkbox).value,
            self.query_one("#knobs-fpr", Checkbox).value,
            self.query_one("#knobs-period", Input).value,
            bool(live) and live.first(Checkbox).value,
        )

    def _show(self, request: KnobsRequest | str) -> None:
        if isinstance(request, str):
            line = Text(f"{render.MARK_ERROR} {visible(request)}", style=render.STYLE_ERROR)
        else:
            line = Text("\n".join(request.changes))
        self.query_one("#knobs-check", Static).update(render.themed(line))

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | Checkbox.Changed) -> None:
        event.stop()
        self._show(self.request())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._store()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "knobs-store":
            self._store()
        else:
            self.dismiss(None)

    def _store(self) -> None:
        request = self.request()
        if isinstance(request, str):
            self._show(request)
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmKnobsScreen(ModalScreen[bool]):
    """The changes, one a line, each saying when it takes effect; True: store them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("left,right", "switch", "switch", show=False),
    ]

    DEFAULT_CSS = """
    ConfirmKnobsScreen { align: center middle; }
    ConfirmKnobsScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ConfirmKnobsScreen #knobs-changes { margin: 1 0 0 0; }
    ConfirmKnobsScreen Horizontal { height: auto; margin: 1 0 0 0; align-horizontal: right; }
    ConfirmKnobsScreen Button { margin: 0 0 0 2; min-width: 12; }
    """

    def __init__(self, request: KnobsRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text("store balloon settings of ") + Text(
                shown(self.request.name, TITLE_NAME_CELLS - 6)
            )
            box.border_subtitle = "enter: store · esc: cancel"
            yield Static(Text("\n".join(self.request.changes)), id="knobs-changes")
            with Horizontal():
                yield Button("Cancel", id="knobs-confirm-cancel")
                yield Button("Store", id="knobs-confirm-store", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#knobs-confirm-store", Button))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "knobs-confirm-store")

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_switch(self) -> None:
        store = self.query_one("#knobs-confirm-store", Button)
        self.set_focus(
            self.query_one("#knobs-confirm-cancel", Button) if store.has_focus else store
        )
