"""Command line: parse, open connections, then the TUI or a one-shot report."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import termios
import threading
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from balloon_tui import __version__
from balloon_tui.cli_regulator import add_arguments as add_regulator_arguments
from balloon_tui.cli_regulator import regulator_options
from balloon_tui.core.display import visible
from balloon_tui.core.statsperiod import DEFAULT_STATS_PERIOD, MAX_STATS_PERIOD

if TYPE_CHECKING:
    from textual.app import App

    from balloon_tui.core.regulator_settings import RegulatorOptions
    from balloon_tui.core.safety import SafetyPolicy
    from balloon_tui.virt.fleet import Fleet


CONNECT_WAIT_SECONDS = 10.0
ONCE_WAIT_SECONDS = 30.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"balloon-tui: {visible(message)} (see balloon-tui --help)\n")


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
    add_regulator_arguments(parser)
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


def _uri(text: str) -> str:
    from balloon_tui.core.uris import UriError, check_uri

    try:
        return check_uri(text)
    except UriError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def _fail(message: str) -> int:
    """One line on stderr, foreign text in it (URIs, paths, libvirt's words) made visible."""
    print(f"balloon-tui: {visible(message)}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # ctrl+c before the app runs (while connecting): no traceback
        return 128 + signal.SIGINT


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.json and not args.once:
        return _fail("--json needs --once")
    if args.arm_stats is not None and args.readonly:
        return _fail("--arm-stats writes a stats period; it cannot go with --readonly")
    uris = _hosts(args.uris, args.demo)
    if isinstance(uris, str):
        return _fail(uris)

    if args.theme is not None and (problem := _unknown_theme(args.theme)):
        return _fail(problem)

    from balloon_tui.core.safety import DEFAULT_POLICY, SafetyPolicy

    policy = SafetyPolicy(
        DEFAULT_POLICY.min_margin_kib if args.floor_margin is None else args.floor_margin,
        DEFAULT_POLICY.margin_fraction if args.floor_fraction is None else args.floor_fraction,
    )
    regulator = regulator_options(args, policy)
    if isinstance(regulator, str):
        return _fail(regulator)

    # Imported late: --help and --version must not need libvirt.
    from balloon_tui.core.audit import AuditError, AuditLog, default_audit_path
    from balloon_tui.virt.fleet import Fleet

    if args.once:
        from balloon_tui.report import run_once

        return run_once(uris, args.readonly, args.json, regulator, _fail, ONCE_WAIT_SECONDS)

    audit = AuditLog(args.audit_log or default_audit_path())
    fleet = Fleet(uris, readonly=args.readonly, interval=args.refresh, audit=audit, ask_later=True)
    # A host that does not answer within this is shown "connecting" in the app instead of
    # holding up the others (the open goes on in the background).
    errors = fleet.connect_all(timeout=CONNECT_WAIT_SECONDS)
    # A URI that asks for credentials is opened again inside the app, which asks for them.
    fatal = {uri: e for uri, e in errors.items() if not e.needs_credentials}
    if fatal and (len(fatal) == len(fleet.workers)):
        for error in fatal.values():
            _fail(str(error))
        fleet.stop()
        return 2
    if not args.readonly:
        # Found now, not at the first write (which it would refuse): a directory, a full
        # disk, a path nobody may create. After the connections: a session that never
        # started writes nothing.
        try:
            audit.session_start(fleet.uris, __version__)
        except AuditError as exc:
            fleet.stop()
            return _fail(f"{exc} (give another --audit-log PATH, or --readonly)")
    # With several hosts, one that is down now is shown as "disconnected — retrying".
    return _interactive(
        fleet,
        mouse=not args.no_mouse,
        policy=policy,
        arm_stats=args.arm_stats,
        theme=args.theme,
        regulator=regulator,
    )


def _hosts(given: list[str], demo: bool) -> list[str | None] | str:
    """The URIs to open (None: libvirt's default), or why there are none to trust.

    -c and --demo win; else the config file's `hosts` (a broken file is an error: it may
    name the hosts); else libvirt's default, LIBVIRT_DEFAULT_URI checked like any URI."""
    from balloon_tui.core.config import ConfigError, configured_hosts
    from balloon_tui.core.uris import UriError, check_uri

    uris: list[str | None] = [*given, *([demo_uri()] if demo else [])]
    if uris:
        return uris
    try:
        uris = list(configured_hosts())
    except ConfigError as exc:
        return str(exc)
    if uris:
        return uris
    # libvirt treats an empty LIBVIRT_DEFAULT_URI as unset.
    default = os.environ.get("LIBVIRT_DEFAULT_URI", "")
    if default:
        try:
            check_uri(default)
        except UriError as exc:
            return f"LIBVIRT_DEFAULT_URI: {exc}"
    return [None]


def _interactive(
    fleet: Fleet,
    mouse: bool,
    policy: SafetyPolicy | None = None,
    arm_stats: int | None = None,
    theme: str | None = None,
    regulator: RegulatorOptions | None = None,
) -> int:
    from balloon_tui.core.regulator_settings import DEFAULT_OPTIONS
    from balloon_tui.core.safety import DEFAULT_POLICY
    from balloon_tui.tui.factory import create_app

    app = create_app(
        fleet.bind,
        show_host=len(fleet.workers) > 1,
        floor=policy or DEFAULT_POLICY,
        arm_stats=arm_stats,
        theme=theme,
        user_config=True,
        regulator=regulator or DEFAULT_OPTIONS,
    )
    tune_gc()
    return _run_until_signalled(app, fleet, mouse)


def tune_gc() -> None:
    """Set the collector for a long-running UI, once, after the imports and the app are made.

    What is alive now (Textual, our modules, the app) lives as long as the process: frozen,
    no full collection scans it again. Each tick replaces thousands of snapshot objects,
    acyclic and freed by reference counting; young collections every 20 000 allocations
    instead of 700 make full ones rare. Measured at 1000 guests (2-core VM, 2026-12-01;
    docs/performance.md): without it, full collections of 60-110 ms land in polls and
    repaints, and the slowest apply+render tick took 90 ms against 26 ms with it.
    """
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


# What Textual's driver writes when it leaves application mode (linux_driver.py): bracketed
# paste, mouse reporting, kitty keys and focus events off, the main screen back, the cursor
# shown. Written by us only when Textual cannot shut down in time.
TERMINAL_RESTORE = (
    "\x1b[?2004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l"
)
EXIT_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
SHUTDOWN_SECONDS = 5.0  # for Textual to restore the terminal and close the connections
# The terminal is gone: nothing to restore, and Textual's shutdown can block for good
# writing to the dead tty (its output thread died on EIO).
HANGUP_SECONDS = 1.5


def _terminal_alive(fd: int) -> bool:
    """False once the terminal has hung up (ssh dropped, tmux killed): the kernel then
    answers every call on it with EIO."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError):
        return False
    return True


def _run_until_signalled(app: App[None], fleet: Fleet, mouse: bool) -> int:
    """`app.run`, with SIGTERM, SIGHUP and SIGINT ending it like `q` does (Textual restores
    the terminal) and the exit status 128 + the signal's number."""
    tty = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2  # Textual draws there
    saved = termios.tcgetattr(tty) if _terminal_alive(tty) else None
    timers: list[threading.Timer] = []

    def hard_exit(signum: int) -> None:
        """Textual did not finish in time: restore what we can ourselves, then leave."""
        if saved is not None and _terminal_alive(tty):
            with contextlib.suppress(OSError, termios.error):
                os.write(tty, TERMINAL_RESTORE.encode())
                termios.tcsetattr(tty, termios.TCSANOW, saved)
        fleet.stop(timeout=1.0)  # close the connections even if the UI cannot shut down
        os._exit(128 + signum)

    def ask_to_exit(code: int) -> None:
        # From a thread: a signal handler runs on the loop's thread, between two bytecodes,
        # where calling into the app could deadlock. Before the loop runs there is no app to
        # ask yet: try again until it is there (or the hard exit comes).
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while time.monotonic() < deadline:
            try:
                app.call_from_thread(app.exit, None, code)
                return
            except RuntimeError:
                time.sleep(0.05)

    def on_signal(signum: int, _frame: object) -> None:
        alive = _terminal_alive(tty)
        if not alive:
            with contextlib.suppress(OSError):  # what is still drawn goes nowhere, not to EIO
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
        threading.Thread(target=ask_to_exit, args=(128 + signum,), daemon=True).start()
        timer = threading.Timer(SHUTDOWN_SECONDS if alive else HANGUP_SECONDS, hard_exit, (signum,))
        timer.daemon = True
        timer.start()
        timers.append(timer)

    previous = {number: signal.signal(number, on_signal) for number in EXIT_SIGNALS}
    try:
        app.run(mouse=mouse)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for timer in timers:
            timer.cancel()
    return app.return_code or 0


def _unknown_theme(name: str) -> str | None:
    """Why --theme NAME cannot be used (with the names that can), or None."""
    from balloon_tui.tui.themefiles import theme_names, user_theme_dir

    names = theme_names(user_theme_dir())
    if name in names:
        return None
    return f"there is no theme {name!r}; choose one of: {', '.join(names)}"
