"""`o`: the regulator's policy for one guest: min, max and shares, typed and checked here.

Blank means the default (min: the safety floor, max: the maximum, shares: 1000). A value that
does not parse or does not fit the guest shows why under the inputs, and nothing leaves.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from balloon_tui.core.display import shown, visible
from balloon_tui.core.guestpolicy import MAX_SHARES, policy_problem
from balloon_tui.core.model import DEFAULT_SHARES, DomainSnapshot, GuestPolicy
from balloon_tui.core.sizes import SizeError, format_size, parse_size
from balloon_tui.tui import render
from balloon_tui.tui.policytext import policy_words

# The name's share of the title line (the box is 72 cells, the words take 22, the corners 4).
TITLE_NAME_CELLS = 44
FIELDS = ("min", "max", "shares")
_SHARES_DIGITS = len(str(MAX_SHARES)) + 1  # longer is out of range: no need to parse it


def read_policy(
    min_text: str, max_text: str, shares_text: str, maximum_kib: int
) -> GuestPolicy | str:
    """The operator's three texts as a policy for a guest with this maximum, or why not.

    Sizes are read as the typed entry reads them (`parse_size`: 1.5G, 1536M, 75% of the
    maximum, a plain number of MiB); the policy is then checked as a stored one is read.
    """
    bounds: list[int | None] = []
    for word, text in (("min", min_text), ("max", max_text)):
        if not text.strip():
            bounds.append(None)
            continue
        try:
            bounds.append(parse_size(text, maximum_kib))
        except SizeError as exc:
            return f"{word}: {exc}"
    given = shares_text.strip()
    if not given:
        shares = DEFAULT_SHARES
    elif given.isascii() and given.isdigit() and len(given) <= _SHARES_DIGITS:
        shares = int(given)
    else:
        return f"shares: {given[:20]!r} is not a whole number from 0 to {MAX_SHARES}"
    policy = GuestPolicy(bounds[0], bounds[1], shares)
    problem = policy_problem(policy, maximum_kib)
    return policy if problem is None else problem


def check_line(policy: GuestPolicy | str, domain: DomainSnapshot, floor_kib: int | None) -> Text:
    """What the inputs mean, or the error; with what a valid policy will do to this guest."""
    if isinstance(policy, str):
        return Text(f"{render.MARK_ERROR} {visible(policy)}", style=render.STYLE_ERROR)
    line = Text.assemble(
        ("= ", render.STYLE_DIM), (policy_words(policy, domain.maximum_kib), "bold")
    )
    if policy.min_kib is not None and floor_kib is not None and policy.min_kib < floor_kib:
        line.append(
            f"\nmin is below the safety floor {render.short_size(floor_kib)}: the floor holds",
            render.STYLE_DIM,
        )
    if policy.max_kib is not None and policy.max_kib < domain.actual_kib:
        actual = render.short_size(domain.actual_kib)
        line.append(
            f"\n{render.MARK_STALLED} max is below the actual {actual}: "
            "the regulator will propose to shrink it",
            render.STYLE_WARN,
        )
    if policy.shares == 0:
        line.append("\nshares 0: the regulator proposes nothing for this guest", render.STYLE_DIM)
    return line


class PolicyScreen(ModalScreen[GuestPolicy | None]):
    """Dismisses with the policy to store, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = """
    PolicyScreen { align: center middle; }
    PolicyScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    PolicyScreen #policy-facts, PolicyScreen #policy-stored { color: $text-muted; }
    PolicyScreen #policy-rows { height: auto; margin: 1 0 0 0; }
    PolicyScreen .policy-row { height: 1; }
    PolicyScreen .policy-row Label { width: 8; }
    PolicyScreen .policy-row Input { width: 14; background: $panel; }
    PolicyScreen .policy-default { width: 1fr; margin: 0 0 0 1; color: $text-muted; }
    PolicyScreen #policy-check { height: auto; min-height: 1; margin: 1 0 0 0; }
    PolicyScreen #policy-hint { color: $text-muted; margin: 1 0 0 0; }
    """

    def __init__(self, domain: DomainSnapshot, floor_kib: int | None) -> None:
        super().__init__()
        self.domain = domain
        self.floor_kib = floor_kib

    def compose(self) -> ComposeResult:
        domain, policy = self.domain, self.domain.policy
        floor = render.short_size(self.floor_kib) if self.floor_kib is not None else "unknown"
        values = (
            "" if policy.min_kib is None else format_size(policy.min_kib),
            "" if policy.max_kib is None else format_size(policy.max_kib),
            "" if policy.shares == DEFAULT_SHARES else str(policy.shares),
        )
        defaults = (
            f"blank: the safety floor ({floor} now)",
            f"blank: the maximum {render.short_size(domain.maximum_kib)}",
            f"blank: {DEFAULT_SHARES} · 0: leave the guest alone",
        )
        with Vertical() as box:
            box.border_title = Text("regulator policy for ") + Text(
                shown(domain.name, TITLE_NAME_CELLS)
            )
            box.border_subtitle = "tab: next · enter stores · esc cancels"
            yield Static(
                render.themed(
                    render.sizes_line(
                        ("actual", domain.actual_kib),
                        ("used", domain.used_kib),
                        ("floor", self.floor_kib),
                        ("max", domain.maximum_kib),
                    )
                ),
                id="policy-facts",
            )
            yield Static(render.themed(self._stored_line()), id="policy-stored")
            with Vertical(id="policy-rows"):
                for field, value, default in zip(FIELDS, values, defaults, strict=True):
                    with Horizontal(classes="policy-row"):
                        yield Label(field)
                        yield Input(value=value, compact=True, id=f"policy-{field}")
                        yield Static(default, classes="policy-default")
            yield Static("", id="policy-check")
            yield Static(
                "sizes: 1.5G, 1536M, 75% (of max), or MiB\n"
                "shares: its weight in what is left of the host's budget",
                id="policy-hint",
            )

    def _stored_line(self) -> Text:
        domain = self.domain
        text = Text.assemble(
            ("stored: ", render.STYLE_DIM), policy_words(domain.policy, domain.maximum_kib)
        )
        if domain.policy == GuestPolicy():
            text.append(" (the defaults)", render.STYLE_DIM)
        if domain.policy_note:  # built by core from foreign metadata: visible, bounded
            text.append(f"\n{render.MARK_STALLED} {domain.policy_note}", render.STYLE_WARN)
        return text

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#policy-min", Input))  # now, not after a refresh

    def policy(self) -> GuestPolicy | str:
        """What the inputs say now: the policy, or why it cannot be stored."""
        texts = [self.query_one(f"#policy-{field}", Input).value for field in FIELDS]
        return read_policy(texts[0], texts[1], texts[2], self.domain.maximum_kib)

    def _show(self, policy: GuestPolicy | str) -> None:
        line = check_line(policy, self.domain, self.floor_kib)
        self.query_one("#policy-check", Static).update(render.themed(line))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(self.policy())

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        policy = self.policy()
        if isinstance(policy, str):
            self._show(policy)
            return
        self.dismiss(policy)

    def action_cancel(self) -> None:
        self.dismiss(None)
