# Shared by scripts/realguest/setup.sh and sshd.sh (sourced, not run). The caller sets
# SETUP_NAME (the prefix of its lines) and SKIP_NOTE (what skips when this machine cannot be
# set up) first. Not root or not Debian/Ubuntu: one line, and the caller exits 0.

say() { echo "$SETUP_NAME: $*"; }
die() { echo "$SETUP_NAME: error: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipping ($SKIP_NOTE)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get (not Debian/Ubuntu): skipping ($SKIP_NOTE)"
    exit 0
fi

LOG="$(mktemp -t "btui-$SETUP_NAME.XXXXXX")"
trap 'rm -f "$LOG"' EXIT
# Run a noisy command quietly; show its output only when it fails.
quietly() {
    if ! "$@" >"$LOG" 2>&1; then
        cat "$LOG" >&2
        die "failed: $*"
    fi
}

virsh_answers() { timeout 10 virsh -c "qemu:///system" version >/dev/null 2>&1; }

# Start a daemon (it forks itself into the background) without handing it our stdio or any
# other inherited descriptor: a CI runner waiting for its output pipe to close would
# otherwise wait for the daemon to exit.
start_daemon() {
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec "$@" </dev/null >"$LOG" 2>&1
    ) || { cat "$LOG" >&2; die "$* failed"; }
}
