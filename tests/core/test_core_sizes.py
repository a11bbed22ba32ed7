"""core/sizes.py: operator sizes in, IEC text out, and every kind of junk refused with a reason."""

from __future__ import annotations

import re
import string
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from balloon_tui.core.sizes import (
    ACCEPTED_FORMS,
    GIB,
    KIB,
    MIB,
    TIB,
    SizeError,
    format_compact,
    format_size,
    parse_percent,
    parse_size,
)

# The largest size parse_size accepts (no machine has more; also bounds Decimal work on junk).
LIMIT_KIB = 2**53
# The unit words the operator may use (case-insensitive), per ACCEPTED_FORMS and IEC.
KNOWN_UNITS = {"k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib", "t", "tb", "tib"}
IEC_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})? (KiB|MiB|GiB|TiB)$")
COMPACT_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)? (KiB|MiB|GiB|TiB)$")


# -- parsing: the accepted forms -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5G", 1572864),
        ("1536M", 1572864),
        ("1572864K", 1572864),
        ("1.5GiB", 1572864),
        ("1.5 GiB", 1572864),
        ("1.5g", 1572864),
        ("1.5gib", 1572864),
        ("1.5GB", 1572864),
        ("1536MiB", 1572864),
        ("1536mb", 1572864),
        ("1572864KiB", 1572864),
        ("1572864kb", 1572864),
        ("2T", 2 * TIB),
        ("2TiB", 2 * TIB),
        ("0.5T", TIB // 2),
        ("1536", 1572864),  # plain numbers are MiB
        ("1", MIB),
        ("0.5", 512),
        ("2.25", 2304),
        (".5G", GIB // 2),
        ("5.", 5 * MIB),
        ("  2G  ", 2 * GIB),
        ("\t512M\n", 512 * MIB),
        ("1K", 1),
        ("1.4K", 1),  # rounded to whole KiB
        ("1.6K", 2),
        ("007G", 7 * GIB),
    ],
)
def test_parse_accepted_forms(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [
        ("75%", 4 * GIB, 3 * GIB),
        ("100%", 4 * GIB, 4 * GIB),
        ("50%", 3 * GIB, 1536 * MIB),
        ("12.5%", GIB, 128 * MIB),
        ("1%", 100 * MIB, 1024),
        ("75 %", 4 * GIB, 3 * GIB),
        ("0.5%", 2 * GIB, 10486),  # 10485.76 rounds to 10486
    ],
)
def test_parse_percentage_of_maximum(text: str, maximum: int, expected: int) -> None:
    assert parse_size(text, maximum_kib=maximum) == expected


def test_absolute_sizes_ignore_the_maximum() -> None:
    assert parse_size("3G", maximum_kib=1 * GIB) == 3 * GIB  # the caller checks "above max"
    assert parse_size("512", maximum_kib=1 * GIB) == 512 * MIB


@given(
    percent=st.integers(min_value=1, max_value=100),
    maximum=st.integers(min_value=100, max_value=2**40),
)
def test_integer_percentages_are_exact_fractions(percent: int, maximum: int) -> None:
    expected = round(Fraction(percent * maximum, 100))  # half-even, like Decimal's default
    assert parse_size(f"{percent}%", maximum_kib=maximum) == expected
    assert parse_size("100%", maximum_kib=maximum) == maximum


# -- formatting ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kib", "text"),
    [
        (1, "1 KiB"),
        (1023, "1023 KiB"),
        (1025, "1025 KiB"),
        (MIB, "1 MiB"),
        (1536, "1.5 MiB"),
        (384 * MIB, "384 MiB"),
        (1572864, "1.5 GiB"),
        (GIB, "1 GiB"),
        (GIB + 10 * MIB, "1034 MiB"),
        (GIB + 256 * MIB, "1.25 GiB"),
        (64 * GIB, "64 GiB"),
        (2 * TIB, "2 TiB"),
        (TIB + TIB // 4, "1.25 TiB"),
        (-MIB, "-1 MiB"),
    ],
)
def test_format_size_examples(kib: int, text: str) -> None:
    assert format_size(kib) == text


