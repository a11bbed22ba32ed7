"""Memory sizes. Everything internal is KiB, libvirt's unit; text is IEC."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

KIB = 1
MIB = 1024
GIB = 1024 * 1024
TIB = 1024 * 1024 * 1024

# The smallest target balloon-tui sets, or believes from a domain's metadata (a guest with
# less than this is not running anything); a guest whose maximum is smaller has that.
MINIMUM_KIB = 1 * MIB

ACCEPTED_FORMS = (
    "a size like 1.5G, 1536M, 1572864K, 1.5GiB, 2T, a percentage of the maximum like 75%, "
    "or a plain number of MiB"
)

_UNITS: dict[str, int] = {
    "k": KIB,
    "kb": KIB,
    "kib": KIB,
    "m": MIB,
    "mb": MIB,
    "mib": MIB,
    "g": GIB,
    "gb": GIB,
    "gib": GIB,
    "t": TIB,
    "tb": TIB,
    "tib": TIB,
}
_SIZE_RE = re.compile(r"^\s*(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<unit>[a-zA-Z%]*)\s*$")
# Beyond this no hypervisor has memory; it also keeps Decimal maths cheap for junk input.
_MAX_KIB = 2**53


class SizeError(ValueError):
    """A size text that cannot be understood; the message says what is accepted."""


def parse_size(text: str, maximum_kib: int | None = None) -> int:
    """Parse an operator's size into KiB (rounded to whole KiB).

    Plain numbers are MiB, as in virsh's `--size` habit of operators thinking in MiB.
    A percentage needs `maximum_kib`.
    """
    if not isinstance(text, str):
        raise SizeError(f"not a size: {text!r}; use {ACCEPTED_FORMS}")
    match = _SIZE_RE.match(text)
    if match is None:
        raise SizeError(f"not a size: {_shown(text)!r}; use {ACCEPTED_FORMS}")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise SizeError(f"not a number: {match['number']!r}") from exc
    unit = match["unit"].lower()
    if unit == "%":
        if maximum_kib is None:
            raise SizeError("a percentage needs the domain's maximum; give an absolute size")
        if number > 100:
            raise SizeError(
                f"{_shown(match['number'])}% is more than the maximum; use at most 100%"
            )
        kib = number * maximum_kib / 100
    elif unit == "":
        kib = number * MIB
    elif unit in _UNITS:
        kib = number * _UNITS[unit]
    else:
        raise SizeError(f"unknown unit {_shown(match['unit'])!r}; use {ACCEPTED_FORMS}")
    if kib > _MAX_KIB:
        raise SizeError(f"{_shown(text)!r} is larger than any machine's memory")
    result = int(kib.to_integral_value())
    if result <= 0:
        raise SizeError(f"{_shown(text)!r} is zero; a guest needs some memory")
    return result


def parse_percent(text: str, option: str, low: float, high: float, hint: str) -> float:
    """`text` ("20" or "20%") as a fraction, the percentage from `low` to `high`.

    SizeError names `option` and ends with `hint` (what to type instead)."""
    given = text.strip()
    try:
        value = float(given.removesuffix("%").strip())
    except ValueError:
        raise SizeError(f"{option}: not a percentage: {given[:40]!r}; {hint}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise SizeError(f"{option}: {given[:40]} is out of range; {hint}")
    return value / 100


def _shown(text: str, limit: int = 40) -> str:
    """The operator's text, shortened for a one-line message."""
    text = text.strip() or "(empty)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STEPS = (("TiB", TIB), ("GiB", GIB), ("MiB", MIB))


def format_size(kib: int) -> str:
    """Exact IEC text that `parse_size` reads back to the same KiB.

    Uses the largest unit in which the value needs at most two decimals.
    """
    if kib < 0:
        return "-" + format_size(-kib)
    for name, unit in _STEPS:
        if kib >= unit and (kib * 100) % unit == 0:
            return f"{_trim(Decimal(kib) / unit)} {name}"
    return f"{kib} KiB"


def format_compact(kib: int | None) -> str:
    """Short display text with about three significant digits, for tables."""
    if kib is None:
        return "–"
    sign = "-" if kib < 0 else ""
    value = abs(kib)
    for name, unit in _STEPS:
        if value >= unit:
            scaled = value / unit
            # Decide on the rounded value: 9.996 GiB is "10.0 GiB", not "10.00 GiB".
            if round(scaled, 1) >= 100:
                return f"{sign}{scaled:.0f} {name}"
            if round(scaled, 2) >= 10:
                return f"{sign}{scaled:.1f} {name}"
            return f"{sign}{scaled:.2f} {name}"
    return f"{sign}{value} KiB"


def _trim(value: Decimal) -> str:
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
