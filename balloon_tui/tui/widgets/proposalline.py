"""The panel's line about the regulator: its proposal for the guest and why, on one line."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content
from textual.widget import Widget

from balloon_tui.core.display import visible
from balloon_tui.core.regulator_words import Proposal
from balloon_tui.tui import render

ELLIPSIS = "…"
APPLY_HINT = " · y to apply"
NOT_RESPONDING_HINT = f" · {render.MARK_NOT_RESPONDING} not responding"
# Narrower than this for the reason, the hint at the end goes: the reason matters more.
REASON_MIN = 24

# What the line says, as plain values (compared to skip a redraw): (text, style) pieces
# before the reason, the reason and its style, and the pieces after it.
Piece = tuple[str, str]
Parts = tuple[tuple[Piece, ...], Piece, tuple[Piece, ...]]


def proposal_parts(proposal: Proposal | None, *, can_apply: bool) -> Parts | None:
    """What the line says; the reason is what gets cut. None: nothing to say.

    `can_apply`: a write is possible (not read-only, a balloon, the host connected)."""
    if proposal is None:
        return None
    reason = visible(proposal.reason)  # ours, built from numbers: visible only as a guard
    if proposal.target_kib is None:
        if proposal.not_responding:
            warn = render.STYLE_WARN
            return ((f"{render.MARK_NOT_RESPONDING} regulator: ", warn),), (reason, warn), ()
        dim = render.STYLE_DIM
        return (("regulator: ", dim),), (reason, dim), ()
    tail: list[Piece] = []
    if proposal.not_responding:
        tail.append((NOT_RESPONDING_HINT, render.STYLE_WARN))
    if can_apply:
        tail += [(" · ", render.STYLE_DIM), ("y", "bold"), (" to apply", render.STYLE_DIM)]
    head = ((f"{render.MARK_PROPOSAL} proposal: ", render.STYLE_PROPOSAL),)
    return head, (reason, ""), tuple(tail)


def cut_words(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut after a whole word where one fits, with …"""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    kept = ""
    for char in text:
        if cell_len(kept + char) > width - 1:
            break
        kept += char
    space = kept.rfind(" ")
    if space >= width // 2:  # a word boundary not too far back
        kept = kept[:space]
    return kept.rstrip(" ,;:·") + ELLIPSIS


def fit_line(parts: Parts, width: int) -> Text:
    """One line of at most `width` cells: the reason is cut, the hint dropped if need be."""
    head_pieces, (reason, style), tail_pieces = parts
    head, tail = Text.assemble(*head_pieces), Text.assemble(*tail_pieces)
    room = width - head.cell_len - tail.cell_len
    if room < min(REASON_MIN, cell_len(reason)):
        tail = Text()
        room = width - head.cell_len
    line = Text.assemble(head, (cut_words(reason, room), style), tail, no_wrap=True, end="")
    line.truncate(max(0, width), overflow="ellipsis")
    return line


class ProposalLine(Widget):
    """One line; hidden when there is nothing to say (no plan for the guest's host)."""

    DEFAULT_CSS = """
    ProposalLine { height: 1; }
    ProposalLine.-empty { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-empty")
        self.parts: Parts | None = None

    @property
    def text(self) -> Text:
        """The line as drawn at the current width (for tests)."""
        if self.parts is None:
            return Text()
        return fit_line(self.parts, self.content_size.width)

    def show(self, proposal: Proposal | None, *, can_apply: bool) -> None:
        parts = proposal_parts(proposal, can_apply=can_apply)
        if parts == self.parts:
            return
        self.parts = parts
        self.set_class(parts is None, "-empty")
        self.refresh()

    def render(self) -> Content:
        return render.themed(self.text)

    def on_resize(self) -> None:
        self.refresh()