positive_kib = st.one_of(
    st.integers(min_value=1, max_value=LIMIT_KIB),
    st.integers(min_value=1, max_value=1 << 20).map(lambda n: n * 1024),
    st.integers(min_value=1, max_value=1 << 16).map(lambda n: n * GIB // 4),
    st.integers(min_value=1, max_value=1 << 12).map(lambda n: n * TIB // 100),
    st.integers(min_value=1, max_value=4096),
)


@settings(max_examples=500)
@given(positive_kib)
def test_format_size_round_trips(kib: int) -> None:
    text = format_size(kib)
    assert IEC_TEXT.match(text), text
    assert parse_size(text) == kib
    assert parse_size(text.replace(" ", "")) == kib
    assert parse_size(text, maximum_kib=kib) == kib  # a maximum changes nothing for absolutes


@given(positive_kib)
def test_format_size_uses_a_unit_of_at_least_one(kib: int) -> None:
    number, unit = format_size(kib).split(" ")
    scale = {"KiB": KIB, "MiB": MIB, "GiB": GIB, "TiB": TIB}[unit]
    assert float(number) >= 1
    if kib % MIB == 0:
        assert unit != "KiB"  # whole MiB are never shown as KiB
    assert scale <= kib


@given(positive_kib)
def test_format_negative_mirrors_positive(kib: int) -> None:
    assert format_size(-kib) == "-" + format_size(kib)
    assert format_compact(-kib) == "-" + format_compact(kib)


@pytest.mark.parametrize(
    ("kib", "text"),
    [
        (None, "–"),
        (0, "0 KiB"),
        (512, "512 KiB"),
        (MIB, "1.00 MiB"),
        (384 * MIB, "384 MiB"),
        (1572864, "1.50 GiB"),
        (10 * GIB, "10.0 GiB"),
        (100 * GIB, "100 GiB"),
        (2 * TIB, "2.00 TiB"),
    ],
)
def test_format_compact_examples(kib: int | None, text: str) -> None:
    assert format_compact(kib) == text


@settings(max_examples=300)
@given(st.integers(min_value=1, max_value=2**52))
@example(10480518)  # 9.995 GiB: once "10.00 GiB", one character too wide for its column
@example(104805180)  # 99.95 GiB
def test_format_compact_is_short_and_close(kib: int) -> None:
    text = format_compact(kib)
    assert COMPACT_TEXT.match(text), text
    number, unit = text.split(" ")
    digits = number.replace(".", "").lstrip("0")
    if unit != "TiB":
        assert len(digits) <= 4  # about three significant digits (1023.6 MiB shows as 1024)
        assert len(text) <= 8
    if unit != "KiB":
        assert 1 <= float(number) <= 1024 or unit == "TiB"
    back = parse_size(text)
    assert abs(back - kib) <= kib * 0.005 + 1, (kib, text, back)


# -- rejection -------------------------------------------------------------------------------
VALID_SAMPLES = ["1.5G", "1536M", "1572864K", "1.5GiB", "2T", "75%", "512", "0.5 GiB"]


def _check_rejected(text: object, maximum: int | None, fragment: str) -> str:
    with pytest.raises(SizeError) as info:
        parse_size(text, maximum_kib=maximum)  # type: ignore[arg-type]
    message = str(info.value)
    assert message, "a refusal must say why"
    assert "\n" not in message
    assert "Decimal" not in message and "Traceback" not in message
    assert fragment in message, (text, message)
    return message


JUNK = [
    "",
    " ",
    "\t\n",
    "abc",
    "G",
    "GiB",
    "%",
    ".",
    "..5",
    "1.5.G",
    "1..5G",
    "1,5G",
    "1 5G",
    "1G2M",
    "1 G B",
    "1_000",
    "1e3",
    "1e-3G",
    "1E9",
    "0x400",
    "0b101",
    "+1G",
    "-1",
    "-1G",
    "-0.5G",
    "−1G",  # U+2212 minus sign
    "- 1G",
    "1G-",
    "(1G)",
    "1/2G",
    "½G",
    "1½G",
    "nan",
    "NaN",
    "nanG",
    "inf",
    "-inf",
    "Infinity",
    "infM",
    "None",
    "null",
    "true",
    "١٢٣",  # Arabic-Indic digits
    "١٢٣M",
    "１２３",  # fullwidth digits
    "１G",
    "४२G",  # Devanagari
    "²G",
    "1²",
    "৫M",
    "1\u00a0G\u00a0x",
    "1G;rm -rf /",
    "' OR 1=1 --",
    "1G\x00",
    "🎈",
    "1🎈",
    "1 gigabyte",
    "one gig",
    "1%%",
    "%50",
    "50%%",
    "1.5GiBs",
    "1GiG",
    "1 MiBi",
    "1gi",
]
UNKNOWN_UNITS = [
    "1XB",
    "1xb",
    "1B",
    "1b",
    "1bytes",
    "1PB",
    "1PiB",
    "1P",
    "1EB",
    "1EiB",
    "1ZiB",
    "1KBB",
    "1Mi",
    "1Gi",
    "1Ki",
    "1kilo",
    "1mega",
    "1giga",
    "1MBit",
    "1Mb/s",
    "1Ti B",
    "1GB2",
]


@pytest.mark.parametrize("text", JUNK + UNKNOWN_UNITS)
def test_junk_is_refused_with_the_accepted_forms(text: str) -> None:
    _check_rejected(text, None, ACCEPTED_FORMS)
    _check_rejected(text, 4 * GIB, ACCEPTED_FORMS)  # a maximum does not make junk valid


@pytest.mark.parametrize("value", [None, 1.5, 1024, b"1G", ["1G"], object()])
def test_non_text_is_refused(value: object) -> None:
    _check_rejected(value, None, ACCEPTED_FORMS)


@pytest.mark.parametrize(
    ("text", "maximum", "fragment"),
    [
        ("0", None, "zero"),
        ("0.0", None, "zero"),
        ("000", None, "zero"),
        ("0G", None, "zero"),
        ("0 MiB", None, "zero"),
        ("0T", None, "zero"),
        ("0.4K", None, "zero"),
        ("0.0000001G", None, "zero"),
        (".0001", None, "zero"),
        ("0%", 4 * GIB, "zero"),
        ("0.00001%", 4 * GIB, "zero"),
        ("1%", 10, "zero"),
        ("75%", None, "percentage needs the domain's maximum"),
        ("100%", None, "percentage needs the domain's maximum"),
        ("0.5%", None, "percentage needs the domain's maximum"),
        ("101%", 4 * GIB, "at most 100%"),
        ("100.01%", 4 * GIB, "at most 100%"),
        ("150%", 4 * GIB, "at most 100%"),
        ("99999999999%", 4 * GIB, "at most 100%"),
        ("8388609T", None, "larger than any machine's memory"),
        ("9999999999999999G", None, "larger than any machine's memory"),
        (f"{LIMIT_KIB + 1}K", None, "larger than any machine's memory"),
        ("9" * 40, None, "larger than any machine's memory"),
        ("1" + "0" * 400 + "T", None, "larger than any machine's memory"),
    ],
)
def test_meaningless_sizes_are_refused_with_the_reason(
    text: str, maximum: int | None, fragment: str
) -> None:
    _check_rejected(text, maximum, fragment)


def test_the_largest_accepted_size_is_the_limit() -> None:
    assert parse_size(f"{LIMIT_KIB}K") == LIMIT_KIB
    assert parse_size("8388608T") == LIMIT_KIB


@pytest.mark.parametrize(
    "text",
    [
        "9" * 10_000 + "G",
        "0" * 10_000,
        "1" + "0" * 10_000 + "%",
        "1" + "x" * 10_000,
        "é" * 10_000,
    ],
    ids=["huge", "zero", "percent", "unit", "letters"],
)
def test_refusals_of_long_input_stay_short(text: str) -> None:
    """The message goes into a one-line status bar: it must not echo 10 000 characters."""
    with pytest.raises(SizeError) as info:
        parse_size(text, maximum_kib=4 * GIB)
    assert len(str(info.value)) < 400


# -- generated junk --------------------------------------------------------------------------
def _forbidden(c: str) -> bool:
    """A character that can appear in no accepted size (ASCII digits, letters, '.', '%',
    and whitespace are the only ones that can)."""
    return not (c.isascii() and c.isalnum()) and c not in ".%" and not c.isspace()


@st.composite
def with_forbidden_char(draw: st.DrawFn) -> tuple[str, int | None, str]:
    base = draw(st.sampled_from(VALID_SAMPLES))
    char = draw(st.characters(codec="utf-8").filter(_forbidden))
    at = draw(st.integers(min_value=0, max_value=len(base)))
    return base[:at] + char + base[at:], 4 * GIB, ACCEPTED_FORMS


number_text = st.one_of(
    st.integers(min_value=1, max_value=10**6).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
)

unknown_unit = st.text(alphabet=string.ascii_letters, min_size=1, max_size=6).filter(
    lambda u: u.lower() not in KNOWN_UNITS
)
with_unknown_unit = st.tuples(number_text, st.sampled_from(["", " "]), unknown_unit).map(
    lambda t: (f"{t[0]}{t[1]}{t[2]}", None, ACCEPTED_FORMS)
)
negative = st.sampled_from([*VALID_SAMPLES, "1", "0.5"]).map(
    lambda s: ("-" + s, 4 * GIB, ACCEPTED_FORMS)
)
non_ascii_digits = (
    st.text(
        alphabet=st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()),
        min_size=1,
        max_size=6,
    )
    .flatmap(lambda d: st.sampled_from([d, d + "G", "1" + d, d + "%", "1." + d]))
    .map(lambda s: (s, 4 * GIB, ACCEPTED_FORMS))
)
blank = st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2003", max_size=8).map(
    lambda s: (s, None, ACCEPTED_FORMS)
)
# Below half a KiB once in KiB: nothing left after rounding to whole KiB.
zero = st.one_of(
    st.tuples(st.integers(0, 5), st.sampled_from(["", "K", "M", "G", "T", " GiB"])).map(
        lambda t: ("0" * (t[0] + 1) + t[1], None, "zero")
    ),
    st.integers(min_value=1, max_value=4).map(lambda d: (f"0.{d}K", None, "zero")),
    st.integers(min_value=1, max_value=99).map(lambda d: (f"0.0000{d:02d}M", None, "zero")),
)
huge = st.one_of(
    st.integers(min_value=LIMIT_KIB + 1, max_value=10**40).map(lambda n: (f"{n}K", None, "")),
    st.integers(min_value=2**43 + 1, max_value=10**30).map(lambda n: (f"{n}", None, "")),  # MiB
    st.integers(min_value=2**23 + 1, max_value=10**30).map(lambda n: (f"{n}T", None, "")),
).map(lambda t: (t[0], t[1], "larger than any machine's memory"))
percent_without_max = st.integers(min_value=1, max_value=100).map(
    lambda p: (f"{p}%", None, "percentage needs the domain's maximum")
)
over_hundred_percent = st.one_of(
    st.integers(min_value=101, max_value=10**12).map(str),
    st.integers(min_value=1, max_value=99).map(lambda d: f"100.{d}"),
).map(lambda p: (f"{p}%", 4 * GIB, "at most 100%"))

