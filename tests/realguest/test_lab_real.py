"""`make lab` and `make lab-down` on the real libvirtd (issue 15).

The lab is brought up by the script `make lab` runs (scripts/lab.py up, without the app), and
taken down by the real `make lab-down`. Running this tears down a lab someone left running
on this machine (it is the lab's own teardown that is tested).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import guests as g
import libvirt
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_SCRIPT = REPO / "scripts" / "lab.py"
LAB_NAMES = {
    "balloon-lab-idle",
    "balloon-lab-cycle",
    "balloon-lab-noballoon",
    "balloon-lab-vmem",
}
BALLOON_GUESTS = LAB_NAMES - {"balloon-lab-noballoon"}
CYCLE_SWING_MIB = 192  # the cycle guest's use moves by 384 MiB; half of it is plenty
CYCLE_TIMEOUT = 45.0  # a rise and a fall take 16 s on an idle machine


def run_lab(command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(LAB_SCRIPT), command],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )
    assert result.returncode == 0, f"lab.py {command}: {result.stdout}{result.stderr}"
    return result


def make_lab_down() -> subprocess.CompletedProcess[str]:
    """The real make target, with this venv (its set-up is `make test`'s, already done)."""
    venv = Path(sys.prefix)
    result = subprocess.run(
        ["make", "-s", "-C", str(REPO), "lab-down", f"VENV={venv}", "-o", f"{venv}/.installed"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"make lab-down: {result.stdout}{result.stderr}"
    return result


def domains(conn: libvirt.virConnect) -> dict[str, libvirt.virDomain]:
    return {dom.name(): dom for dom in conn.listAllDomains(0)}


@pytest.fixture(scope="module")
def lab(libvirt_conn: libvirt.virConnect) -> Iterator[dict[str, libvirt.virDomain]]:
    started = time.monotonic()
    run_lab("up")
    g.record_timing("lab_up", time.monotonic() - started)
    try:
        yield {n: d for n, d in domains(libvirt_conn).items() if n.startswith("balloon-lab-")}
    finally:
        run_lab("down")


def used_mib(dom: libvirt.virDomain) -> int | None:
    kib = g.used_kib(dict(dom.memoryStats()))
    return None if kib is None else kib // 1024


def test_lab_comes_up_with_stats(
    lab: dict[str, libvirt.virDomain], libvirt_conn: libvirt.virConnect
) -> None:
    assert set(lab) == LAB_NAMES
    for name, dom in lab.items():
        assert dom.isActive() and not dom.isPersistent(), name
        assert dom.info()[1] <= 1024 * 1024, f"{name}: over 1 GiB"
        root = ET.fromstring(dom.XMLDesc(0))
        assert root.find("devices/memballoon/stats").get("period") == "2", name
    for name in BALLOON_GUESTS:
        stats = dict(lab[name].memoryStats())
        assert {"actual", "usable", "available", "last_update"} <= set(stats), (name, stats)
    assert "usable" not in dict(lab["balloon-lab-noballoon"].memoryStats())
    vmem = ET.fromstring(lab["balloon-lab-vmem"].XMLDesc(0))
    assert vmem.find("devices/memory[@model='virtio-mem']") is not None

    # A second `make lab` keeps the running guests.
    started = time.monotonic()
    again = run_lab("up")
    assert time.monotonic() - started < 10, "a second lab up booted something"
    assert again.stdout.count("running already") == len(LAB_NAMES), again.stdout
    now = domains(libvirt_conn)
    for name, dom in lab.items():
        assert now[name].UUIDString() == dom.UUIDString(), name


def test_cycle_workload_rises_and_falls(lab: dict[str, libvirt.virDomain]) -> None:
    dom = lab["balloon-lab-cycle"]
    seen: list[int] = []
    low = high = None
    rose = fell = False
    started = time.monotonic()
    while not (rose and fell):
        assert time.monotonic() - started < CYCLE_TIMEOUT, f"used (MiB) over time: {seen}"
        used = used_mib(dom)
        if used is not None and (not seen or used != seen[-1]):
            seen.append(used)
            low = used if low is None else min(low, used)
            high = used if high is None else max(high, used)
            # A rise from the lowest seen so far, then a fall from the highest after it.
            if not rose and used - low >= CYCLE_SWING_MIB:
                rose, high = True, used
            elif rose and high - used >= CYCLE_SWING_MIB:
                fell = True
        time.sleep(0.5)
    g.record_timing("lab_cycle_rise_and_fall", time.monotonic() - started, used_mib=seen)


def _inactive(conn: libvirt.virConnect, name: str) -> libvirt.virDomain:
    xml = g.domain_xml(name, g.GuestSpec(memory_mib=128), g.CONSOLE_DIR / f"{name}.console.log")
    return conn.defineXML(xml)


def test_lab_down_removes_only_the_lab(
    lab: dict[str, libvirt.virDomain],
    libvirt_conn: libvirt.virConnect,
    balloon_guest: g.Guest,
) -> None:
    # Beside the lab: a running test guest, a defined one, and one named like the lab's
    # that the lab did not make.
    keep = [
        _inactive(libvirt_conn, g.random_name("labkeep")),
        _inactive(libvirt_conn, f"balloon-lab-{g.random_name('impostor')}"),
    ]
    try:
        before = domains(libvirt_conn)
        assert set(before) >= LAB_NAMES
        result = make_lab_down()
        after = domains(libvirt_conn)
        assert set(before) - set(after) == LAB_NAMES, result.stdout
        for name in set(after):
            assert after[name].isActive() == before[name].isActive(), name
        assert after[balloon_guest.name].isActive()
        logs = [n for n in LAB_NAMES if (g.CONSOLE_DIR / f"{n}.console.log").exists()]
        assert not logs, f"console logs left: {logs}"
        assert "lab down: balloon-lab-cycle" in result.stdout
        assert "no lab guest" in make_lab_down().stdout  # again: nothing left to do
    finally:
        for dom in keep:
            with contextlib.suppress(libvirt.libvirtError):  # gone already: the test failed
                dom.undefine()
