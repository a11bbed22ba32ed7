"""Foreign text for the screen: no control character survives, widths are cells."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from balloon_tui.core.display import fit_cells, has_unsafe, shown, visible

DANGEROUS = "\x1b\x9b\x07\t\n\r\x00\x7f\u202e\u2066\u2069\u200f\u2028\u0085"


def test_c1_csi_and_bidi_overrides_are_shown_as_escapes() -> None:
    assert visible("a\x9b31mb") == "a\\x9b31mb"
    assert visible("evil\u202egnp.exe") == "evil\\u202egnp.exe"
    assert visible("tab\there") == "tab\\x09here"
    assert visible("pg[eu-central]") == "pg[eu-central]"  # brackets are not ours to touch


def test_ordinary_names_are_unchanged() -> None:
    for name in ("web-01", "日本語", "café", "e\u0301", "🎈 balloon", "cache[prod]-2"):
        assert visible(name) == name
        assert not has_unsafe(name)


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(DANGEROUS)))
def test_no_control_character_survives(name: str) -> None:
    safe = visible(name)
    for char in safe:
        code = ord(char)
        assert code >= 0x20 and not 0x7F <= code <= 0x9F
        assert unicodedata.bidirectional(char) not in (
            "LRE",
            "RLE",
            "LRO",
            "RLO",
            "PDF",
            "LRI",
            "RLI",
            "FSI",
            "PDI",
        )
    assert has_unsafe(name) == (safe != name)


@given(st.text(min_size=0, max_size=40), st.integers(min_value=0, max_value=30))
def test_fit_cells_never_exceeds_the_width(name: str, width: int) -> None:
    fitted = shown(name, width)
    assert cell_len(fitted) <= width
    if cell_len(visible(name)) <= width:
        assert fitted == visible(name)


def test_fit_cells_keeps_both_ends() -> None:
    assert fit_cells("web-frontend-01", 9) == "web-…d-01"
    assert fit_cells("日本語のゲスト名です", 9) == "日本…です"  # two cells each
    assert fit_cells("abc", 0) == ""
    assert fit_cells("abcdef", 1) == "…"
