"""Fault injection for the real-guest tests: libvirtd killed, restarted or frozen, and a
unix-socket proxy that can stop answering like a host cut off mid-session.

libvirtd is the one the harness started (scripts/realguest/setup.sh: `libvirtd -d`, no
systemd). Every helper that stops it has a way back: `ensure_libvirtd()` thaws a frozen
daemon or starts a dead one and waits until qemu:///system answers. Tests call it in
`finally`, so later tests find the daemon as they expect it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt

from balloon_tui.core.model import HostSnapshot, HostStatus
from balloon_tui.core.writes import WriteResult

URI = "qemu:///system"
LIBVIRTD_SOCKET = "/var/run/libvirt/libvirt-sock"
PID_FILES = (Path("/run/libvirtd.pid"), Path("/var/run/libvirtd.pid"))
START_TIMEOUT = 30.0


# -- libvirtd -------------------------------------------------------------------------------
def _proc_state(pid: int) -> str | None:
    """The process state letter (R, S, T, Z, ...) or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def libvirtd_pid() -> int | None:
    """The running libvirtd's pid (from its pid file), None when it is not running."""
    for path in PID_FILES:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _comm(pid) == "libvirtd" and _proc_state(pid) not in (None, "Z"):
            return pid
    return None


def _alive(pid: int) -> bool:
    return _proc_state(pid) not in (None, "Z", "X")


def kill_libvirtd(sig: signal.Signals, timeout: float = 15.0) -> float:
    """Send `sig` to libvirtd and wait until it is gone; return the seconds that took."""
    pid = libvirtd_pid()
    assert pid is not None, "libvirtd is not running"
    started = time.monotonic()
    os.kill(pid, sig)
    while _alive(pid):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"libvirtd {pid} still there {timeout:.0f} s after {sig.name}")
        time.sleep(0.02)
    return time.monotonic() - started


