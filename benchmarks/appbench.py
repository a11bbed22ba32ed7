"""App-side measurements: apply+render per tick, idle CPU, start-up, RSS with history."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from balloon_tui.cli import tune_gc
from balloon_tui.core.model import GuestStats, HostSnapshot
from balloon_tui.core.sizes import MIB
from balloon_tui.core.writes import TargetRequest
from balloon_tui.tui import create_app
from balloon_tui.tui.fleetlink import FleetLike
from balloon_tui.virt.session import HostSession

REPO = Path(__file__).resolve().parent.parent
LATE_FRAME_LIMIT_SECONDS = 1.0  # a frame later than this is a hang, not a slow tick
SETTLE_SECONDS = 0.05  # three frames at Textual's 60 Hz screen updates


class StaticFleet(FleetLike):
    """Stands in for the Fleet: the benchmark feeds snapshots itself."""

    readonly = False

    def __init__(self, uris: list[str]) -> None:
        self._uris = uris

    @property
    def uris(self) -> list[str]:
        return self._uris

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def refresh(self) -> None: ...
    def request_target(self, request: TargetRequest) -> None: ...


def polled(uris: list[str]) -> list[HostSnapshot]:
    snapshots = []
    for uri in uris:
        session = HostSession(uri)
        session.open()
        snapshots.append(session.poll())
        session.close()
    return snapshots


def moved(host: HostSnapshot, tick: int) -> HostSnapshot:
    """A tick where a tenth of the balloons moved: the table has real cells to update."""
    domains = tuple(
        replace(d, actual_kib=max(MIB, d.actual_kib - ((tick + i) % 3) * 16 * MIB))
        if (i + tick) % 10 == 0
        else d
        for i, d in enumerate(host.domains)
    )
    return replace(host, domains=domains, taken_at=host.taken_at + 2 * tick)


def with_stats(host: HostSnapshot, tick: int) -> HostSnapshot:
    """Guests that report stats, their use drifting a little every tick: the regulator then
    damps and plans every running guest with a balloon instead of excluding them all (the
    test driver reports no guest stats)."""
    domains = tuple(
        replace(
            d,
            stats=GuestStats(
                usable=max(0, d.actual_kib - (d.actual_kib // 3 + ((tick + i) % 5) * 8 * MIB)),
                unused=d.actual_kib // 4,
                swap_out=tick * 64 if i % 4 == 1 else 0,
                major_fault=tick * 3,
            ),
        )
        if d.device.present and d.state.is_active
        else d
        for i, d in enumerate(host.domains)
    )
    return replace(host, domains=domains)


async def _apply_render(
    hosts: list[HostSnapshot], ticks: int, size: tuple[int, int], regulator: bool | None = None
) -> list[float]:
    """CPU seconds per tick. `regulator`: None, the snapshots as polled (the test driver's
    guests report no stats); False, with guest stats but the regulator not run; True, with
    guest stats and the regulator run as the app runs it (every tick fed, a plan per host
    every round of 10 s, i.e. every fifth tick at 2 s)."""
    clock_now = [time.time()]
    fleet = StaticFleet([h.uri for h in hosts])
    app = create_app(lambda _s, _w: fleet, show_host=len(hosts) > 1, clock=lambda: clock_now[0])
    tune_gc()  # as balloon-tui's start-up does
    samples: list[float] = []
    late: list[int] = []
    async with app.run_test(size=size) as pilot:
        for tick in range(ticks + 3):
            clock_now[0] += 2.0
            tick_hosts = [moved(host, tick) for host in hosts]
            if regulator is not None:
                tick_hosts = [with_stats(host, tick) for host in tick_hosts]
            # CPU time of the process, not wall time: the app is one thread here. It is taken
            # over a settle window in which the screen's update timer (60 Hz) composes and
            # renders the frame; Pilot.pause() is not in the window because its own machinery
            # (a callback to every widget, awaited one by one) costs ~1 ms a tick that a
            # running app never spends.
            started = time.process_time()
            with app.batch_update():
                for host in tick_hosts:
                    app.main.view.apply(host)
                app.main.refresh_views()
                # As MainScreen.on_snapshots_ready does.
                if regulator and app.main.regulation.after_snapshots(tick_hosts):
                    app.main.refresh_views()
            await asyncio.sleep(SETTLE_SECONDS)
            # A frame not drawn yet (a busy machine, a tick that redraws the panel too): wait
            # for it, so the sample holds the whole frame's CPU (waiting itself costs none).
            waited = 0.0
            while app.screen._dirty_widgets and waited < LATE_FRAME_LIMIT_SECONDS:
                await asyncio.sleep(0.01)
                waited += 0.01
            if tick >= 3:  # the first ticks build every row
                samples.append(time.process_time() - started)
                if app.screen._dirty_widgets:
                    late.append(tick)
            await pilot.pause()
    if late:
        raise RuntimeError(
            f"ticks {late}: a frame was still to render after {LATE_FRAME_LIMIT_SECONDS} s"
        )
    return samples


def apply_render(
    hosts: list[HostSnapshot],
    ticks: int,
    size: tuple[int, int] = (120, 40),
    regulator: bool | None = None,
) -> list[float]:
    return asyncio.run(_apply_render(hosts, ticks, size, regulator))


async def _history_rss(hosts: list[HostSnapshot], ticks: int) -> int:
    clock_now = [time.time()]
    fleet = StaticFleet([h.uri for h in hosts])
    app = create_app(lambda _s, _w: fleet, clock=lambda: clock_now[0])
    tune_gc()
    async with app.run_test(size=(120, 40)) as pilot:
        for tick in range(ticks):
            clock_now[0] += 2.0
            with app.batch_update():
                for host in hosts:
                    app.main.view.apply(moved(host, tick))
                app.main.refresh_views()
            if tick % 50 == 0:
                await pilot.pause()
        await pilot.pause()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024


def history_rss_child(uri: str, ticks: int) -> int:
    """Peak RSS of a fresh process that kept `ticks` ticks of history."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks');"
        "from appbench import polled, _history_rss; import asyncio;"
        f"print(asyncio.run(_history_rss(polled([{uri!r}]), {ticks})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _app_pid(session: str) -> int:
    shell_pid = int(_tmux("display", "-p", "-t", session, "#{pane_pid}").strip())
    return shell_pid


