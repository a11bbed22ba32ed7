#!/usr/bin/env bash
# Prepares this machine for the real-guest tests (tests/realguest) and the lab (make lab):
#   1. installs libvirt + QEMU + what the guest image is built from (only when missing),
#   2. starts virtlogd and libvirtd when qemu:///system does not answer (no systemd here),
#   3. builds a tiny guest: a Debian kernel and a busybox initramfs that loads the virtio
#      balloon and virtio-mem drivers, cached in build/realguest/ and installed where the
#      qemu user can read it (/var/lib/libvirt/images/balloon-tui/).
# Idempotent; silent (or one short line) when everything is already there.
#
# Not root, or not Debian/Ubuntu: says why in one line and exits 0; the tests then skip
# (they fail instead when CI=true).
#
# Guest kernel command line options understood by the initramfs /init:
#   noballoon   do not load the virtio drivers (the balloon device exists, no driver
#               answers it; nor does a virtio-mem device's)
#   fill=NNN    write NNN MiB into a tmpfs after boot (memory the guest cannot give back)
#   grow=R      a workload: after READY, write R MiB per second into a tmpfs, in the
#   growmax=M   background, until M MiB (default 256) are written; then "BTUI-GROWN M"
#   cycle=C     a workload that breathes (the lab's, scripts/lab.py): after READY, used memory
#   cyclestep=S climbs to C MiB in eight steps, one every S seconds (default 1), then falls
#               back to 0 the same way (files in a tmpfs written, then removed), forever
# A virtio-mem guest also needs memhp_default_state=online_movable (this kernel does not
# online hot-plugged memory by itself; movable, so that it can be unplugged again).
# When done, /init prints "BTUI-READY ..." to the console (ttyS0) and sleeps forever.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BTUI_REALGUEST_BUILD:-$ROOT/build/realguest}"
IMAGES="${BTUI_REALGUEST_IMAGES:-/var/lib/libvirt/images/balloon-tui}"
URI="qemu:///system"
PACKAGES=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils busybox-static cpio)
# In load order: each after what it depends on (the modules' own "depends=": virtio_mem and
# virtio_balloon need virtio and virtio_ring, and find their devices once virtio_pci is in).
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_balloon
    virtio_mem)
LIBVIRTD_WAIT_SECONDS=30

SETUP_NAME=realguest-setup
SKIP_NOTE="tests/realguest will skip; make lab uses what is there"
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# --- 1. packages -------------------------------------------------------------------------
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    quietly apt-get update -qq
    quietly apt-get install -y -qq -o Dpkg::Options::=--force-confnew "${missing[@]}"
fi

# --- 2. libvirtd ---------------------------------------------------------------------------
if ! virsh_answers; then
    pidof virtlogd >/dev/null 2>&1 || start_daemon virtlogd -d
    pidof libvirtd >/dev/null 2>&1 || start_daemon libvirtd -d
    deadline=$((SECONDS + LIBVIRTD_WAIT_SECONDS))
    until virsh_answers; do
        if [ $SECONDS -ge $deadline ]; then
            virsh -c "$URI" version >&2 || true
            die "libvirtd started but $URI did not answer within ${LIBVIRTD_WAIT_SECONDS} s" \
                "(try 'libvirtd' in the foreground to see why)"
        fi
        sleep 0.5
    done
    say "started libvirtd"
fi

# --- 3. guest image ------------------------------------------------------------------------
mkdir -p "$BUILD"
KERNEL_PKG_FILE="$BUILD/kernel-package"
STAMP="$BUILD/inputs"

# The newest Debian 6.1 generic kernel apt knows about. Asking apt-cache costs ~0.5 s, so
# re-use the last answer while apt's package lists have not changed since (apt-get update
# replaces files in /var/lib/apt/lists, which changes the directory's mtime).
apt_lists=/var/lib/apt/lists
if [ -s "$KERNEL_PKG_FILE" ] && [ "$KERNEL_PKG_FILE" -nt "$apt_lists" ]; then
    kernel_pkg="$(cat "$KERNEL_PKG_FILE")"