def answers(timeout: float = 5.0) -> bool:
    """qemu:///system answers a call within `timeout` (asked from a thread: never hangs)."""
    ok: list[bool] = []

    def probe() -> None:
        try:
            conn = libvirt.open(URI)
            try:
                # Cheap on purpose: all stats groups (flags 0) wait for QEMU monitor jobs
                # and took ~8 s right after a restart.
                conn.listAllDomains(0)
                ok.append(True)
            finally:
                conn.close()
        except libvirt.libvirtError:
            pass

    thread = threading.Thread(target=probe, name="libvirtd-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(ok)


def start_libvirtd(timeout: float = START_TIMEOUT, wait: bool = True) -> float:
    """`libvirtd -d` (it forks into the background); with `wait`, wait until it answers.

    Returns the seconds from the start to an answer (or to the fork, without `wait`).
    Started without our stdio, other descriptors or process group: a CI runner waiting for
    its pipes to close, or a Ctrl-C to pytest, must not reach the daemon.
    """
    binary = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
    started = time.monotonic()
    subprocess.run(
        [binary, "-d"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
        check=True,
        timeout=timeout,
    )
    while wait and not answers(timeout=timeout):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"libvirtd started but {URI} did not answer in {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def ensure_libvirtd() -> None:
    """Leave libvirtd as the harness wants it: running, not stopped, answering."""
    pid = libvirtd_pid()
    if pid is not None and _proc_state(pid) in ("T", "t"):
        os.kill(pid, signal.SIGCONT)
    if pid is not None and answers(timeout=10.0):
        return
    if pid is not None:  # there but wedged: start over
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            kill_libvirtd(signal.SIGKILL)
    start_libvirtd()


@contextlib.contextmanager
def frozen_libvirtd() -> Iterator[int]:
    """SIGSTOP libvirtd for the block; SIGCONT afterwards, whatever happens."""
    pid = libvirtd_pid()
    assert pid is not None, "libvirtd is not running"
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


# -- a unix-socket proxy that can freeze -----------------------------------------------------
class FreezableProxy:
    """Forwards connections on `path` to the unix socket `upstream`, on one daemon thread.

    freeze(): forward nothing more in either direction and accept no new connection, but
    keep every socket open -- to the client the host looks alive and silent, like a machine
    whose network stopped. thaw() carries on; close() ends everything.
    """

    def __init__(self, path: Path | str, upstream: str = LIBVIRTD_SOCKET) -> None:
        self.path = str(path)
        self.upstream = upstream
        self.bytes_forwarded = 0
        self.connections = 0
        self._running = threading.Event()  # set = forwarding
        self._running.set()
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="freezable-proxy", daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"qemu+unix:///system?socket={self.path}"

    def freeze(self) -> None:
        self._running.clear()

    def thaw(self) -> None:
        self._running.set()

    def close(self) -> None:
        self._closed.set()
        self._running.set()
        self._thread.join(2.0)
        for sock in [self._listener, *self._peers]:
            with contextlib.suppress(OSError):
                sock.close()
        self._selector.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _loop(self) -> None:
        while not self._closed.is_set():
            if not self._running.is_set():
                self._running.wait(0.1)  # frozen: read nothing, so nothing moves
                continue
            for key, _events in self._selector.select(timeout=0.1):
                if not self._running.is_set():
                    break
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.connect(self.upstream)
        except OSError:
            client.close()  # upstream is down: the client sees end of file
            server.close()
            return
        self.connections += 1
        self._peers[client] = server
        self._peers[server] = client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peers.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                self.bytes_forwarded += len(data)
                return
        except OSError:
            pass
        for s in (sock, peer):  # one side closed: close the pair
            self._peers.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(s)
            s.close()


# -- what a Fleet delivers, with arrival times -------------------------------------------------
Statuses = HostStatus | tuple[HostStatus, ...]
# Connected: a poll answered. The first polls after a libvirtd restart can take over a second
# (SLOW) while the daemon reconnects to its QEMU processes.
UP = (HostStatus.OK, HostStatus.SLOW)


def _statuses(status: Statuses) -> tuple[HostStatus, ...]:
    return status if isinstance(status, tuple) else (status,)


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the callback ran
    snapshot: HostSnapshot


class Inbox:
    """Snapshots and write results as the Fleet's threads deliver them, time-stamped."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.arrivals: list[Arrival] = []
        self.writes: list[tuple[float, WriteResult]] = []

    def on_snapshot(self, snapshot: HostSnapshot) -> None:
        with self.cond:
            self.arrivals.append(Arrival(time.monotonic(), snapshot))
            self.cond.notify_all()

    def on_write(self, result: WriteResult) -> None:
        with self.cond:
            self.writes.append((time.monotonic(), result))
            self.cond.notify_all()

    def of(self, uri: str, status: Statuses | None = None, since: float = 0.0) -> list[Arrival]:
        wanted = _statuses(status) if status is not None else tuple(HostStatus)
        with self.cond:
            return [
                a
                for a in self.arrivals
                if a.snapshot.uri == uri and a.at >= since and a.snapshot.status in wanted
            ]

    def wait_for(
        self,
        what: str,
        uri: str,
        status: Statuses,
        since: float = 0.0,
        timeout: float = 20.0,
        check: Callable[[HostSnapshot], bool] = lambda _s: True,
    ) -> Arrival:
        """The first snapshot of `uri` with `status` (and `check`) that arrived after `since`."""
        wanted = _statuses(status)

        def found() -> Arrival | None:
            return next(
                (
                    a
                    for a in self.arrivals
                    if a.snapshot.uri == uri
                    and a.at >= since
                    and a.snapshot.status in wanted
                    and check(a.snapshot)
                ),
                None,
            )

        with self.cond:
            if not self.cond.wait_for(lambda: found() is not None, timeout):
                last = [a.snapshot for a in self.arrivals if a.snapshot.uri == uri][-3:]
                summary = [(s.status.value, s.error) for s in last]
                raise AssertionError(f"{what}: not within {timeout:.0f} s; last: {summary}")
            arrival = found()
            assert arrival is not None
            return arrival

    def wait_write(self, what: str, count: int, timeout: float = 20.0) -> WriteResult:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.writes) >= count, timeout):
                raise AssertionError(f"{what}: no write result within {timeout:.0f} s")
            return self.writes[count - 1][1]
