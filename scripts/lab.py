"""`make lab` / `make lab-down`: a few real guests on the local libvirtd to watch balloons move.

    python scripts/lab.py up      # boot the lab guests that are not running; wait till ready
    python scripts/lab.py down    # destroy the lab's guests, and nothing else
    python scripts/lab.py list    # the lab's guests that run now

The guests come from the real-guest tests' own harness (tests/realguest/guests.py, the image
of scripts/realguest/setup.sh): one harness, two uses. They are transient TCG guests named
balloon-lab-*, with guest stats every 2 s. `up` is idempotent: guests already running are
kept as they are. `down` destroys only domains that are named balloon-lab-* *and* carry the
lab's mark in their description: a guest someone else named so is left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "realguest"))

import guests as g  # noqa: E402 - the harness lives with the tests that use it most
import libvirt  # noqa: E402

PREFIX = "balloon-lab-"
MARK = "balloon-tui lab guest: make lab-down removes it"
STATS_PERIOD = 2
BOOT_TIMEOUT = 120.0


@dataclass(frozen=True)
class LabGuest:
    name: str
    spec: Any  # guests.GuestSpec
    what: str


LAB: tuple[LabGuest, ...] = (
    LabGuest(
        f"{PREFIX}idle",
        g.GuestSpec(memory_mib=512, stats_period=STATS_PERIOD, label="idle"),
        "boots and sleeps: room to take back",
    ),
    LabGuest(
        f"{PREFIX}cycle",
        g.GuestSpec(
            memory_mib=768, stats_period=STATS_PERIOD, cycle_mib=384, cycle_step_s=1, label="cycle"
        ),
        "its use climbs by 384 MiB and falls back, every 16 s",
    ),
    LabGuest(
        f"{PREFIX}noballoon",
        g.GuestSpec(memory_mib=256, cmdline="noballoon", stats_period=STATS_PERIOD),
        "no balloon driver: no stats, a target never arrives",
    ),
    LabGuest(
        f"{PREFIX}vmem",
        g.GuestSpec(memory_mib=256, virtio_mem_mib=512, stats_period=STATS_PERIOD, label="vmem"),
        "256 MiB + a 512 MiB virtio-mem device (v), nothing plugged",
    ),
)


class LabError(Exception):
    """Something the operator must fix; the message says what, in one line."""


def is_lab_domain(dom: libvirt.virDomain) -> bool:
    return str(dom.name()).startswith(PREFIX) and MARK in g.domain_description(dom)


def lab_domains(conn: libvirt.virConnect) -> list[libvirt.virDomain]:
    return [dom for dom in conn.listAllDomains(0) if is_lab_domain(dom)]


def _ready(conn: libvirt.virConnect, guest: Any) -> bool:
    # In the libvirt group but not root, the console logs are unreadable: then a guest with
    # a balloon driver is ready when it reports stats, one without when it runs.
    try:
        guest.console_log.open().close()
    except OSError:
        if not guest.spec.balloon_driver:
            return True
        return bool(g.has_guest_stats(g.balloon_stats(conn, guest)))
    return bool(g.is_ready(conn, guest))


def up(conn: libvirt.virConnect, out: Any = sys.stdout) -> list[Any]:
    """Start the lab guests that do not run; wait until all are ready; the guests."""
    try:
        g.check_ready()
    except g.HarnessNotReady as e:
        raise LabError(str(e)) from None
    existing = {str(dom.name()): dom for dom in conn.listAllDomains(0)}
    guests = []
    for lab in LAB:
        dom = existing.get(lab.name)
        if dom is not None and not (is_lab_domain(dom) and dom.isActive()):
            raise LabError(
                f"a domain named {lab.name} exists and is not a running lab guest: "
                "remove or rename it first"
            )
        if dom is not None:
            console = g.CONSOLE_DIR / f"{lab.name}.console.log"
            guests.append(g.Guest(lab.spec, lab.name, dom.UUIDString(), console, time.time()))
            print(f"  {lab.name}: running already", file=out)
            continue
        # A console log of an earlier lab guest of this name would say READY at once.
        with contextlib.suppress(OSError):
            (g.CONSOLE_DIR / f"{lab.name}.console.log").unlink()
        guests.append(g.start_guest(conn, lab.spec, name=lab.name, description=MARK))
        print(f"  {lab.name}: starting ({lab.what})", file=out)
    out.flush()
    started = time.monotonic()
    waiting = list(guests)
    while waiting:
        waiting = [x for x in waiting if not _ready(conn, x)]
        if waiting and time.monotonic() - started > BOOT_TIMEOUT:
            names = ", ".join(x.name for x in waiting)
            raise LabError(f"not ready after {BOOT_TIMEOUT:.0f} s: {names} (see {g.CONSOLE_DIR})")
        if waiting:
            time.sleep(0.25)
    print(f"lab ready in {time.monotonic() - started:.1f} s: {len(guests)} guests", file=out)
    return guests


def down(conn: libvirt.virConnect, out: Any = sys.stdout) -> list[str]:
    gone = sorted(g.destroy_domains(lab_domains(conn)))
    for name in gone:
        with contextlib.suppress(OSError):  # not root: libvirt's to remove, not ours
            (g.CONSOLE_DIR / f"{name}.console.log").unlink()
    print(f"lab down: {', '.join(gone) if gone else 'no lab guest was running'}", file=out)
    return gone


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "list"))
    args = parser.parse_args(argv)
    try:
        conn = libvirt.open(g.URI)
    except libvirt.libvirtError as e:
        print(
            f"lab: cannot open {g.URI}: {e.get_error_message()} "
            "(root or the libvirt group; make realguest-setup starts libvirtd)",
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "up":
            up(conn)
        elif args.command == "down":
            down(conn)
        else:
            for dom in lab_domains(conn):
                print(dom.name())
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
