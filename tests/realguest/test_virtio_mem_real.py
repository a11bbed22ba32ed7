"""virtio-mem on a real QEMU/TCG guest (issue 13, "Real guests").

`vmem_guest` boots 256 MiB with a 512 MiB virtio-mem device (block 2 MiB, nothing plugged),
`virtio_mem.ko` in its initramfs and `memhp_default_state=online_movable` on its kernel
command line. The first test moves the device with plain libvirt-python only: it proves the
harness (the guest's driver plugs and unplugs, libvirt's live XML and `balloon.current`
follow) independent of balloon_tui; the tests after it drive the same device through the UI.
Timings go to build/realguest/timings.txt as vmem_*.
"""

from __future__ import annotations

import guests as g
import libvirt
import pytest
import vmem

pytestmark = pytest.mark.realguest

MIB = 1024
BOOT_MIB = 256
SIZE_MIB = 512
BLOCK_MIB = 2
FOLLOW_TIMEOUT = 10.0  # measured here: `<current>` follows in ~1 s; the issue says "within 3 s"


def follow(conn: libvirt.virConnect, guest: g.Guest, base: int, mib: int, label: str) -> None:
    """Ask for `mib` plugged; wait until the live XML's `<current>`, `balloon.current` and
    the guest's own MemTotal all moved with it; record how long `<current>` took."""
    before_total = vmem.guest_total_kib(conn, guest)
    before_current = vmem.device(conn, guest).current_kib
    vmem.request(conn, guest, mib * MIB)
    assert vmem.device(conn, guest).requested_kib == mib * MIB
    seconds = g.wait_for(
        f"{label}: <current> to reach {mib} MiB",
        lambda: vmem.device(conn, guest).current_kib == mib * MIB,
        FOLLOW_TIMEOUT,
        interval=0.1,
    )
    g.record_timing(f"vmem_{label}", seconds, guest=guest.spec.label, requested_mib=mib)
    # balloon.current = boot memory + plugged − balloon (nothing ballooned here).
    g.wait_for(
        f"{label}: balloon.current to be {BOOT_MIB} + {mib} MiB",
        lambda: vmem.balloon_current_kib(conn, guest) == base + mib * MIB,
        FOLLOW_TIMEOUT,
        interval=0.1,
    )
    # The guest onlined (or offlined) it: its MemTotal moved by what was plugged.
    assert before_total is not None and before_current is not None
    moved = mib * MIB - before_current

    def guest_sees_it() -> bool:
        total = vmem.guest_total_kib(conn, guest)
        return total is not None and total - before_total == moved

    g.wait_for(f"{label}: the guest's MemTotal to move by {moved} KiB", guest_sees_it, 10)
    assert not g.troubles(guest), g.troubles(guest)


def test_plug_and_unplug_with_plain_libvirt(
    libvirt_conn: libvirt.virConnect, vmem_guest: g.Guest
) -> None:
    conn = libvirt_conn
    dev = vmem.device(conn, vmem_guest)
    assert dev.alias, "no alias in the live XML"
    assert (dev.node, dev.block_kib, dev.size_kib) == (0, BLOCK_MIB * MIB, SIZE_MIB * MIB)
    if dev.requested_kib != 0 or dev.current_kib != 0:
        # Another test (the UI's, run first by -k or a rerun) left some plugged: unplug.
        vmem.request(conn, vmem_guest, 0)
        g.wait_for("unplug all", lambda: vmem.device(conn, vmem_guest).current_kib == 0, 10)
    # libvirt counts the whole device in the maximum, plugged or not.
    whole = (BOOT_MIB + SIZE_MIB) * MIB
    assert vmem.balloon_maximum_kib(conn, vmem_guest) == whole
    assert conn.lookupByUUIDString(vmem_guest.uuid).maxMemory() == whole
    base = vmem.balloon_current_kib(conn, vmem_guest)
    assert base == BOOT_MIB * MIB

    follow(conn, vmem_guest, base, 448, "plug_0_to_448")
    follow(conn, vmem_guest, base, 64, "unplug_448_to_64")
    follow(conn, vmem_guest, base, 0, "unplug_64_to_0")
    # A live change only: the config still asks for nothing.
    config = vmem.device(conn, vmem_guest, libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert config.requested_kib == 0 and config.current_kib is None