else
    newest() {
        { apt-cache pkgnames linux-image-6.1.0- 2>/dev/null || true; } \
            | { grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' || true; } | sort -V | tail -n 1
    }
    kernel_pkg="$(newest)"
    if [ -z "$kernel_pkg" ]; then
        quietly apt-get update -qq
        kernel_pkg="$(newest)"
    fi
    [ -n "$kernel_pkg" ] || die "apt knows no linux-image-6.1.0-*-amd64 package"
    echo "$kernel_pkg" >"$KERNEL_PKG_FILE"
fi

script_sum="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
busybox_version="$(dpkg-query -W -f='${Version}' busybox-static)"
inputs="kernel=$kernel_pkg script=$script_sum busybox=$busybox_version"

write_init() {
    cat >"$1" <<'EOF'
#!/bin/sh
# balloon-tui test guest. Options on the kernel command line: noballoon, fill=MiB,
# grow=MiB-per-second, growmax=MiB, cycle=MiB, cyclestep=seconds.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
cmdline="$(cat /proc/cmdline)"
balloon=yes
fill=0
grow=0
growmax=256
cycle=0
cyclestep=1
for arg in $cmdline; do
    case "$arg" in
        noballoon) balloon=no ;;
        fill=*) fill="${arg#fill=}" ;;
        grow=*) grow="${arg#grow=}" ;;
        growmax=*) growmax="${arg#growmax=}" ;;
        cycle=*) cycle="${arg#cycle=}" ;;
        cyclestep=*) cyclestep="${arg#cyclestep=}" ;;
    esac
done
if [ "$balloon" = yes ]; then
    for m in @MODULES@; do
        insmod "/lib/modules/$m.ko" || echo "BTUI-ERROR insmod $m failed"
    done
fi
if [ "$fill" -gt 0 ] 2>/dev/null; then
    mkdir -p /fill
    mount -t tmpfs -o size=$((fill + 8))m fill /fill
    dd if=/dev/zero of=/fill/data bs=1M count="$fill" 2>/dev/null \
        || echo "BTUI-ERROR fill $fill MiB failed"
fi
# Centiseconds since boot; "1${frac}-100" keeps a fraction like "08" from reading as octal.
uptime_cs() {
    read -r up _ </proc/uptime
    cs=$(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}
# Used memory that rises steadily: paced by the clock, not by counting sleeps (a busy TCG
# guest's dd takes time of its own), so the rate holds however slowly the writes go.
grow_loop() {
    mkdir -p /grow
    if ! mount -t tmpfs -o size=$((growmax + 8))m grow /grow; then
        echo "BTUI-ERROR grow: no tmpfs"
        return
    fi
    uptime_cs
    start=$cs
    written=0
    while [ "$written" -lt "$growmax" ]; do
        sleep 0.5
        uptime_cs
        want=$(( (cs - start) * grow / 100 ))
        [ "$want" -gt "$growmax" ] && want=$growmax
        [ "$want" -gt "$written" ] || continue
        if ! dd if=/dev/zero of="/grow/$written" bs=1M count=$((want - written)) 2>/dev/null
        then
            echo "BTUI-ERROR grow failed after $written MiB"
            return
        fi
        written=$want
    done
    echo "BTUI-GROWN $written"
}
# Used memory that rises and falls for good, in eight steps each way: something to watch.
cycle_loop() {
    mkdir -p /cycle
    if ! mount -t tmpfs -o size=$((cycle + 8))m cycle /cycle; then
        echo "BTUI-ERROR cycle: no tmpfs"
        return
    fi
    step=$(( (cycle + 7) / 8 ))
    while :; do
        i=0
        while [ "$i" -lt 8 ]; do
            dd if=/dev/zero of="/cycle/$i" bs=1M count="$step" 2>/dev/null \
                || echo "BTUI-ERROR cycle: writing $step MiB failed"
            i=$((i + 1))
            sleep "$cyclestep"
        done
        while [ "$i" -gt 0 ]; do
            i=$((i - 1))
            rm -f "/cycle/$i"
            sleep "$cyclestep"
        done
    done
}
[ "$grow" -gt 0 ] 2>/dev/null && [ "$growmax" -gt 0 ] 2>/dev/null || grow=0
[ "$cycle" -gt 0 ] 2>/dev/null && [ "$cyclestep" -gt 0 ] 2>/dev/null || cycle=0
echo "BTUI-READY balloon=$balloon fill=$fill grow=$grow growmax=$growmax cycle=$cycle"
[ "$grow" -gt 0 ] && grow_loop &
[ "$cycle" -gt 0 ] && cycle_loop &
while :; do sleep 3600; done
EOF
    sed -i "s/@MODULES@/${MODULES[*]}/" "$1"
    chmod 755 "$1"
}

