"""Each guest's regulator policy: never below `min`, never above `max`, a share of what is left.

Stored in the domain's metadata, where any client of libvirtd can write: what is read is a
claim, checked here like a remembered target (`core.targets.check_remembered`). A policy that
is malformed or out of range is ignored as a whole, with a one-line note, and the guest keeps
the defaults: half a policy would be one nobody wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from balloon_tui.core.display import shown
from balloon_tui.core.model import (
    DEFAULT_GUEST_POLICY,
    DEFAULT_SHARES,
    DomainKey,
    GuestPolicy,
)
from balloon_tui.core.sizes import MINIMUM_KIB, format_compact
from balloon_tui.core.targets import QUOTED_CELLS
from balloon_tui.core.writes import WriteSource

MAX_SHARES = 100_000
# The metadata attributes of `<policy min-kib='…' max-kib='…' shares='…'/>`.
MIN_ATTRIBUTE, MAX_ATTRIBUTE, SHARES_ATTRIBUTE = "min-kib", "max-kib", "shares"
_MOST_DIGITS = 16  # 2**53 KiB has 16 digits: a longer number is not parsed at all


@dataclass(frozen=True, slots=True)
class PolicyRead:
    """A policy found in a domain's metadata, checked: the one to use, and why a policy that
    was there is not (None when it was taken, or there was none)."""

    policy: GuestPolicy = DEFAULT_GUEST_POLICY
    note: str | None = None


NO_POLICY = PolicyRead()


def policy_problem(policy: GuestPolicy, maximum_kib: int) -> str | None:
    """Why a guest with this maximum cannot have `policy`, or None: for a write as for a read."""
    shares = policy.shares
    if isinstance(shares, bool) or not isinstance(shares, int):
        return f"shares must be a whole number, not {shares!r}"
    if not 0 <= shares <= MAX_SHARES:
        return f"shares must be 0 to {MAX_SHARES}, not {shares}"
    minimum = max(1, min(MINIMUM_KIB, maximum_kib))
    for word, kib in (("min", policy.min_kib), ("max", policy.max_kib)):
        if kib is None:
            continue
        if isinstance(kib, bool) or not isinstance(kib, int):
            return f"{word} must be a size in KiB, not {kib!r}"
        if kib > maximum_kib:
            return (
                f"{word} {format_compact(kib)} is above the maximum {format_compact(maximum_kib)}"
            )
        if kib < minimum:
            return f"{word} {format_compact(kib)} is below the minimum {format_compact(minimum)}"
    low, high = policy.min_kib, policy.max_kib
    if low is not None and high is not None and low > high:
        return f"min {format_compact(low)} is above max {format_compact(high)}"
    return None


def _number(attributes: Mapping[str, str], name: str) -> int | str | None:
    """The attribute as a whole number, None when absent, or the text that is not one."""
    text = attributes.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > _MOST_DIGITS:
        return text
    return int(text)


def check_policy(found: Sequence[Mapping[str, str] | None], maximum_kib: int | None) -> PolicyRead:
    """Take the policy in the metadata only if it is well formed and fits this guest.

    `found` holds the attributes of each element in the policy namespace (None for one that
    is not a plain `<policy …/>`). Absent attributes mean the defaults; attributes this
    version does not know are left alone (a newer balloon-tui may have written them).
    """
    if not found:
        return NO_POLICY
    ignored = "policy in metadata ignored"
    if len(found) > 1:
        return PolicyRead(note=f"{len(found)} policies in metadata ignored: there should be one")
    attributes = found[0]
    if attributes is None:
        return PolicyRead(note=f"{ignored}: not a <policy …/> element")
    values: dict[str, int | None] = {}
    for name in (MIN_ATTRIBUTE, MAX_ATTRIBUTE, SHARES_ATTRIBUTE):
        value = _number(attributes, name)
        if isinstance(value, str):
            return PolicyRead(
                note=f"{ignored}: {name} '{shown(value, QUOTED_CELLS)}' is not a whole number"
            )
        values[name] = value
    if maximum_kib is None:
        return PolicyRead(note=f"{ignored}: the guest's maximum is unknown")
    shares = values[SHARES_ATTRIBUTE]
    policy = GuestPolicy(
        values[MIN_ATTRIBUTE],
        values[MAX_ATTRIBUTE],
        DEFAULT_SHARES if shares is None else shares,
    )
    problem = policy_problem(policy, maximum_kib)
    if problem is not None:
        return PolicyRead(note=f"{ignored}: {problem}")
    return PolicyRead(policy)


def policy_attributes(policy: GuestPolicy) -> dict[str, str]:
    """What `check_policy` reads back as `policy`: defaults (None) are left out."""
    attributes = {SHARES_ATTRIBUTE: str(policy.shares)}
    if policy.min_kib is not None:
        attributes[MIN_ATTRIBUTE] = str(policy.min_kib)
    if policy.max_kib is not None:
        attributes[MAX_ATTRIBUTE] = str(policy.max_kib)
    return attributes


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """Store `policy` in a guest's metadata: live, and in the config of a persistent guest."""

    host_uri: str
    uuid: str
    name: str
    policy: GuestPolicy
    previous: GuestPolicy | None = None
    source: WriteSource = field(default=WriteSource.TYPED, kw_only=True)

    @property
    def key(self) -> DomainKey:
        return (self.host_uri, self.uuid)


@dataclass(frozen=True, slots=True)
class PolicyResult:
    request: PolicyRequest
    ok: bool
    message: str
    error_code: int | None = None
    flags: int = 0

    @property
    def key(self) -> DomainKey:
        return self.request.key

    @property
    def summary(self) -> str:
        if self.ok:
            return f"{self.request.name}: policy stored ({self.message})"
        return f"{self.request.name}: policy not stored: {self.message}"
