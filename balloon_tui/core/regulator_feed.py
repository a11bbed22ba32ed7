"""The regulator's inputs, built from the snapshots the poller hands the app.

`RegulatorFeed.add` runs on the UI thread on every tick of every host, for thousands of
guests, so it keeps little: per guest a bounded deque of `GuestSample`s from the polls at
least `spacing_s` apart (4 s at the default 5-minute window); the polls in between cost one
comparison. The p95 over 5 minutes and the counters' rates need no more: a spike shorter
than the spacing is above the p95 anyway, and the counters are cumulative, so no swap-out
between two kept samples is lost. The newest numbers are never lost either: `inputs` adds
them from the snapshot it is given.

`inputs` turns one host's snapshot and its samples into the `GuestInput`s of one round; its
result is copied, so another thread may plan on it. `plan_for` is one round: the budget
resolved for the host, then `core.regulator.plan_host`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from balloon_tui.core.model import DomainKey, DomainSnapshot, HostSnapshot, HostStatus
from balloon_tui.core.regulator import HostPlan, plan_host
from balloon_tui.core.regulator_inputs import GuestInput, GuestSample
from balloon_tui.core.regulator_settings import DEFAULT_SETTINGS, Budget, RegulatorSettings

# Samples kept per damping window: one every 4 s at the default 5 minutes (polls every 2 s
# keep one in two). The p95 of 75 samples ignores the top 3; the 30 s pressure window
# still holds seven, and the newest poll is always added by `inputs`.
SAMPLES_PER_WINDOW = 75

_ANSWERED = frozenset({HostStatus.OK, HostStatus.SLOW})


class RegulatorFeed:
    """Per guest its recent samples. Not thread-safe: one thread adds (the UI's)."""

    def __init__(self, settings: RegulatorSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self.spacing_s = settings.window_s / SAMPLES_PER_WINDOW
        # The window, one sample before it, and one for rounding of the poll times.
        self.max_samples = SAMPLES_PER_WINDOW + 2
        self._polled: dict[str, float] = {}  # host URI -> the last poll seen
        self._kept: dict[str, float] = {}  # host URI -> the last poll sampled
        self._guests: dict[str, dict[DomainKey, deque[GuestSample]]] = {}

    def add(self, host: HostSnapshot) -> None:
        """One poll of a host. Only a host that answered counts (OK or SLOW): a disconnected
        host's guests are unknown, not gone. The same poll twice adds nothing. A poll closer
        than `spacing_s` to the last one sampled costs nothing: `inputs` takes the newest
        numbers from the snapshot it is given. At the next sampled poll, guests the host no
        longer has, or that stopped, are forgotten (a guest that starts again starts
        afresh)."""
        if host.status not in _ANSWERED:
            return
        at = host.taken_at
        uri = host.uri
        last = self._polled.get(uri)
        if last is not None and at <= last:
            return
        self._polled[uri] = at
        kept_at = self._kept.get(uri)
        if kept_at is not None and at - kept_at < self.spacing_s:
            return
        self._kept[uri] = at
        before = self._guests.get(uri, {})
        guests: dict[DomainKey, deque[GuestSample]] = {}
        cutoff = at - self.settings.window_s
        for domain in host.domains:
            if not domain.state.is_active:
                continue
            key = domain.key
            samples = before.get(key)
            sample = _sample(domain, at)
            if sample is None:
                # No stats this poll: nothing to add. What was kept ages out of the window
                # (one missed poll must not throw away five minutes).
                if samples is None:
                    continue
            elif samples is None:
                samples = deque((sample,), maxlen=self.max_samples)
            else:
                newest = samples[-1]
                if newest[1:] == sample[1:]:
                    # The same numbers: keep the objects already held, not new copies.
                    sample = _new_sample(GuestSample, (at, *newest[1:]))
                samples.append(sample)
            # Keep one sample before the window: the value the window starts with.
            while len(samples) > 1 and samples[1].at <= cutoff:
                samples.popleft()
            guests[key] = samples
        self._guests[uri] = guests

    def forget_host(self, uri: str) -> None:
        self._polled.pop(uri, None)
        self._kept.pop(uri, None)
        self._guests.pop(uri, None)

    def samples(self, key: DomainKey) -> tuple[GuestSample, ...]:
        """A guest's kept samples, oldest first; () for a guest not (or no longer) kept."""
        samples = self._guests.get(key[0], {}).get(key)
        return tuple(samples) if samples else ()

    def __len__(self) -> int:
        return sum(len(guests) for guests in self._guests.values())

    def inputs(
        self,
        host: HostSnapshot,
        now: float,
        asked: Mapping[DomainKey, int] | None = None,
    ) -> list[GuestInput]:
        """One `GuestInput` per domain of `host` (the newest snapshot), for a round at `now`.

        Each guest's samples are the kept ones plus the snapshot's own numbers when it is
        newer. `asked`: targets of our writes still in flight (the snapshot does not know
        them yet); else a domain's `target_kib` is what was asked."""
        guests = self._guests.get(host.uri, {})
        asked = asked or {}
        at = host.taken_at
        result = []
        for domain in host.domains:
            key = domain.key
            kept = guests.get(key)
            samples: tuple[GuestSample, ...] = tuple(kept) if kept else ()
            if domain.state.is_active and (not samples or samples[-1].at < at):
                sample = _sample(domain, at)
                if sample is not None:
                    samples = (*samples, sample)
            device = domain.device
            policy = domain.policy
            result.append(
                GuestInput(
                    key=key,
                    name=domain.name,
                    state=domain.state,
                    has_balloon=device.present,
                    actual_kib=domain.actual_kib,
                    # what the balloon can give: without the unplugged virtio-mem memory
                    maximum_kib=domain.balloon_ceiling_kib,
                    samples=samples,
                    stats_age_s=stats_age(domain, host, now),
                    stats_period_s=device.stats_period,
                    autodeflate=device.autodeflate,
                    min_kib=policy.min_kib,
                    max_kib=policy.max_kib,
                    shares=policy.shares,
                    asked_kib=asked.get(key, domain.target_kib),
                    stalled_s=stalled_for(domain, now),
                )
            )
        return result


# tuple.__new__ directly: a NamedTuple's own __new__ is a Python function, three times as
# slow, and add() makes one sample per guest per sampled poll.
_new_sample = tuple.__new__


def _sample(domain: DomainSnapshot, at: float) -> GuestSample | None:
    """The guest's numbers at one poll; None when it reports none of them."""
    stats = domain.stats
    used = domain.used_kib
    if used is None and stats.swap_out is None and stats.major_fault is None:
        return None
    return _new_sample(
        GuestSample,
        (at, used, stats.usable, stats.swap_out, stats.swap_in, stats.major_fault),
    )


def stats_age(domain: DomainSnapshot, host: HostSnapshot, now: float) -> float | None:
    """Seconds since the guest's stats were new; None when it reports none.

    Stats whose `last-update` is no wall-clock time (libvirt's test driver; see
    virt/guest_stats.py) are as old as the poll that read them: the app shows them as
    fresh too (`DomainSnapshot.stats_stale`)."""
    age = domain.stats_age(now)
    if age is None and not domain.stats.empty:
        return max(0.0, now - host.taken_at)
    return age


def stalled_for(domain: DomainSnapshot, now: float) -> float | None:
    """How long the actual has not moved toward the target asked for; None when no move is
    under way (converged, nothing asked, or moved from outside).

    `core/targets.py` sets `last_moved` on every poll that saw the actual move, and to the
    request's time when a new target is asked, so both PENDING (still moving, or not for
    long) and STALLED (10 s still) count from there."""
    progress = domain.progress
    if not progress.is_moving:
        return None
    since = progress.last_moved if progress.last_moved is not None else progress.since
    if since is None:
        return None
    return max(0.0, now - since)


def plan_for(
    feed: RegulatorFeed,
    host: HostSnapshot,
    budget: Budget,
    now: float,
    settings: RegulatorSettings | None = None,
    asked: Mapping[DomainKey, int] | None = None,
) -> HostPlan | None:
    """One round for one host (`settings`: the feed's when None). None when the budget
    cannot be resolved: a percentage of RAM on a host that does not report its RAM."""
    budget_kib = budget.resolve(host.memory_total_kib)
    if budget_kib is None:
        return None
    settings = feed.settings if settings is None else settings
    return plan_host(feed.inputs(host, now, asked), budget_kib, settings, now)


def no_plan_note(budget: Budget) -> str:
    """Why `plan_for` gave None, in words for a status line or a report."""
    return f"no budget: {budget.text}, and the host does not report its RAM"
