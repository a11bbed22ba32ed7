"""Fetch-side measurements: balloon-tui's poll against the bare libvirt call and peers."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable

import libvirt

from balloon_tui.virt.events import ensure_event_loop
from balloon_tui.virt.session import HostSession

STATS_FLAGS = libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_STATE


def timings(action: Callable[[], object], repeat: int) -> list[float]:
    action()  # warm-up: first polls read every domain's XML once
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def bare_fetch(conn: libvirt.virConnect) -> None:
    """The limit: the same data, fetched the cheapest way the driver allows."""
    records = conn.getAllDomainStats(STATS_FLAGS)
    if records and "balloon.current" not in records[0][1]:
        for dom, values in records:  # test driver: the balloon group is missing
            dom.info()
            if values.get("state.state") == libvirt.VIR_DOMAIN_RUNNING:
                dom.memoryStats()


def per_domain_fetch(conn: libvirt.virConnect) -> None:
    """How virt-manager-style tools poll: list, then one memoryStats() per domain."""
    for dom in conn.listAllDomains():
        dom.info()
        if dom.isActive():
            dom.memoryStats()


def virsh_fetch(uri: str) -> None:
    """How shell scripts poll: one `virsh domstats --balloon` process per tick."""
    subprocess.run(
        ["virsh", "-c", uri, "domstats", "--balloon", "--state"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure_fetch(uri: str, repeat: int) -> dict[str, tuple[float, float]]:
    ensure_event_loop()
    session = HostSession(uri)
    session.open()
    conn = session.connection()
    results = {
        "balloon-tui poll": median_p95(timings(session.poll, repeat)),
        "bare fetch": median_p95(timings(lambda: bare_fetch(conn), repeat)),
        "per-domain calls": median_p95(timings(lambda: per_domain_fetch(conn), repeat)),
    }
    session.close()
    return results


def measure_virsh(uri: str, repeat: int) -> tuple[float, float]:
    return median_p95(timings(lambda: virsh_fetch(uri), repeat))
