"""Command line: parse, open connections, then the TUI or a one-shot report."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from balloon_tui import __version__
from balloon_tui.core.statsperiod import DEFAULT_STATS_PERIOD, MAX_STATS_PERIOD

if TYPE_CHECKING:
    from balloon_tui.core.safety import SafetyPolicy
    from balloon_tui.virt.fleet import Fleet


CONNECT_WAIT_SECONDS = 10.0
ONCE_WAIT_SECONDS = 30.0


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
        type=_uri,
        help=(
            "libvirt URI; repeat for several hosts (default: `hosts` in the config file, "
            "else libvirt's default URI)"
        ),
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
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme for this session, e.g. balloon-light, balloon-high-contrast, "
        "balloon-16 (16-colour terminals); ctrl+p → 'Change theme' picks and remembers one",
    )
    parser.add_argument(
        "--floor-margin",
        metavar="SIZE",
        type=_margin,
        default=None,
        help="safety floor = used + max(SIZE, PCT %% of used); SIZE default 128M",
    )
    parser.add_argument(
        "--floor-fraction",
        metavar="PCT",
        type=_fraction,
        default=None,
        help="the share of used memory in the safety margin, 0 to 100 (default 20)",
    )
    parser.add_argument(
        "--arm-stats",
        metavar="SECONDS",
        nargs="?",
        const=DEFAULT_STATS_PERIOD,
        type=_stats_period,
        default=None,
        help="set a live stats period (default 2 s) on running guests that have none, "
        "so their safety floor is known",
    )
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


_MAX_URI = 2048


def _uri(text: str) -> str:
    """Refuse what no libvirt URI looks like before libvirt sees it (a NUL would crash it)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty URI; give one like qemu:///system")
    if len(text) > _MAX_URI:
        raise argparse.ArgumentTypeError(f"a URI of {len(text)} characters is too long")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        shown = text.encode("unicode_escape").decode("ascii")[:60]
        raise argparse.ArgumentTypeError(
            f"a URI cannot contain spaces or control characters: {shown!r}"
        )
    return text


def _margin(text: str) -> int:
    from balloon_tui.core.safety import SafetyError, parse_margin

    try:
        return parse_margin(text)
    except SafetyError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--floor-margin: ")) from None


def _fraction(text: str) -> float:
    from balloon_tui.core.safety import SafetyError, parse_fraction

    try:
        return parse_fraction(text)
    except SafetyError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--floor-fraction: ")) from None


