"""One regulator round (core/regulator.py plan_host) over a host of many guests.

Each guest carries 150 samples (5 minutes at a 2 s poll) with moving counters; a quarter
of the guests grow, a quarter swap, so every branch of the policy runs.
Run alone: `python benchmarks/regbench.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from balloon_tui.core.model import DomainState
from balloon_tui.core.regulator import plan_host
from balloon_tui.core.regulator_inputs import GuestInput, GuestSample, summarise
from balloon_tui.core.regulator_settings import DEFAULT_SETTINGS

MIB = 1024
GIB = 1024 * MIB
NOW = 1_700_000_000.0
SAMPLES = 150


def fleet(count: int) -> list[GuestInput]:
    guests = []
    for index in range(count):
        kind = index % 4
        actual = (2 + index % 7) * GIB
        used = actual // 3 + (index % 11) * 16 * MIB
        rows = []
        for step in range(SAMPLES):
            grown = used + (step * 4 * MIB if kind == 0 else 0)
            swap = step * 64 if kind == 1 else 0
            at = NOW - (SAMPLES - 1 - step) * 2.0
            rows.append(GuestSample(at, grown, actual - grown, swap, 0, step * 3))
        guests.append(
            GuestInput(
                key=("qemu+ssh://bench/system", f"{index:08d}-0000-0000-0000-000000000000"),
                name=f"guest{index}",
                state=DomainState.RUNNING,
                has_balloon=True,
                actual_kib=actual,
                maximum_kib=16 * GIB,
                samples=tuple(rows),
                stats_age_s=1.0,
                stats_period_s=2,
                autodeflate=kind == 2,
            )
        )
    return guests


def measure_round(count: int, rounds: int = 15) -> tuple[float, float, float]:
    """Median and p95 seconds of one plan_host round at `count` guests, and the median of
    its damping part alone (summarise over every guest's samples)."""
    guests = fleet(count)
    budget = int(sum(g.actual_kib for g in guests) * 0.8)
    plan_host(guests, budget, now=NOW)  # warm up
    times, damping = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        plan_host(guests, budget, now=NOW)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for guest in guests:
            summarise(guest.samples, NOW, DEFAULT_SETTINGS)
        damping.append(time.perf_counter() - started)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, statistics.median(damping)


def row(count: int) -> str:
    """A line of make bench's report."""
    median, p95, damping = measure_round(count)
    return (
        f"- One regulator round (plan_host) at {count} guests, {SAMPLES} samples each: "
        f"median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
        f"(of which damping the samples {damping * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    for size in (1000, 5000):
        print(row(size))
