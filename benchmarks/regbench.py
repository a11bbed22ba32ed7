"""One regulator round (core/regulator.py plan_host) over a host of many guests.

Each guest carries 150 samples (5 minutes at a 2 s poll) with moving counters; a quarter
of the guests grow, a quarter swap, so every branch of the policy runs. Two rounds are
timed: from scratch (every guest's samples damped) and in steady state (the signals from a
SignalCache, as a feed keeps them between rounds). Reasons are not read: a round formats
none (a screen reads those of the guests it shows).
Run alone: `python benchmarks/regbench.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from balloon_tui.core.model import DomainState
from balloon_tui.core.regulator import plan_host
from balloon_tui.core.regulator_inputs import GuestInput, GuestSample, SignalCache, summarise
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


TARGET_S = 0.005  # the target for one round at 5000 guests


def _median_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def measure_round(count: int, rounds: int = 15) -> dict[str, tuple[float, float]]:
    """Median and p95 seconds (wall clock; "... cpu": this process's CPU time, which a busy
    machine's other work does not inflate), at `count` guests, of:

    - "scratch": one plan_host round that damps every guest's samples (no signals given),
      and "damping": that damping alone (summarise over every guest);
    - "steady": a round in steady state: the signals of every guest from a SignalCache
      ("lookups"; nothing changed since the last round, so none is damped again) and
      plan_host on inputs that carry them ("plan"). The GuestInputs are built outside the
      timing: a feed builds one per guest every round either way.
    """
    guests = fleet(count)
    budget = int(sum(g.actual_kib for g in guests) * 0.8)
    cache = SignalCache(DEFAULT_SETTINGS)
    cached = [replace(g, signals=cache.signals(g.key, g.samples, NOW)) for g in guests]
    plan_host(guests, budget, now=NOW)  # warm up
    plan_host(cached, budget, now=NOW)
    times: dict[str, list[float]] = {
        "scratch": [],
        "scratch cpu": [],
        "damping": [],
        "lookups": [],
        "plan": [],
        "steady": [],
        "steady cpu": [],
    }
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        plan_host(guests, budget, now=NOW)
        times["scratch"].append(time.perf_counter() - started)
        times["scratch cpu"].append(time.process_time() - cpu)
        started = time.perf_counter()
        for guest in guests:
            summarise(guest.samples, NOW, DEFAULT_SETTINGS)
        times["damping"].append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        for guest in guests:
            cache.signals(guest.key, guest.samples, NOW)
        lookups = time.perf_counter() - started
        plan_started = time.perf_counter()
        plan_host(cached, budget, now=NOW)
        ended = time.perf_counter()
        times["steady cpu"].append(time.process_time() - cpu)
        times["lookups"].append(lookups)
        times["plan"].append(ended - plan_started)
        times["steady"].append(ended - started)
    return {name: _median_p95(values) for name, values in times.items()}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _verdict(count: int, median: float) -> str:
    if count < 5000:
        return ""
    met = "met" if median < TARGET_S else "missed"
    return f"; target under {_ms(TARGET_S)} at 5000: {met}"


def rows(count: int) -> list[str]:
    """Lines of make bench's report for one fleet size."""
    m = measure_round(count)
    load = os.getloadavg()[0]
    scratch, steady = m["scratch"], m["steady"]
    return [
        f"- One regulator round from scratch (plan_host damps every guest's {SAMPLES} "
        f"samples) at {count} guests: median {_ms(scratch[0])}, p95 {_ms(scratch[1])}, "
        f"CPU median {_ms(m['scratch cpu'][0])} (of which damping {_ms(m['damping'][0])})"
        f"{_verdict(count, scratch[0])}",
        f"- One regulator round in steady state (signals from the SignalCache, nothing "
        f"changed since the last round) at {count} guests: median {_ms(steady[0])}, "
        f"p95 {_ms(steady[1])}, CPU median {_ms(m['steady cpu'][0])} (cache look-ups "
        f"{_ms(m['lookups'][0])}, plan_host {_ms(m['plan'][0])})"
        f"{_verdict(count, steady[0])}; load average {load:.2f}",
    ]


if __name__ == "__main__":
    for size in (1000, 5000):
        print("\n".join(rows(size)))
