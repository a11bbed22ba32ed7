"""Command line: parse, open connections, then the TUI or a one-shot report."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from balloon_tui import __version__

if TYPE_CHECKING:
    from balloon_tui.virt.fleet import Fleet


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"balloon-tui: {message} (see balloon-tui --help)\n")


def demo_uri() -> str:
    path = Path(str(resources.files("balloon_tui.demo") / "demo.xml"))
    return f"test://{path.resolve()}"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="balloon-tui",
        description="Interactive memory ballooning of libvirt guests.",
    )
    parser.add_argument(
        "-c",
        "--connect",
        metavar="URI",
        action="append",
        dest="uris",
        default=[],
        help="libvirt URI; repeat for several hosts (default: libvirt's default URI)",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo (no hypervisor)")
    parser.add_argument("--readonly", action="store_true", help="open read-only: never write")
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=_positive_float,
        default=2.0,
        help="seconds between polls (default 2)",
    )
    parser.add_argument("--once", action="store_true", help="print the snapshot and exit")
    parser.add_argument("--json", action="store_true", help="with --once: print JSON")
    parser.add_argument("--audit-log", metavar="PATH", help="audit log file")
    parser.add_argument("--no-mouse", action="store_true", help="keyboard only")
    parser.add_argument("--version", action="version", version=f"balloon-tui {__version__}")
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is out of range (0.1 to 3600 seconds)")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.json and not args.once:
        print("balloon-tui: --json needs --once", file=sys.stderr)
        return 2
    uris: list[str | None] = list(args.uris)
    if args.demo:
        uris.append(demo_uri())
    if not uris:
        uris = [None]

    # Imported late: --help and --version must not need libvirt.
    from balloon_tui.core.audit import AuditLog, default_audit_path
    from balloon_tui.virt.fleet import Fleet

    audit = AuditLog(args.audit_log or default_audit_path())
    if args.once:
        return _once(uris, args.readonly, args.json, audit)

    fleet = Fleet(uris, readonly=args.readonly, interval=args.refresh, audit=audit)
    errors = fleet.connect_all()
    if errors and (len(errors) == len(fleet.workers)):
        for error in errors.values():
            print(f"balloon-tui: {error}", file=sys.stderr)
        fleet.stop()
        return 2
    # With several hosts, one that is down now is shown as "disconnected — retrying".
    return _interactive(fleet, mouse=not args.no_mouse)


def _interactive(fleet: Fleet, mouse: bool) -> int:
    from balloon_tui.tui.app import create_app

    app = create_app(fleet.bind, show_host=len(fleet.workers) > 1)
    hard_exit_seconds = 5.0

    def hang_up(signum: int, _frame: object) -> None:
        # The terminal is gone (ssh dropped): leave within seconds, never spin on a dead tty.
        threading.Thread(target=app.call_from_thread, args=(app.exit,), daemon=True).start()
        timer = threading.Timer(hard_exit_seconds, os._exit, (128 + signum,))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGHUP, hang_up)
    signal.signal(signal.SIGTERM, hang_up)
    app.run(mouse=mouse)
    return app.return_code or 0


def _once(uris: list[str | None], readonly: bool, as_json: bool, audit: object) -> int:
    from rich.console import Console

    from balloon_tui.core.model import FleetSnapshot, HostSnapshot
    from balloon_tui.report import print_table, snapshot_json
    from balloon_tui.virt.fleet import Fleet

    lock = threading.Lock()
    fleet = Fleet(uris, readonly=readonly, on_snapshot=lambda _s: None, on_write=lambda _r: None)
    errors = fleet.connect_all()
    for error in errors.values():
        print(f"balloon-tui: {error}", file=sys.stderr)
    if errors:
        return 2
    hosts: list[HostSnapshot] = []
    with lock:
        for worker in fleet.workers.values():
            hosts.append(worker.session.poll())
    fleet.stop()
    snapshot = FleetSnapshot(tuple(hosts))
    if as_json:
        print(snapshot_json(snapshot))
    else:
        # Piped output (scripts, bug reports) is not cut to 80 columns.
        width = None if sys.stdout.isatty() else 200
        print_table(snapshot, Console(highlight=False, width=width))
    return 0
