"""The regulator's command line and config: `--budget`, `--autopilot`, `--autopilot-interval`
and config.toml's `[budget]`, into the one `RegulatorOptions` the app (or `--once`) gets."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

from balloon_tui.core.config import ConfigError, budget_setting, config_path, read_config
from balloon_tui.core.regulator_settings import (
    DEFAULT_BUDGET,
    DEFAULT_ROUND_SECONDS,
    DEFAULT_SETTINGS,
    Budget,
    Budgets,
    RegulatorError,
    RegulatorOptions,
    parse_budget,
)
from balloon_tui.core.safety import SafetyPolicy


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget",
        metavar="SIZE|PCT",
        type=_budget,
        default=None,
        help="the memory each host's running guests may hold together, for the regulator's "
        "proposals: a size (48G; a plain number is MiB) or a share of host RAM (75%%); "
        "default: config.toml's [budget], else 80%%",
    )
    parser.add_argument(
        "--autopilot",
        action="store_true",
        help="start with the autopilot on for every host: it applies the proposals each round",
    )
    parser.add_argument(
        "--autopilot-interval",
        metavar="SECONDS",
        type=_interval,
        default=DEFAULT_ROUND_SECONDS,
        help=f"seconds between the autopilot's rounds (default {DEFAULT_ROUND_SECONDS:g})",
    )


def _budget(text: str) -> Budget:
    try:
        return parse_budget(text)
    except RegulatorError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--budget: ")) from None


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def regulator_options(
    args: argparse.Namespace, safety: SafetyPolicy, path: Path | None = None
) -> RegulatorOptions | str:
    """The options from the command line and the config file, or the one line that says why
    they cannot be used.

    Precedence: `--budget` sets every host's default, over config.toml's `default`; a
    host's own entry in config.toml wins over both for that host. A config file that cannot
    be read stops only the autopilot (which would write by its budgets): the proposals alone
    fall back to the command line's and the default budget, and say which budget they used.
    """
    if args.autopilot and args.readonly:
        return "--autopilot writes targets; it cannot go with --readonly"
    if args.autopilot and args.once:
        return "--once never writes: --autopilot cannot go with it"
    path = path or config_path()
    try:
        data = read_config(path)
    except ConfigError as exc:
        if args.autopilot:
            return f"{exc}, so the budgets for --autopilot cannot be read: fix the file"
        data = {}
    try:
        default, per_host = budget_setting(data, path)
    except ConfigError as exc:
        return str(exc)
    if args.budget is not None:
        default = args.budget
    return RegulatorOptions(
        settings=replace(DEFAULT_SETTINGS, safety=safety),
        budgets=Budgets(default or DEFAULT_BUDGET, per_host),
        autopilot=args.autopilot,
        round_s=args.autopilot_interval,
    )
