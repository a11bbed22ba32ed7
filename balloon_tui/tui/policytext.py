"""A guest's regulator policy in words: the panel's line, the dialog's and the log's."""

from __future__ import annotations

from rich.text import Text

from balloon_tui.core.model import DEFAULT_GUEST_POLICY, DomainSnapshot, GuestPolicy
from balloon_tui.tui import render


def policy_words(policy: GuestPolicy, maximum_kib: int) -> str:
    """`min 1.00G · max 4.00G · shares 500` for a guest with this maximum; a bound left to
    its default names that default (min: the safety floor; max: the maximum)."""
    low = "floor" if policy.min_kib is None else render.short_size(policy.min_kib)
    high = render.short_size(maximum_kib if policy.max_kib is None else policy.max_kib)
    shares = f"shares {policy.shares}" + (" (left alone)" if policy.shares == 0 else "")
    return f"min {low} · max {high} · {shares}"


def policy_line(domain: DomainSnapshot) -> Text | None:
    """The panel's line: only a policy that is not the defaults, or one the metadata held
    that was refused (its note is built by core from foreign text: visible, bounded)."""
    text = Text()
    if domain.policy != DEFAULT_GUEST_POLICY:
        text.append("policy: ", render.STYLE_DIM)
        text.append(policy_words(domain.policy, domain.maximum_kib))
    if domain.policy_note:
        if text:
            text.append("\n")
        text.append(f"{render.MARK_STALLED} {domain.policy_note}", render.STYLE_WARN)
    return text or None
