"""Names as a tenant could choose them: any of Unicode, markup, brackets, quotes, controls.

`domain_names()` draws whole names from pieces: Textual/Rich markup and its delimiters, C0
and C1 controls, bidi controls, separators, CJK, combining marks, emoji, and any character
at all. Only what a test-driver node file cannot carry is left out: `/` (libvirt refuses it
in a name) and what XML 1.0 cannot write (C0 controls but TAB, LF and CR; U+FFFE, U+FFFF;
lone surrogates). `check_screen` is the oracle for "nothing raw reaches the terminal".
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from balloon_tui.core.display import has_unsafe

TRICKY = (
    "[",
    "]",
    "[b]",
    "[bold red]",
    "[@click=app.target_maximum]",
    "@click=",
    "app.quit",
    '[a="]',
    '"',
    "'",
    "=",
    "\\",
    "$",
    "{",
    "}",
    "&",
    "<",
    ">",
    " ",
    "\t",
    "\n",
    "\r",
    "\x7f",
    "\x80",
    "\x85",
    "\x9b",
    "\x9d",
    "\x9f",
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\u2029",
    "数据库",
    "ｗｅｂ",
    "é\u0301",
    "\u0301",
    "\u20dd",
    "😀",
    "👩\u200d💻",
    "\ue000",
)
_UNWRITABLE = "/" + "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"

_any_character = st.characters(exclude_categories=("Cs",), exclude_characters=_UNWRITABLE)
_piece = st.one_of(st.sampled_from(TRICKY), st.text(_any_character, min_size=1, max_size=3))


def domain_names() -> st.SearchStrategy[str]:
    return st.lists(_piece, min_size=1, max_size=6).map("".join)


def screen_lines(app: Any) -> list[str]:
    """What every screen on the stack draws, line by line, as the terminal gets it.

    The compositor is Textual's own (private) renderer: the one place where the toasts,
    dialogs and every widget are put together into the lines written to the terminal.
    """
    lines = []
    for screen in app.screen_stack:
        for strip in screen._compositor.render_strips():
            lines.append("".join(segment.text for segment in strip))
    return lines


def check_screen(app: Any) -> str:
    """Fail on any control, bidi or separator character on screen; the screen's text."""
    lines = screen_lines(app)
    raw = [line for line in lines if has_unsafe(line)]
    assert not raw, f"raw control characters on screen: {raw!r}"
    return "\n".join(lines)