build_image() {
    local deb work tree kver
    deb="$(ls "$BUILD"/"$kernel_pkg"_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$deb" ]; then
        rm -f "$BUILD"/linux-image-*.deb
        # -o APT::Sandbox::User=root: _apt cannot write to build/.
        (cd "$BUILD" && quietly apt-get download -q -o APT::Sandbox::User=root "$kernel_pkg")
        deb="$(ls "$BUILD"/"$kernel_pkg"_*_amd64.deb | sort -V | tail -n 1)"
    fi
    work="$BUILD/work"
    rm -rf "$work"
    mkdir -p "$work/kernel" "$work/initramfs"
    quietly dpkg -x "$deb" "$work/kernel"
    kver="${kernel_pkg#linux-image-}"
    cp "$work/kernel/boot/vmlinuz-$kver" "$BUILD/vmlinuz.new"

    tree="$work/initramfs"
    mkdir -p "$tree"/{bin,dev,proc,sys,tmp,fill,lib/modules}
    cp /bin/busybox "$tree/bin/busybox"
    for applet in sh mount insmod cat mkdir dd sleep echo rm; do
        ln -s busybox "$tree/bin/$applet"
    done
    local m src
    for m in "${MODULES[@]}"; do
        src="$(find "$work/kernel/lib/modules/$kver" \( -name "$m.ko" -o -name "$m.ko.xz" \
            -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) -print -quit)"
        [ -n "$src" ] || die "$m not found in $deb"
        case "$src" in
            *.ko) cp "$src" "$tree/lib/modules/$m.ko" ;;
            *.xz) xz -dc "$src" >"$tree/lib/modules/$m.ko" ;;
            *.zst) zstd -qdc "$src" >"$tree/lib/modules/$m.ko" ;;
            *.gz) gzip -dc "$src" >"$tree/lib/modules/$m.ko" ;;
        esac
    done
    write_init "$tree/init"
    (cd "$tree" && find . -print0 | LC_ALL=C sort -z \
        | cpio --null -o -H newc --quiet -R 0:0 | gzip -9n) >"$BUILD/initrd.img.new"
    mv "$BUILD/vmlinuz.new" "$BUILD/vmlinuz"
    mv "$BUILD/initrd.img.new" "$BUILD/initrd.img"
    rm -rf "$work"
    echo "$inputs" >"$STAMP"
}

if [ ! -s "$BUILD/vmlinuz" ] || [ ! -s "$BUILD/initrd.img" ] || [ ! -f "$STAMP" ] \
    || [ "$(cat "$STAMP")" != "$inputs" ]; then
    say "building guest image ($kernel_pkg, busybox $busybox_version)"
    build_image
fi

# The qemu user (libvirt-qemu) must be able to read the image: keep a copy outside build/.
install -d -m 755 "$IMAGES"
for f in vmlinuz initrd.img; do
    if ! cmp -s "$BUILD/$f" "$IMAGES/$f"; then
        install -m 644 "$BUILD/$f" "$IMAGES/$f.tmp"
        mv "$IMAGES/$f.tmp" "$IMAGES/$f"
    fi
done
[ "$(cat "$IMAGES/inputs" 2>/dev/null)" = "$inputs" ] || echo "$inputs" >"$IMAGES/inputs"