def _stats_period(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None
    if not 1 <= value <= MAX_STATS_PERIOD:
        raise argparse.ArgumentTypeError(
            f"{value} is out of range (1 to {MAX_STATS_PERIOD} seconds)"
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.json and not args.once:
        print("balloon-tui: --json needs --once", file=sys.stderr)
        return 2
    if args.arm_stats is not None and args.readonly:
        print("balloon-tui: --arm-stats writes a stats period; it cannot go with --readonly",
              file=sys.stderr)
        return 2
    uris: list[str | None] = list(args.uris)
    if args.demo:
        uris.append(demo_uri())
    if not uris:
        from balloon_tui.core.config import configured_hosts

        # No -c: the hosts listed in the config file, else libvirt's own default.
        uris = list(configured_hosts()) or [None]

    if args.theme is not None and (problem := _unknown_theme(args.theme)):
        print(f"balloon-tui: {problem}", file=sys.stderr)
        return 2

    # Imported late: --help and --version must not need libvirt.
    from balloon_tui.core.audit import AuditLog, default_audit_path
    from balloon_tui.virt.fleet import Fleet

    audit = AuditLog(args.audit_log or default_audit_path())
    if args.once:
        return _once(uris, args.readonly, args.json, audit)

    from balloon_tui.core.safety import DEFAULT_POLICY, SafetyPolicy

    policy = SafetyPolicy(
        DEFAULT_POLICY.min_margin_kib if args.floor_margin is None else args.floor_margin,
        DEFAULT_POLICY.margin_fraction if args.floor_fraction is None else args.floor_fraction,
    )
    fleet = Fleet(uris, readonly=args.readonly, interval=args.refresh, audit=audit)
    # A host that does not answer within this is shown "connecting" in the app instead of
    # holding up the others (the open goes on in the background).
    errors = fleet.connect_all(timeout=CONNECT_WAIT_SECONDS)
    # A URI that asks for credentials is opened again inside the app, which asks for them.
    fatal = {uri: e for uri, e in errors.items() if not e.needs_credentials}
    if fatal and (len(fatal) == len(fleet.workers)):
        for error in fatal.values():
            print(f"balloon-tui: {error}", file=sys.stderr)
        fleet.stop()
        return 2
    # With several hosts, one that is down now is shown as "disconnected — retrying".
    return _interactive(fleet, mouse=not args.no_mouse, policy=policy, arm_stats=args.arm_stats,
                        theme=args.theme)


def _interactive(
    fleet: Fleet, mouse: bool, policy: SafetyPolicy | None = None, arm_stats: int | None = None,
    theme: str | None = None,
) -> int:
    from balloon_tui.core.safety import DEFAULT_POLICY
    from balloon_tui.tui.factory import create_app

    app = create_app(fleet.bind, show_host=len(fleet.workers) > 1,
                     floor=policy or DEFAULT_POLICY, arm_stats=arm_stats, theme=theme,
                     user_config=True)
    hard_exit_seconds = 5.0
    # SIGHUP: the terminal is gone, there is nothing to restore, and Textual's shutdown can
    # block for good writing to the dead tty (its output thread died on EIO): do not wait long.
    hangup_exit_seconds = 1.5

    def leave(signum: int) -> None:
        fleet.stop(timeout=1.0)  # close the connections even if the UI cannot shut down
        os._exit(128 + signum)

    def hang_up(signum: int, _frame: object) -> None:
        # The terminal is gone (ssh dropped): leave within seconds, never spin on a dead tty.
        if signum == signal.SIGHUP:
            with contextlib.suppress(OSError):  # what is still drawn goes nowhere, not to EIO
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
        threading.Thread(target=app.call_from_thread, args=(app.exit,), daemon=True).start()
        wait = hangup_exit_seconds if signum == signal.SIGHUP else hard_exit_seconds
        timer = threading.Timer(wait, leave, (signum,))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGHUP, hang_up)
    signal.signal(signal.SIGTERM, hang_up)
    app.run(mouse=mouse)
    return app.return_code or 0


def _unknown_theme(name: str) -> str | None:
    """Why --theme NAME cannot be used (with the names that can), or None."""
    from balloon_tui.tui.themes import theme_names, user_theme_dir

    names = theme_names(user_theme_dir())
    if name in names:
        return None
    return f"there is no theme {name!r}; choose one of: {', '.join(names)}"


def _once(uris: list[str | None], readonly: bool, as_json: bool, audit: object) -> int:
    from rich.console import Console

    from balloon_tui.core.model import FleetSnapshot, HostSnapshot
    from balloon_tui.report import print_table, snapshot_json
    from balloon_tui.virt.fleet import Fleet

    fleet = Fleet(uris, readonly=readonly, on_snapshot=lambda _s: None, on_write=lambda _r: None)
    errors = fleet.connect_all(timeout=ONCE_WAIT_SECONDS)
    silent = [w.session.uri for w in fleet.workers.values() if not w.session.connected]
    for error in errors.values():
        print(f"balloon-tui: {error}", file=sys.stderr)
    for uri in silent:
        if uri not in errors:
            print(f"balloon-tui: cannot open {uri}: no answer within {ONCE_WAIT_SECONDS:.0f} s",
                  file=sys.stderr)
    if errors or silent:
        return 2
    hosts: list[HostSnapshot] = [w.session.poll() for w in fleet.workers.values()]
    fleet.stop()
    snapshot = FleetSnapshot(tuple(hosts))
    if as_json:
        print(snapshot_json(snapshot))
    else:
        # Piped output (scripts, bug reports) is not cut to 80 columns.
        width = None if sys.stdout.isatty() else 200
        print_table(snapshot, Console(highlight=False, width=width))
    return 0
