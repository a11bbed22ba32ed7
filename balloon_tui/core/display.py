"""Foreign text made safe to show: names, URIs, metadata and errors are other people's text.

A domain name is chosen by whoever defined the guest; libvirt's error text quotes it; a
config file is typed by hand. None of it may reach the terminal as markup (the UI layer
builds `Text` objects or passes `markup=False` for that) nor as raw control characters:
a C1 CSI (U+009B) starts an escape sequence on many terminals, a bidi override reverses
what follows it, a TAB or a newline shifts a row. `visible` turns each such character into
a backslash escape the operator can read; `fit_cells` shortens by terminal cells, keeping
both ends, so `web-frontend-01` and `-02` stay apart. `--once --json` keeps the exact string.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rich.cells import cell_len

ELLIPSIS = "…"

# Unicode's explicit directional formatting characters (UAX #9) and the marks: each one
# changes how the rest of the line is drawn, so a name could hide or reorder what follows.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Line and paragraph separators: some terminals and Textual break lines on them.
_SEPARATORS = frozenset("\u2028\u2029\u0085")


def _is_unsafe(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or char in _BIDI_CONTROLS
        or char in _SEPARATORS
        or unicodedata.category(char) in ("Cs", "Co")  # lone surrogates, private use
    )


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@lru_cache(maxsize=8192)
def visible(text: str) -> str:
    """`text` with every control, bidi and separator character shown as an escape.

    Cached: the same names are drawn on every tick.
    """
    if text.isprintable() and text.isascii():
        return text
    return "".join(_escape(c) if _is_unsafe(c) else c for c in text)


def has_unsafe(text: str) -> bool:
    """True when `visible(text)` differs from `text`."""
    return any(_is_unsafe(c) for c in text)


def fit_cells(text: str, width: int) -> str:
    """`text` shortened to at most `width` terminal cells, the middle replaced by `…`.

    Counts cells, not characters: CJK and emoji take two, combining marks none. The text
    should already be `visible`. A width under 1 gives "".
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    room = width - 1
    head_room = (room + 1) // 2
    tail_room = room - head_room
    head = _take_cells(text, head_room)
    tail = _take_tail_cells(text[len(head) :], tail_room)
    return head + ELLIPSIS + tail


def _take_cells(text: str, width: int) -> str:
    """The longest prefix of `text` that fits in `width` cells, with the combining marks
    that follow its last character (they take no cell and belong to it)."""
    used = 0
    end = 0
    for index, char in enumerate(text):
        size = cell_len(char)
        if used + size > width:
            break
        used += size
        end = index + 1
    while end < len(text) and cell_len(text[end]) == 0 and unicodedata.combining(text[end]):
        end += 1
    return text[:end]


def _take_tail_cells(text: str, width: int) -> str:
    """The longest suffix of `text` that fits in `width` cells and does not start with a
    combining mark cut off from its base."""
    used = 0
    start = len(text)
    for index in range(len(text) - 1, -1, -1):
        size = cell_len(text[index])
        if used + size > width:
            break
        used += size
        start = index
    while start < len(text) and unicodedata.combining(text[start]):
        start += 1
    return text[start:]


def shown(text: str, width: int | None = None) -> str:
    """`visible`, then `fit_cells` when a width is given: the one call for a foreign string."""
    safe = visible(text)
    return safe if width is None else fit_cells(safe, width)


def plural(count: int, noun: str) -> str:
    """`noun` as it reads after `count`: "1 guest", "0 guests", "2 guests"."""
    return noun if count == 1 else noun + "s"


def counted(count: int, noun: str) -> str:
    return f"{count} {plural(count, noun)}"
