#!/usr/bin/env bash
# Prepares this machine for the remote-host tests (tests/realguest/test_ssh_real.py):
#   1. libvirtd lets members of the "libvirt" group use qemu:///system over its socket
#      without polkit (there is no dbus here): unix_sock_group, unix_sock_rw_perms,
#      auth_unix_rw in /etc/libvirt/libvirtd.conf; libvirtd is restarted when they change,
#   2. installs openssh-server (without starting the distribution's sshd on port 22),
#   3. starts a private sshd on 127.0.0.1:$PORT with a throw-away host key, for two
#      throw-away users in the libvirt group: $PW_USER logs in with a password,
#      $KEY_USER with a key (no passphrase),
#   4. writes what the tests need to know to $STATE (root only): password, private key,
#      the host key's public half.
# Run after scripts/realguest/setup.sh (which installs and starts libvirtd). Idempotent;
# silent when everything is already there. Not root or not Debian: one line, exit 0.
set -euo pipefail

PORT="${BTUI_SSHD_PORT:-2222}"
STATE="${BTUI_SSHD_STATE:-/var/lib/balloon-tui/sshd}"
PW_USER=btui-ssh-pw
KEY_USER=btui-ssh-key
LIBVIRTD_CONF=/etc/libvirt/libvirtd.conf
URI="qemu:///system"
WAIT_SECONDS=30

SETUP_NAME=sshd-setup
SKIP_NOTE="the ssh tests will skip"
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# --- 1. libvirtd for the libvirt group ------------------------------------------------------
getent group libvirt >/dev/null || die "no libvirt group (run scripts/realguest/setup.sh first)"
changed=no
set_conf() {  # key value: the line "key = value", replacing any earlier setting of key
    local line="$1 = $2"
    if ! grep -qxF "$line" "$LIBVIRTD_CONF"; then
        sed -i "/^[[:space:]]*$1[[:space:]]*=/d" "$LIBVIRTD_CONF"
        echo "$line" >>"$LIBVIRTD_CONF"
        changed=yes
    fi
}
set_conf unix_sock_group '"libvirt"'
set_conf unix_sock_rw_perms '"0770"'
set_conf auth_unix_rw '"none"'
if [ "$changed" = yes ] && pidof libvirtd >/dev/null 2>&1; then
    say "restarting libvirtd for the libvirt group's socket access"
    kill "$(pidof libvirtd)" || true
    for _ in $(seq 50); do pidof libvirtd >/dev/null 2>&1 || break; sleep 0.1; done
fi
if ! pidof libvirtd >/dev/null 2>&1; then
    pidof virtlogd >/dev/null 2>&1 || start_daemon virtlogd -d
    start_daemon libvirtd -d
fi
deadline=$((SECONDS + WAIT_SECONDS))
until virsh_answers; do
    [ $SECONDS -lt $deadline ] || die "libvirtd did not answer on $URI within ${WAIT_SECONDS} s"
    sleep 0.5
done

# --- 2. openssh-server ------------------------------------------------------------------------
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed"; then
    say "installing openssh-server"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package's own sshd (port 22) from starting: only ours runs, on $PORT.
    policy=/usr/sbin/policy-rc.d
    own_policy=no
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=yes
    fi
    quietly apt-get update -qq
    quietly apt-get install -y -qq -o Dpkg::Options::=--force-confold openssh-server
    [ "$own_policy" = no ] || rm -f "$policy"
fi

# --- 3. users, keys, sshd ----------------------------------------------------------------------
mkdir -p "$STATE"
chmod 700 "$STATE"
[ -s "$STATE/host_ed25519_key" ] \
    || quietly ssh-keygen -q -t ed25519 -N '' -C balloon-tui-test-host -f "$STATE/host_ed25519_key"
[ -s "$STATE/client_ed25519" ] \
    || quietly ssh-keygen -q -t ed25519 -N '' -C balloon-tui-test-client -f "$STATE/client_ed25519"
if [ ! -s "$STATE/password" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$STATE/password")
fi

for user in "$PW_USER" "$KEY_USER"; do
    id "$user" >/dev/null 2>&1 || quietly useradd --create-home --shell /bin/sh "$user"
    id -nG "$user" | tr ' ' '\n' | grep -qx libvirt || quietly usermod -aG libvirt "$user"
done
echo "$PW_USER:$(cat "$STATE/password")" | chpasswd
# "*": no password works, and the account is not "locked" ("!"), which sshd without PAM
# would refuse even with a good key.
[ "$(getent shadow "$KEY_USER" | cut -d: -f2)" = "*" ] || usermod -p '*' "$KEY_USER"
key_home="$(getent passwd "$KEY_USER" | cut -d: -f6)"
install -d -m 700 -o "$KEY_USER" -g "$KEY_USER" "$key_home/.ssh"
install -m 600 -o "$KEY_USER" -g "$KEY_USER" "$STATE/client_ed25519.pub" \
    "$key_home/.ssh/authorized_keys"

cat >"$STATE/sshd_config.new" <<EOF
# balloon-tui's test sshd: loopback only, two throw-away users (scripts/realguest/sshd.sh)
Port $PORT
ListenAddress 127.0.0.1
HostKey $STATE/host_ed25519_key
PidFile $STATE/sshd.pid
AllowUsers $PW_USER $KEY_USER
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
PermitRootLogin no
MaxAuthTries 6
LoginGraceTime 60
EOF
restart=no
if ! cmp -s "$STATE/sshd_config.new" "$STATE/sshd_config" 2>/dev/null; then
    mv "$STATE/sshd_config.new" "$STATE/sshd_config"
    restart=yes
else
    rm -f "$STATE/sshd_config.new"
fi
running() { [ -s "$STATE/sshd.pid" ] && kill -0 "$(cat "$STATE/sshd.pid")" 2>/dev/null; }
if running && [ "$restart" = yes ]; then
    kill "$(cat "$STATE/sshd.pid")" || true
    sleep 0.3
fi
if ! running; then
    mkdir -p /run/sshd
    quietly /usr/sbin/sshd -t -f "$STATE/sshd_config"
    start_daemon /usr/sbin/sshd -f "$STATE/sshd_config"
    deadline=$((SECONDS + WAIT_SECONDS))
    until running && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || die "sshd did not listen on 127.0.0.1:$PORT"
        sleep 0.2
    done
    say "sshd for the ssh tests on 127.0.0.1:$PORT"
fi
