#!/usr/bin/env bash
# Installs the Debian packages that building libvirt-python needs, only when missing, and
# any others named as arguments (make record: a font for the GIF).
# Idempotent and quiet when everything is there.
set -euo pipefail

packages=(libvirt-dev pkg-config gcc python3-dev python3-venv "$@")
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "balloon-tui: missing system packages: ${missing[*]}" >&2
    echo "  This is not a Debian/Ubuntu machine (no apt-get): install libvirt's development" >&2
    echo "  headers, pkg-config, a C compiler and the Python headers yourself, then re-run." >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "balloon-tui: missing system packages: ${missing[*]}" >&2
    echo "  Not root and no sudo: ask an administrator to run" >&2
    echo "    apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "balloon-tui: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq -o Dpkg::Options::=--force-confnew "${missing[@]}" >/dev/null