bad_inputs = st.one_of(
    with_forbidden_char(),
    with_unknown_unit,
    negative,
    non_ascii_digits,
    blank,
    zero,
    huge,
    percent_without_max,
    over_hundred_percent,
)


@settings(max_examples=600)
@given(bad_inputs)
def test_generated_bad_inputs_are_refused_with_a_message(
    case: tuple[str, int | None, str],
) -> None:
    text, maximum, fragment = case
    _check_rejected(text, maximum, fragment)


@settings(max_examples=300)
@given(st.text(max_size=20))
def test_any_text_either_parses_to_a_positive_size_or_says_what_is_wrong(text: str) -> None:
    try:
        value = parse_size(text, maximum_kib=4 * GIB)
    except SizeError as exc:
        assert str(exc)
        return
    assert 0 < value <= LIMIT_KIB
    assert all(c.isascii() or c.isspace() for c in text)


@pytest.mark.parametrize(
    ("text", "words"),
    [("abc", "not a percentage: 'abc'"), ("150", "150 is out of range"), ("nan%", "out of range")],
)
def test_parse_percent_names_the_option_and_what_to_type(text: str, words: str) -> None:
    with pytest.raises(SizeError) as caught:
        parse_percent(text, "--opt", 0, 100, "use 0 to 100")
    assert str(caught.value).startswith("--opt: ") and words in str(caught.value)
    assert str(caught.value).endswith("; use 0 to 100")


def test_parse_percent_takes_the_sign_or_not() -> None:
    assert parse_percent(" 20% ", "--opt", 0, 100, "") == 0.2
    assert parse_percent("20", "--opt", 0, 100, "") == 0.2
