"""The regulator's reasons: `Proposal`, and the words each kind of reason is made of.

A reason is kept as `Words` — its formatter and the facts it needs — and put into words on
first reading (docs/regulator.md "Cost"): a round plans every guest of a host, but only the
reasons someone reads are formatted.
"""

from __future__ import annotations

from typing import Any

from balloon_tui.core.model import DomainKey
from balloon_tui.core.regulator_settings import RegulatorSettings
from balloon_tui.core.sizes import format_compact

Words = tuple[Any, ...]
"""A reason not yet in words: (a formatter, its arguments). The same words come from equal
facts, so two reasons can be compared without formatting either."""


def say(words: Words) -> str:
    return str(words[0](*words[1:]))


class Proposal:
    """A target to set (or None) and why, in an operator's words.

    Immutable: its fields are read-only. `reason` may be given as `Words`, formatted on first
    reading and kept: a round plans every guest of a host, but only the reasons someone reads
    (the guests on screen, a script's output) are ever put into words. Two proposals are
    equal when all their fields are, `reason` included.
    """

    __slots__ = (
        "_current",
        "_key",
        "_need",
        "_not_responding",
        "_pressure",
        "_share",
        "_target",
        "_text",
        "_why",
    )

    def __init__(
        self,
        key: DomainKey,
        target_kib: int | None,
        reason: str | Words,
        need_kib: int | None = None,  # floor on damped used, at least min, raised under pressure
        share_kib: int | None = None,  # need plus its share of the rest of the budget
        # Where the guest is counted without a proposal: the target of a move under way,
        # else actual. The change gate is measured from here.
        current_kib: int | None = None,
        not_responding: bool = False,
        pressure: bool = False,
    ) -> None:
        self._key = key
        self._target = target_kib
        self._why = reason
        self._text: str | None = reason if isinstance(reason, str) else None
        self._need = need_kib
        self._share = share_kib
        self._current = current_kib
        self._not_responding = not_responding
        self._pressure = pressure

    @property
    def key(self) -> DomainKey:
        return self._key

    @property
    def target_kib(self) -> int | None:
        return self._target

    @property
    def reason(self) -> str:
        text = self._text
        if text is None:
            why = self._why
            text = self._text = why if isinstance(why, str) else say(why)
        return text

    @property
    def need_kib(self) -> int | None:
        return self._need

    @property
    def share_kib(self) -> int | None:
        return self._share

    @property
    def current_kib(self) -> int | None:
        return self._current

    @property
    def not_responding(self) -> bool:
        return self._not_responding

    @property
    def pressure(self) -> bool:
        return self._pressure

    def _numbers(self) -> tuple[object, ...]:
        return (
            self._key,
            self._target,
            self._need,
            self._share,
            self._current,
            self._not_responding,
            self._pressure,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Proposal):
            return NotImplemented
        return self._numbers() == other._numbers() and (
            self._why == other._why or self.reason == other.reason
        )

    def __hash__(self) -> int:
        return hash(self._numbers())

    def __repr__(self) -> str:
        return (
            f"Proposal(key={self._key!r}, target_kib={self._target!r}, reason={self.reason!r}, "
            f"need_kib={self._need!r}, share_kib={self._share!r}, "
            f"current_kib={self._current!r}, not_responding={self._not_responding!r}, "
            f"pressure={self._pressure!r})"
        )


def duration(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def per_second(kib_per_s: float) -> str:
    return f"{format_compact(max(1, round(kib_per_s)))}/s"


# The formatters of Words, each from the facts its words need.


def not_responding_words(asked: int, actual: int, stalled_s: float) -> str:
    return (
        f"not responding: asked {format_compact(asked)}, still at {format_compact(actual)} "
        f"after {duration(stalled_s)}; no further shrink"
    )


def stalled_words(asked: int, actual: int, stalled_s: float, why: str) -> str:
    """A guest without a proposal whose balloon does not answer either (no driver)."""
    return (
        f"not responding: asked {format_compact(asked)}, still at {format_compact(actual)} "
        f"after {duration(stalled_s)}; left alone" + (f" ({why})" if why else "")
    )


def swap_veto_words(rate: float) -> str:
    return f"swapping {per_second(rate)}: no shrink"


def swapping_words(rate: float) -> str:
    return f"swapping {per_second(rate)}"


def faults_words(recent: float, before: float | None) -> str:
    were = f", were {before:.0f}/s" if before is not None else ""
    return f"major faults {recent:.0f}/s{were}"


def low_usable_words(usable: int, margin: int) -> str:
    return f"only {format_compact(usable)} usable, margin {format_compact(margin)}"


def at_need_words(need: int, short: int) -> str:
    return f"at its need, {format_compact(need)}; host short by {format_compact(short)}"


def waits_words(share: int) -> str:
    return f"its share is {format_compact(share)}: waits for others to shrink under the budget"


def at_share_words(share: int) -> str:
    return f"at its share, {format_compact(share)}"


def change_words(
    target: int,
    actual: int,
    used: int,
    span_s: float | None,  # None: from one sample
    share: int,
    need: int,
    pressure: Words | None,
    host_over: int,
    short: int,
    autodeflate: bool,
    settings: RegulatorSettings,
) -> str:
    shown = format_compact(target)
    if span_s is None:
        basis = "from one sample, not damped"
    else:
        basis = f"p{settings.percentile * 100:g} of {duration(span_s)}"
    if target < actual:
        words = f"shrink to {shown}: {format_compact(actual - used)} idle ({basis}), "
        words += (
            f"host over budget by {format_compact(host_over)}"
            if host_over > 0
            else f"its share is {format_compact(share)}"
        )
        if target > share:
            words += f"; {format_compact(actual - target)} this round"
    elif pressure is not None:
        words = f"grow to {shown}: {say(pressure)}"
        if span_s is None:
            words += f" ({basis})"
    elif target <= need:
        words = (
            f"grow to {shown}: uses {format_compact(used)} ({basis}), needs {format_compact(need)}"
        )
    else:
        words = f"grow to {shown}: its share of the budget is {format_compact(share)}"
        if target < share:
            words += f"; {format_compact(target - actual)} this round"
        if span_s is None:  # --once, a first round: the operator should know it is one look
            words += f" ({basis})"
    if autodeflate:
        words += (
            f" (autodeflate: floor keeps {settings.autodeflate_margin_factor * 100:g} % "
            "of the margin)"
        )
    if short:
        words += f"; host short by {format_compact(short)}"
    return words
