"""core/config.py and core/uris.py: hosts checked strictly, one URI rule, edits keep comments."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from balloon_tui.core.config import (
    HEADER,
    ConfigError,
    configured_hosts,
    hosts_setting,
    read_config,
    set_config_value,
)
from balloon_tui.core.display import has_unsafe
from balloon_tui.core.uris import MAX_URI_CHARS, UriError, check_uri

GOOD_URIS = [
    "qemu:///system",
    "qemu+ssh://root@kvm-01.example.com:2222/system?keyfile=/root/.ssh/id&no_verify=1",
    "test:///default",
    "qemu:///session",
    "lxc:///",
    "x" * MAX_URI_CHARS,
]
BAD_URIS = {
    "empty": "",
    "blank": "   ",
    "nul": "qemu:///sys\x00tem",
    "tab": "qemu:///\tsystem",
    "space": "qemu+ssh://a b/system",
    "newline": "qemu:///system\n",
    "escape": "qemu:///\x1b[2Jsystem",
    "c1-csi": "qemu:///\x9b31msystem",
    "bidi": "qemu:///\u202esystem",
    "zero-width": "qemu:///sys\u200btem",
    "line-separator": "qemu:///\u2028system",
    "too-long": "x" * (MAX_URI_CHARS + 1),
}


@pytest.mark.parametrize("uri", GOOD_URIS)
def test_ordinary_uris_pass_unchanged(uri: str) -> None:
    assert check_uri(uri) is uri


@pytest.mark.parametrize("uri", BAD_URIS.values(), ids=BAD_URIS.keys())
def test_what_no_uri_looks_like_is_refused(uri: str) -> None:
    with pytest.raises(UriError) as info:
        check_uri(uri)
    message = str(info.value)
    # Said on one line, with no raw control character and not kilobytes long.
    assert not has_unsafe(message) and len(message) < 200, message
    if uri.strip() and len(uri) <= MAX_URI_CHARS:
        bad = next(c for c in uri if c.isspace() or not c.isprintable())
        assert f"U+{ord(bad):04X}" in message, message


# -- hosts in the config file -----------------------------------------------------------------
CONFIG_ERRORS = {
    "a-number": ("hosts = 5\n", "must be a list"),
    "a-string": ('hosts = "qemu:///system"\n', "must be a list"),
    "not-toml": ("hosts = [\n", "not valid TOML"),
    "empty-list": ("hosts = []\n", "is empty"),
    "empty-string": ('hosts = [""]\n', "entry 1: an empty URI"),
    "blank-string": ('hosts = ["qemu:///system", "  "]\n', "entry 2: an empty URI"),
    "a-table-in-it": ('hosts = [{ uri = "qemu:///system" }]\n', "must be a list"),
    "nul": ('hosts = ["qemu:///sys\\u0000tem"]\n', "control characters"),
    "escape": ('hosts = ["qemu:///\\u001b[31msystem"]\n', "control characters"),
    "c1": ('hosts = ["qemu:///\\u009bsystem"]\n', "control characters"),
    "bidi": ('hosts = ["qemu:///\\u202Esystem"]\n', "control characters"),
    "not-utf8": (b"hosts = ['\xff']\n", "cannot read it"),
}


@pytest.mark.parametrize(("text", "words"), CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_a_wrong_hosts_setting_is_an_error_naming_the_file_and_the_key(
    tmp_path: Path, text: str | bytes, words: str
) -> None:
    path = tmp_path / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ConfigError) as info:
        configured_hosts(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "hosts" in message and words in message, message
    assert not has_unsafe(message), message  # one line, controls escaped


def test_a_config_path_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it: Is a directory"):
        configured_hosts(tmp_path)


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("", []),
        ('theme = "nord"\n', []),
        (
            'hosts = ["qemu+ssh://a/system", "qemu+ssh://b/system"]\n',
            ["qemu+ssh://a/system", "qemu+ssh://b/system"],
        ),
        ('hosts = ["qemu:///system", "qemu:///system"]\n', ["qemu:///system"]),
    ],
)
def test_good_hosts_settings(tmp_path: Path, text: str, hosts: list[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert configured_hosts(path) == hosts
    assert configured_hosts(tmp_path / "missing.toml") == []


def test_a_bad_theme_does_not_touch_the_hosts(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = 3\nhosts = ["qemu:///system"]\n')
    assert configured_hosts(path) == ["qemu:///system"]
    assert hosts_setting(read_config(path), path) == ["qemu:///system"]


# -- setting a key keeps the file ------------------------------------------------------------
COMMENTED = """\
# written by hand
hosts = ["qemu:///system"]   # production
theme = "nord"  # the theme

# a table we do not know
[later]
theme = "not this one"
"""


def test_setting_a_key_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED)
    set_config_value(path, "theme", 'odd "name" \\ ünïcode')
    written = path.read_text()
    assert written == COMMENTED.replace('theme = "nord"', 'theme = "odd \\"name\\" \\\\ ünïcode"')
    assert tomllib.loads(written)["theme"] == 'odd "name" \\ ünïcode'
    assert tomllib.loads(written)["later"] == {"theme": "not this one"}


def test_a_new_key_goes_above_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n[later]\nx = 1\n")
    set_config_value(path, "theme", "nord")
    assert tomllib.loads(path.read_text()) == {"theme": "nord", "later": {"x": 1}}
    assert path.read_text().startswith("# mine\n")


def test_a_new_file_gets_a_header(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    set_config_value(path, "theme", "nord")
    assert path.read_text() == HEADER + 'theme = "nord"\n'


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "balloon.toml"
    real.parent.mkdir()
    real.write_text("# kept\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    set_config_value(link, "theme", "nord")
    assert link.is_symlink()
    assert real.read_text() == '# kept\ntheme = "nord"\n'


def test_a_file_that_is_not_toml_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("theme = nord\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        set_config_value(path, "theme", "balloon-dark")
    assert path.read_text() == "theme = nord\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temporary left
