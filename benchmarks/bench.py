"""`make bench`: balloon-tui's tick cost against the bare libvirt fetch and against peers.

Prints a Markdown report; docs/performance.md holds a copy with the machine and the date.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from appbench import apply_render, history_rss_child, idle_cpu_percent, polled, startup_seconds
from fetchbench import measure_fetch, measure_virsh, median_p95
from nodefiles import many_domains, write_node_file
from regbench import rows as regulator_rows

SIZES = (10, 100, 1000, 5000)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def tick_cell(samples: list[float]) -> str:
    median, p95 = median_p95(samples)
    return f"{ms(median)} / {ms(statistics.mean(samples))} / {ms(p95)}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="fewer ticks, skip the slow parts")
    args = parser.parse_args()
    ticks = 8 if args.quick else args.ticks
    out = []
    out.append(f"Machine: {machine()}  ")
    out.append(f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}  ")
    out.append("Reproduce: `make bench`\n")
    out.append("## Per tick (ms, median / p95)\n")
    out.append(
        "| domains | bare fetch | balloon-tui fetch | apply+render | whole tick | "
        "whole / bare | per-domain calls | virsh domstats |"
    )
    out.append("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        uris = {}
        for count in SIZES:
            uris[count] = write_node_file(Path(scratch) / f"n{count}.xml", many_domains(count))
        for count in SIZES:
            fetch = measure_fetch(uris[count], ticks)
            render = median_p95(apply_render(polled([uris[count]]), ticks))
            virsh = (
                measure_virsh(uris[count], max(3, ticks // 5)) if shutil.which("virsh") else None
            )
            whole = fetch["balloon-tui poll"][0] + render[0]
            out.append(
                f"| {count} | {ms(fetch['bare fetch'][0])} / {ms(fetch['bare fetch'][1])} "
                f"| {ms(fetch['balloon-tui poll'][0])} / {ms(fetch['balloon-tui poll'][1])} "
                f"| {ms(render[0])} / {ms(render[1])} | {ms(whole)} "
                f"| {whole / fetch['bare fetch'][0]:.2f}x "
                f"| {ms(fetch['per-domain calls'][0])} "
                f"| {ms(virsh[0]) if virsh else 'n/a'} |"
            )
            print(out[-1], file=sys.stderr)
        # 20 hosts x 250 domains: each host is fetched on its own thread; the app applies all.
        fleet_uris = [
            write_node_file(Path(scratch) / f"h{i}.xml", many_domains(250)) for i in range(20)
        ]
        fetches = [
            measure_fetch(uri, max(3, ticks // 3))["balloon-tui poll"][0] for uri in fleet_uris
        ]
        render20 = median_p95(apply_render(polled(fleet_uris), ticks))
        out.append(
            f"| 20 hosts x 250 | – | {ms(max(fetches))} (slowest host; hosts in parallel) "
            f"| {ms(render20[0])} / {ms(render20[1])} "
            f"| {ms(max(fetches) + render20[0])} | – | – | – |"
        )
        out.append("")
        out.append("## Regulator\n")
        for count in (1000, 5000):
            out.extend(regulator_rows(count))
        out.append("")
        out.append("## Process\n")
        startups = startup_seconds(3 if args.quick else 5)
        out.append(
            f"- Start-up to first frame (demo, 120x40, tmux): median "
            f"{statistics.median(startups):.2f} s, max {max(startups):.2f} s"
        )
        if not args.quick:
            cpu = idle_cpu_percent(30.0)
            out.append(f"- Idle CPU on the demo over 30 s: {cpu:.2f} % of one core")
            rss = history_rss_child(uris[1000], 300)
            out.append(
                f"- Peak RSS after 10 minutes of history (300 ticks) at 1000 domains: "
                f"{rss / 1e6:.0f} MB"
            )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
