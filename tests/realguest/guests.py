"""Real QEMU guests for the integration tests: start, wait, tear down.

Guests are TCG domains (never KVM: nested KVM hangs here), transient unless a test needs a
config to edit, booting the tiny image that scripts/realguest/setup.sh builds: a Debian
kernel plus a busybox initramfs that loads virtio_balloon and virtio_mem (unless
`noballoon`), optionally fills `fill=MiB` of tmpfs, prints READY_MARKER on the serial
console and sleeps -- or, with a workload (`grow=`, `growmax=`), keeps writing into a tmpfs
at a steady rate and prints GROWN_MARKER when done, or (`cycle=`) fills and empties one
forever. A guest may carry a virtio-mem device (`GuestSpec.virtio_mem_mib`).

One harness, two uses: the tests start btui-test-* guests with it, and scripts/lab.py (`make
lab`) the balloon-lab-* guests people watch balloon-tui on.

Plain libvirt-python on purpose: this is the test's own "other client", independent of the
balloon_tui code under test.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import libvirt

URI = "qemu:///system"
PREFIX = "btui-test-"
IMAGE_DIR = Path(os.environ.get("BTUI_REALGUEST_IMAGES", "/var/lib/libvirt/images/balloon-tui"))
KERNEL = IMAGE_DIR / "vmlinuz"
INITRD = IMAGE_DIR / "initrd.img"
CONSOLE_DIR = Path("/var/log/libvirt/qemu")
READY_MARKER = "BTUI-READY"
GROWN_MARKER = "BTUI-GROWN"
# What a guest in trouble prints on its console (our /init; the kernel's OOM killer).
TROUBLE_MARKERS = ("BTUI-ERROR", "Out of memory", "Kernel panic", "oom-kill")
BASE_CMDLINE = "console=ttyS0 quiet panic=-1 mitigations=off"
MIB = 1024
REPO_ROOT = Path(__file__).resolve().parents[2]
TIMINGS_FILE = REPO_ROOT / "build" / "realguest" / "timings.txt"

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


class HarnessNotReady(Exception):
    """The machine cannot run real guests; the message says why in one line."""


def check_ready(timeout: float = 30.0) -> None:
    """Raise HarnessNotReady unless qemu:///system answers (in time) and the image is there."""
    for f in (KERNEL, INITRD):
        if not f.is_file():
            raise HarnessNotReady(f"no guest image {f} (run scripts/realguest/setup.sh as root)")
    problem: list[str] = []

    def probe() -> None:
        try:
            conn = libvirt.open(URI)
            try:
                conn.getCapabilities()  # needs the QEMU driver working, not just the socket
            finally:
                conn.close()
        except libvirt.libvirtError as e:
            problem.append(
                f"{URI} does not answer ({e.get_error_message()}); "
                "run scripts/realguest/setup.sh as root"
            )

    # A wedged libvirtd would hang the call for good: ask from a thread, wait bounded.
    thread = threading.Thread(target=probe, name="realguest-check", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise HarnessNotReady(f"{URI} did not answer within {timeout:.0f} s (libvirtd stuck?)")
    if problem:
        raise HarnessNotReady(problem[0])


@dataclass(frozen=True)
class GuestSpec:
    memory_mib: int = 512
    cmdline: str = ""  # extra kernel args: "noballoon", "fill=200"
    stats_period: int = 1
    label: str = "g"
    # The workload: from READY on, the guest writes this many MiB per second into a tmpfs
    # until `grow_max_mib` are written (its used memory rises steadily); 0: no workload.
    grow_mib_per_s: int = 0
    grow_max_mib: int = 256
    # The other workload: used memory climbs to `cycle_mib` in eight steps, one every
    # `cycle_step_s` seconds, falls back the same way, and again, forever; 0: none.
    cycle_mib: int = 0
    cycle_step_s: int = 1
    # A virtio-mem device of this size beside the boot memory (0: none), nothing plugged at
    # boot; `memory_mib` stays the boot memory (the guest's one NUMA cell).
    virtio_mem_mib: int = 0
    # Defined, then started (a transient guest has no config to edit); undefined with it.
    persistent: bool = False

    @property
    def balloon_driver(self) -> bool:
        return "noballoon" not in self.cmdline.split()

    @property
    def kernel_args(self) -> str:
        """The extra kernel command line /init reads (scripts/realguest/setup.sh)."""
        args = self.cmdline.split()
        if self.grow_mib_per_s > 0:
            args += [f"grow={self.grow_mib_per_s}", f"growmax={self.grow_max_mib}"]
        if self.cycle_mib > 0:
            args += [f"cycle={self.cycle_mib}", f"cyclestep={self.cycle_step_s}"]
        if self.virtio_mem_mib > 0:
            # This kernel leaves hot-plugged memory offline unless told; movable, so that
            # virtio_mem can empty its blocks again to unplug them.
            args.append("memhp_default_state=online_movable")
        return " ".join(args)


@dataclass
class Guest:
    spec: GuestSpec
    name: str
    uuid: str
    console_log: Path
    started_at: float
    ready_at: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def boot_seconds(self) -> float | None:
        return None if self.ready_at is None else self.ready_at - self.started_at

    def console(self) -> str:
        try:
            return self.console_log.read_text(errors="replace")
        except OSError:
            return ""


def random_name(label: str) -> str:
    return f"{PREFIX}{label}-{secrets.token_hex(3)}"


VIRTIO_MEM_BLOCK_MIB = 2
VIRTIO_MEM_SLOTS = 4


def _virtio_mem_xml(spec: GuestSpec) -> tuple[str, str, str]:
    """(maxMemory, cpu with its NUMA cell, the memory device) for a virtio-mem guest.

    What works here (docs: libvirt-facts.md): hot-plug needs `<maxMemory slots>` covering
    boot memory plus the device, and the device sits in a NUMA node, so one cell holds the
    boot memory. Nothing is plugged at boot (`requested` 0).
    """
    if spec.virtio_mem_mib <= 0:
        return "", "", ""
    total = spec.memory_mib + spec.virtio_mem_mib
    max_memory = f"<maxMemory slots='{VIRTIO_MEM_SLOTS}' unit='MiB'>{total}</maxMemory>"
    cpu = f"<cpu><numa><cell id='0' cpus='0' memory='{spec.memory_mib}' unit='MiB'/></numa></cpu>"
    device = f"""<memory model='virtio-mem'>
      <target>
        <size unit='MiB'>{spec.virtio_mem_mib}</size>
        <node>0</node>
        <block unit='MiB'>{VIRTIO_MEM_BLOCK_MIB}</block>
        <requested unit='MiB'>0</requested>
      </target>
    </memory>"""
    return max_memory, cpu, device


def domain_xml(
    name: str, spec: GuestSpec, console_log: Path, description: str | None = None
) -> str:
    mem_kib = spec.memory_mib * MIB
    cmdline = " ".join(p for p in (BASE_CMDLINE, spec.kernel_args) if p)
    max_memory, cpu, vmem_device = _virtio_mem_xml(spec)
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <description>{escape(description or f"balloon-tui test guest owner={OWNER}")}</description>
  {max_memory}
  <memory unit='KiB'>{mem_kib}</memory>
  <currentMemory unit='KiB'>{mem_kib}</currentMemory>
  <vcpu>1</vcpu>
  {cpu}
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{KERNEL}</kernel>
    <initrd>{INITRD}</initrd>
    <cmdline>{escape(cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='{console_log}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='{console_log}'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='virtio'>
      <stats period='{spec.stats_period}'/>
    </memballoon>
    {vmem_device}
  </devices>
</domain>
"""


def start_guest(
    conn: libvirt.virConnect,
    spec: GuestSpec,
    name: str | None = None,
    description: str | None = None,
) -> Guest:
    """Start a guest: a fresh btui-test-* name and the test owner's mark unless given."""
    name = name or random_name(spec.label)
    console_log = CONSOLE_DIR / f"{name}.console.log"
    xml = domain_xml(name, spec, console_log, description)
    if spec.persistent:
        dom = conn.defineXML(xml)
        try:
            dom.create()
        except libvirt.libvirtError:
            with contextlib.suppress(libvirt.libvirtError):
                dom.undefine()
            raise
    else:
        dom = conn.createXML(xml, 0)
    return Guest(spec, name, dom.UUIDString(), console_log, time.time())


def balloon_stats(conn: libvirt.virConnect, guest: Guest) -> dict[str, int]:
    dom = conn.lookupByUUIDString(guest.uuid)
    return dict(dom.memoryStats())


def used_kib(stats: dict[str, int]) -> int | None:
    """What the guest uses, as balloon-tui counts it: actual − usable (MemAvailable)."""
    if "actual" not in stats or "usable" not in stats:
        return None
    return max(0, stats["actual"] - stats["usable"])


def troubles(guest: Guest) -> list[str]:
    """The console lines that say the guest ran into trouble (none: it is fine)."""
    return [
        line
        for line in guest.console().splitlines()
        if any(marker in line for marker in TROUBLE_MARKERS)
    ]


def has_guest_stats(stats: dict[str, int]) -> bool:
    return stats.get("last_update", 0) > 0 or "usable" in stats or "unused" in stats


def is_ready(conn: libvirt.virConnect, guest: Guest) -> bool:
    if guest.spec.balloon_driver:
        return READY_MARKER in guest.console() and has_guest_stats(balloon_stats(conn, guest))
    return READY_MARKER in guest.console()


def wait_ready(conn: libvirt.virConnect, guests: Iterable[Guest], timeout: float = 90.0) -> None:
    """Wait until every guest has booted (marker on the console) and, if it has a balloon
    driver, reports guest stats. Raises TimeoutError naming the laggards."""
    waiting = [g for g in guests if g.ready_at is None]
    deadline = time.monotonic() + timeout
    while waiting:
        for g in list(waiting):
            if is_ready(conn, g):
                g.ready_at = time.time()
                waiting.remove(g)
        if not waiting:
            break
        if time.monotonic() > deadline:
            details = "; ".join(f"{g.name}: console tail {g.console()[-300:]!r}" for g in waiting)
            raise TimeoutError(f"guests not ready after {timeout:.0f} s: {details}")
        time.sleep(0.25)


def wait_for(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.5) -> float:
    """Poll check() until true; return the seconds it took; TimeoutError otherwise."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks


# Which test process owns a guest: pid plus its start time (pids get reused).
OWNER = f"{os.getpid()}:{_start_time(os.getpid())}"
_OWNER_RE = re.compile(r"owner=(\d+):(\d+)")


def _owner_alive(description: str) -> bool:
    m = _OWNER_RE.search(description)
    if m is None:
        return False
    return _start_time(int(m.group(1))) == m.group(2)


def domain_description(dom: libvirt.virDomain) -> str:
    try:
        desc = ET.fromstring(dom.XMLDesc(0)).findtext("description")
    except (libvirt.libvirtError, ET.ParseError):
        return ""
    return desc or ""


def destroy_test_domains(conn: libvirt.virConnect, everything: bool = False) -> list[str]:
    """Destroy btui-test-* domains of this process and orphans of crashed runs.

    A guest whose owning test process still runs (another pytest on this host) is left
    alone unless `everything`.
    """
    doomed = []
    for dom in conn.listAllDomains(0):
        if not dom.name().startswith(PREFIX):
            continue
        description = domain_description(dom)
        if not everything and f"owner={OWNER}" not in description and _owner_alive(description):
            continue
        doomed.append(dom)
    return destroy_domains(doomed)


def destroy_domains(doomed: list[libvirt.virDomain]) -> list[str]:
    """Destroy (and undefine) these domains; their names."""
    # libvirt waits ~2 s for each QEMU to exit: destroy them side by side.
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(_destroy, doomed))


def _destroy(dom: libvirt.virDomain) -> str:
    with contextlib.suppress(libvirt.libvirtError):
        if dom.isActive():
            dom.destroy()
    with contextlib.suppress(libvirt.libvirtError):
        if dom.isPersistent():
            dom.undefine()
    return str(dom.name())


def destroy_guests(conn: libvirt.virConnect, guests: Iterable[Guest]) -> list[str]:
    """Destroy these guests now (side by side), e.g. when a test module is done with them."""
    doomed = []
    for guest in guests:
        with contextlib.suppress(libvirt.libvirtError):
            doomed.append(conn.lookupByUUIDString(guest.uuid))
    return destroy_domains(doomed)


def destroy_mine_at_exit() -> None:
    """Last resort (atexit, SIGTERM): no btui-test-* guest outlives its test process."""
    try:
        conn = libvirt.open(URI)
    except libvirt.libvirtError:
        return
    try:
        destroy_test_domains(conn)
    finally:
        conn.close()


def remove_stale_logs(conn: libvirt.virConnect) -> None:
    """Remove console and libvirt logs of btui-test-* domains gone for a while.

    Logs of the last run stay until the next one, for debugging; a minute's grace spares a
    guest another run is starting right now (not listed yet).
    """
    alive = {dom.name() for dom in conn.listAllDomains(0)}
    old = time.time() - 60
    for log in CONSOLE_DIR.glob(f"{PREFIX}*.log"):
        name = log.name.removesuffix(".log").removesuffix(".console")
        with contextlib.suppress(OSError):
            if name not in alive and log.stat().st_mtime < old:
                log.unlink()


def record_timing(key: str, seconds: float, **extra: object) -> None:
    """Append one JSON line to build/realguest/timings.txt for the lead's report."""
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    line: dict[str, object] = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "epoch": round(now, 3),
        "what": key,
        "seconds": round(seconds, 2),
    }
    line.update(extra)
    with TIMINGS_FILE.open("a") as f:
        f.write(json.dumps(line) + "\n")
    print(f"[realguest timing] {key}: {seconds:.2f} s {extra or ''}")
