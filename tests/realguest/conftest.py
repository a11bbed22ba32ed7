"""Fixtures for tests against real QEMU/TCG guests on qemu:///system.

Set up by `make realguest-setup` (scripts/realguest/setup.sh). When the machine cannot run
guests, every test here skips with one line saying why -- except with CI=true, where they
fail instead: CI must never pass by skipping.

Guests boot in parallel: the first guest fixture used starts every guest that any selected
test asks for, so the ~10 s TCG boot is paid once, not once per guest.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import guests as g
import libvirt
import pytest
import sshtest

HERE = Path(__file__).resolve().parent
BOOT_TIMEOUT = 90.0

# Guests by fixture name. Small and few: every one costs a TCG boot on 2 cores.
GUEST_SPECS: dict[str, g.GuestSpec] = {
    # inflate / deflate
    "balloon_guest": g.GuestSpec(memory_mib=512, label="balloon"),
    # ~200 MiB the guest cannot give back: a low target stops short
    "filled_guest": g.GuestSpec(memory_mib=512, cmdline="fill=200", label="filled"),
    # the balloon device exists, but no driver in the guest answers it
    "driverless_guest": g.GuestSpec(memory_mib=256, cmdline="noballoon", label="nodriver"),
    # moved by "another client"
    "outside_guest": g.GuestSpec(memory_mib=384, label="outside"),
    # 256 MiB boot memory + a 512 MiB virtio-mem device; persistent, for config edits
    "vmem_guest": g.GuestSpec(memory_mib=256, virtio_mem_mib=512, persistent=True, label="vmem"),
}


def _in_here(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _in_here(item):
            item.add_marker(pytest.mark.realguest)
    # test_faults_real.py kills and restarts libvirtd, which ends every connection opened
    # before (libvirt_conn's too): it runs after all other tests of the session.
    last = [i for i in items if _in_here(i) and Path(str(i.path)).name == "test_faults_real.py"]
    if last:
        items[:] = [i for i in items if i not in last] + last


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _not_ready(reason: str) -> None:
    message = f"real-guest harness not ready: {reason}"
    if _ci():
        pytest.fail(f"{message} (CI=true: failing, not skipping)", pytrace=False)
    pytest.skip(message)


def _sigterm_to_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def libvirt_conn() -> Iterator[libvirt.virConnect]:
    """A plain libvirt connection of the test's own: "another client" for the app.

    Session start: checks the harness and destroys btui-test-* leftovers of crashed runs
    (guests whose test process is gone). Session end -- also after failures, Ctrl-C or
    SIGTERM -- destroys every guest this run started.
    """
    # The app's process-wide libvirt set-up (event loop thread) must come before the first
    # connection in this process, and the harness opens its own.
    with contextlib.suppress(ImportError):
        from balloon_tui.virt.events import ensure_event_loop

        ensure_event_loop()
    try:
        g.check_ready()
    except g.HarnessNotReady as e:
        _not_ready(str(e))
    conn = libvirt.open(g.URI)
    leftovers = g.destroy_test_domains(conn)
    g.remove_stale_logs(conn)
    if leftovers:
        print(f"\nrealguest: destroyed leftovers of an earlier run: {', '.join(leftovers)}")
    atexit.register(g.destroy_mine_at_exit)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    try:
        yield conn
    finally:
        try:
            g.destroy_test_domains(conn)
        except libvirt.libvirtError:
            # test_faults_real.py restarts libvirtd, which ends this connection: use a new one.
            g.destroy_mine_at_exit()
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()


class GuestPool:
    """Starts all guests the selected tests need at once; hands each out when it is ready.

    A watcher thread notes when each guest becomes ready, so boot times are measured
    right even for guests first used by a later test.
    """

    def __init__(self, conn: libvirt.virConnect, wanted: list[str]) -> None:
        self.conn = conn
        self.wanted = wanted
        self.guests: dict[str, g.Guest] = {}
        self.failures: dict[str, str] = {}
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self.reported: set[str] = set()

    def _start(self, names: list[str]) -> None:
        started = False
        for name in names:
            if name in self.guests or name in self.failures:
                continue
            try:
                guest = g.start_guest(self.conn, GUEST_SPECS[name])
            except libvirt.libvirtError as e:
                self.failures[name] = f"createXML failed: {e.get_error_message()}"
                continue
            with self._lock:
                self.guests[name] = guest
            started = True
        if started and (self._watcher is None or not self._watcher.is_alive()):
            self._watcher = threading.Thread(target=self._watch, name="guest-watch", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            with self._lock:
                waiting = [x for x in self.guests.values() if x.ready_at is None]
            if not waiting:
                return
            for guest in waiting:
                try:
                    if g.is_ready(self.conn, guest):
                        guest.ready_at = time.time()
                except libvirt.libvirtError:
                    pass  # gone or not up yet; get() reports the timeout
            time.sleep(0.25)

    def get(self, name: str) -> g.Guest:
        self._start([*self.wanted, name])
        if name in self.failures:
            pytest.fail(f"{name}: {self.failures[name]}", pytrace=False)
        guest = self.guests[name]
        if name in self.reported:
            return guest
        try:
            g.wait_for(
                f"{guest.name} ready",
                lambda: guest.ready_at is not None,
                timeout=max(1.0, guest.started_at + BOOT_TIMEOUT - time.time()),
                interval=0.1,
            )
        except TimeoutError:
            self.failures[name] = (
                f"{guest.name} not ready after {BOOT_TIMEOUT:.0f} s; console tail: "
                f"{guest.console()[-300:]!r}"
            )
            pytest.fail(self.failures[name], pytrace=False)
        self.reported.add(name)
        g.record_timing(
            "boot_to_ready",
            guest.boot_seconds or 0.0,
            guest=GUEST_SPECS[name].label,
            booted_together=len(self.guests),
        )
        return guest


@pytest.fixture(scope="session")
def guest_pool(request: pytest.FixtureRequest, libvirt_conn: libvirt.virConnect) -> GuestPool:
    selected: set[str] = set()
    for item in request.session.items:
        selected.update(n for n in getattr(item, "fixturenames", ()) if n in GUEST_SPECS)
    return GuestPool(libvirt_conn, sorted(selected))


@pytest.fixture(scope="session")
def balloon_guest(guest_pool: GuestPool) -> g.Guest:
    return guest_pool.get("balloon_guest")


@pytest.fixture(scope="session")
def filled_guest(guest_pool: GuestPool) -> g.Guest:
    return guest_pool.get("filled_guest")


@pytest.fixture(scope="session")
def driverless_guest(guest_pool: GuestPool) -> g.Guest:
    return guest_pool.get("driverless_guest")


@pytest.fixture(scope="session")
def outside_guest(guest_pool: GuestPool) -> g.Guest:
    return guest_pool.get("outside_guest")


@pytest.fixture(scope="session")
def vmem_guest(guest_pool: GuestPool) -> g.Guest:
    return guest_pool.get("vmem_guest")


@pytest.fixture(scope="session")
def start_guest(libvirt_conn: libvirt.virConnect) -> Callable[..., g.Guest]:
    """Factory for a one-off guest with its own spec (boots on its own: ~10 s)."""

    def start(spec: g.GuestSpec, wait: bool = True) -> g.Guest:
        guest = g.start_guest(libvirt_conn, spec)
        if wait:
            g.wait_ready(libvirt_conn, [guest], timeout=BOOT_TIMEOUT)
        return guest

    return start


_session_started = time.time()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """Show this run's real-guest timings at the end of `make test`."""
    path = g.TIMINGS_FILE
    if not path.exists():
        return
    import json

    lines = []
    for raw in path.read_text().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if entry.get("epoch", 0) >= _session_started:
            extra = {k: v for k, v in entry.items() if k not in ("at", "epoch", "what", "seconds")}
            lines.append(f"{entry['what']}: {entry['seconds']:.2f} s {extra or ''}".rstrip())
    if lines:
        terminalreporter.section("real-guest timings (also in build/realguest/timings.txt)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def ssh(tmp_path: Path) -> sshtest.SshSetup:
    """The test sshd (scripts/realguest/sshd.sh), with a known_hosts of this test's own."""
    reason = sshtest.not_ready()
    if reason is not None:
        _not_ready(reason)
    return sshtest.SshSetup(tmp_path)