def startup_seconds(runs: int = 5) -> list[float]:
    """Wall time from launching `balloon-tui --demo` in a terminal to its first full frame."""
    if shutil.which("tmux") is None:
        raise RuntimeError("tmux is needed for the start-up measurement")
    results = []
    command = f"exec {sys.executable} -m balloon_tui --demo --audit-log /dev/null"
    for run in range(runs):
        session = f"btui-bench-{os.getpid()}-{run}"
        started = time.perf_counter()
        _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(REPO), command)
        try:
            while True:
                screen = _tmux("capture-pane", "-p", "-t", session)
                if "windows-desktop" in screen and "web-frontend-01" in screen:
                    results.append(time.perf_counter() - started)
                    break
                if time.perf_counter() - started > 20:
                    raise RuntimeError("the demo did not draw within 20 s:\n" + screen)
                time.sleep(0.005)
        finally:
            _tmux("kill-session", "-t", session)
        time.sleep(0.3)
    return results


def idle_cpu_percent(seconds: float = 30.0) -> float:
    """CPU use of the app process while it sits on the demo (polling every 2 s)."""
    session = f"btui-idle-{os.getpid()}"
    command = f"exec {sys.executable} -m balloon_tui --demo --audit-log /dev/null"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(REPO), command)
    try:
        time.sleep(3.0)  # past start-up
        pid = _app_pid(session)
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        before, started = cpu(), time.perf_counter()
        time.sleep(seconds)
        return 100.0 * (cpu() - before) / (time.perf_counter() - started)
    finally:
        _tmux("kill-session", "-t", session)
