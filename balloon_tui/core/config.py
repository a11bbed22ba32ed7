"""The settings file, `$XDG_CONFIG_HOME/balloon-tui/config.toml`.

    theme = "balloon-dark"                                    # remembered by the theme picker
    hosts = ["qemu+ssh://a/system", "qemu+ssh://b/system"]    # used when no -c is given
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


def config_home() -> Path:
    """$XDG_CONFIG_HOME/balloon-tui (an unset or relative XDG_CONFIG_HOME: ~/.config)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "balloon-tui"


def config_path() -> Path:
    return config_home() / "config.toml"


def read_config(path: Path) -> dict[str, Any]:
    """The config file as a dict ({} when there is none); ConfigError when it is broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read it: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    if "theme" in data and not isinstance(data["theme"], str):
        raise ConfigError(f"theme must be a name in quotes, not {data['theme']!r}")
    if "hosts" in data:
        hosts = data["hosts"]
        if not isinstance(hosts, list) or not all(
            isinstance(h, str) and h.strip() for h in hosts
        ):
            raise ConfigError(
                f'hosts must be a list of libvirt URIs in quotes, like hosts = ["qemu:///system"];'
                f" not {hosts!r}"
            )
    return data


def configured_hosts(path: Path | None = None) -> list[str]:
    """The `hosts` list, or [] (no file, no list, or a broken file: the app reports that)."""
    try:
        data = read_config(path or config_path())
    except ConfigError:
        return []
    return [h.strip() for h in data.get("hosts", [])]


def dump_config(config: Mapping[str, object]) -> str:
    """A tiny TOML writer: strings, booleans, numbers and lists of strings."""
    lines = ["# balloon-tui settings (written by balloon-tui; edit freely)"]
    for key, value in config.items():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            raise ValueError(f"cannot write the key {key!r}")
        lines.append(f"{key} = {_toml_value(key, value)}")
    return "\n".join(lines) + "\n"


def _toml_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(_toml_string(v) for v in value) + "]"
    raise ValueError(f"cannot write {key} = {value!r}")


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in value:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_config(path: Path, config: Mapping[str, object]) -> None:
    """Write atomically: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(dump_config(config), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
