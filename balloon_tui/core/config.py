"""The settings file, `$XDG_CONFIG_HOME/balloon-tui/config.toml`.

    theme = "balloon-dark"                                    # remembered by the theme picker
    hosts = ["qemu+ssh://a/system", "qemu+ssh://b/system"]    # used when no -c is given

    [budget]                      # the regulator's budget per host (`budget_setting`)
    default = "80%"               # every host without its own entry (--budget wins over it)
    "qemu+ssh://a/system" = "200G"  # this host's own: wins over --budget too

`hosts` says which machines the tool acts on, so a mistake in it is an error that stops the
program (`configured_hosts`): falling back to libvirt's default URI would point it at another
host without a word. A bad `theme` only costs a colour scheme: the app reports it and uses
the default (`theme_setting`).
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from balloon_tui.core.display import shown, visible
from balloon_tui.core.regulator_settings import Budget, RegulatorError, parse_budget
from balloon_tui.core.uris import EXAMPLE, UriError, check_uri

HEADER = "# balloon-tui settings (balloon-tui changes only the keys it sets; edit freely)\n"


class ConfigError(ValueError):
    """What is wrong with the config file: one line naming the file (and the key)."""

    def __init__(self, path: Path, problem: str, key: str | None = None) -> None:
        where = visible(str(path)) + (f": {key}" if key else "")
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


def config_home() -> Path:
    """$XDG_CONFIG_HOME/balloon-tui (an unset or relative XDG_CONFIG_HOME: ~/.config)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "balloon-tui"


def config_path() -> Path:
    return config_home() / "config.toml"


def _brief(value: object) -> str:
    """A wrong value as the operator wrote it, short and with its controls escaped."""
    return shown(repr(value), 60)


def read_config(path: Path) -> dict[str, Any]:
    """The config file as a dict ({} when there is none); ConfigError when it cannot be read
    or is not TOML. The values are not checked here: see `hosts_setting`, `theme_setting`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(path, f"cannot read it: {reason}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None


def hosts_setting(data: dict[str, Any], path: Path) -> list[str] | None:
    """The `hosts` list, each URI checked; None when the file has no `hosts`."""
    if "hosts" not in data:
        return None
    hosts = data["hosts"]
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise ConfigError(
            path,
            f'must be a list of libvirt URIs in quotes, like hosts = ["{EXAMPLE}"]; '
            f"not {_brief(hosts)}",
            "hosts",
        )
    if not hosts:
        raise ConfigError(
            path,
            "is empty: list at least one URI, or delete the line to use libvirt's default",
            "hosts",
        )
    for number, uri in enumerate(hosts, 1):
        try:
            check_uri(uri)
        except UriError as exc:
            raise ConfigError(path, f"entry {number}: {exc}", "hosts") from None
    return list(dict.fromkeys(hosts))  # one connection per host, however often it is listed


def configured_hosts(path: Path | None = None) -> list[str]:
    """The hosts to use when no -c is given; [] when there is no file or no `hosts`.

    ConfigError when the file cannot be read, is not TOML, or `hosts` is wrong: the file may
    name the hosts, so going on with libvirt's default would act on the wrong machine."""
    path = path or config_path()
    try:
        data = read_config(path)
    except ConfigError as exc:
        raise ConfigError(
            path,
            f"{exc.problem}, so its hosts setting cannot be read: fix the file, or give -c URI",
        ) from None
    return hosts_setting(data, path) or []


def theme_setting(data: dict[str, Any], path: Path) -> str | None:
    """The remembered theme name (not checked against the themes there are), or None."""
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(path, f"must be a theme name in quotes, not {_brief(theme)}", "theme")
    return theme


BUDGET_KEY = "budget"
BUDGET_DEFAULT = "default"
_BUDGET_FORMS = 'a size or a percentage of host RAM in quotes, like "48G" or "80%"'


def budget_setting(
    data: dict[str, Any], path: Path
) -> tuple[Budget | None, tuple[tuple[str, Budget], ...]]:
    """The `[budget]` table: its `default` (None when not given) and each host's own budget,
    keyed by the host's URI as written with -c or in `hosts`. `budget = "75%"` alone is
    the default. ConfigError naming the key for anything else: a budget the autopilot
    would act on must be what the operator meant."""
    if BUDGET_KEY not in data:
        return None, ()
    table = data[BUDGET_KEY]
    if isinstance(table, str):
        return _budget(table, path, BUDGET_KEY), ()
    if not isinstance(table, dict):
        raise ConfigError(
            path,
            f'must be a table of budgets ([budget] with default = "80%" and host URIs as '
            f"keys) or one budget in quotes; not {_brief(table)}",
            BUDGET_KEY,
        )
    default: Budget | None = None
    hosts: list[tuple[str, Budget]] = []
    for name, value in table.items():
        if name == BUDGET_DEFAULT:
            default = _budget(value, path, f"{BUDGET_KEY}.{BUDGET_DEFAULT}")
            continue
        where = f"{BUDGET_KEY}.{shown(repr(name), 60)}"
        try:
            uri = check_uri(name)
        except UriError as exc:
            raise ConfigError(
                path, f"not {BUDGET_DEFAULT} and not a host's URI: {exc}", where
            ) from None
        hosts.append((uri, _budget(value, path, where)))
    return default, tuple(hosts)


def _budget(value: object, path: Path, where: str) -> Budget:
    if not isinstance(value, str):
        raise ConfigError(path, f"must be {_BUDGET_FORMS}; not {_brief(value)}", where)
    try:
        return parse_budget(value)
    except RegulatorError as exc:
        raise ConfigError(path, str(exc).removeprefix("--budget: "), where) from None


def set_config_value(path: Path, key: str, value: str) -> None:
    """Set one top-level key and keep the rest of the file as the operator wrote it: its
    comments, order and layout (tomlkit edits the document; it does not write a new one).

    Written atomically, in place of the file a symlink points to (dotfile managers link
    it), with the file's own permissions. ConfigError when the file is not TOML; OSError."""
    target = path.resolve() if path.is_symlink() else path
    try:
        text = target.read_text(encoding="utf-8")
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        text, mode = HEADER, None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"cannot read it: {exc}") from None
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(path, f"not valid TOML: {exc}") from None
    document[key] = value
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(document.as_string(), encoding="utf-8")
        if mode is not None:
            temporary.chmod(mode)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
