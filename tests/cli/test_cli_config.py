"""A config file that names its hosts wrongly stops the program (TUI and --once) with one line
naming the file and the key; every URI, from any source, is checked before libvirt sees it."""

from __future__ import annotations

from pathlib import Path

import pytest
from program import run_program

from balloon_tui.cli import main
from balloon_tui.core.display import has_unsafe

# (the config file's text, words the one line must hold besides the file and `hosts`)
CONFIG_ERRORS = {
    "hosts-a-number": ("hosts = 5\n", "must be a list"),
    "hosts-not-closed": ("hosts = [\n", "not valid TOML"),
    "hosts-empty": ("hosts = []\n", "is empty"),
    "hosts-empty-string": ('hosts = [""]\n', "an empty URI"),
    "hosts-blank-string": ('hosts = ["   "]\n', "an empty URI"),
    "hosts-nul": ('hosts = ["test:///def\\u0000ault"]\n', "U+0000"),
    "hosts-escape": ('hosts = ["test:///\\u001b[2Jdefault"]\n', "U+001B"),
    "hosts-c1": ('hosts = ["test:///\\u009bdefault"]\n', "U+009B"),
    "hosts-newline": ('hosts = ["test:///default\\n"]\n', "U+000A"),
}


def _config(home: Path, text: str) -> Path:
    path = home / "config" / "balloon-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("balloon-tui: ") and "Traceback" not in stderr
    assert not has_unsafe(lines[0]), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "argv", [["--once"], ["--once", "--json"], []], ids=["once", "json", "tui"]
)
@pytest.mark.parametrize(("text", "words"), CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_a_wrong_hosts_setting_stops_therun_program(
    tmp_path: Path, argv: list[str], text: str, words: str
) -> None:
    path = _config(tmp_path, text)
    proc = run_program(argv, tmp_path)
    assert proc.returncode == 2, proc.stderr
    line = _one_line(proc.stderr)
    assert str(path) in line and "hosts" in line and words in line, line
    assert proc.stdout == ""
    assert not (tmp_path / "state").exists()  # it stopped before anything else


def test_with_c_the_config_hosts_are_not_used(tmp_path: Path) -> None:
    """-c names the hosts: a config file whose hosts are wrong does not stand in the way."""
    _config(tmp_path, "hosts = 5\n")
    proc = run_program(["-c", "test:///default", "--once"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "test" in proc.stdout


def test_the_demo_does_not_use_the_config_hosts_either(tmp_path: Path) -> None:
    _config(tmp_path, "hosts = [\n")
    proc = run_program(["--demo", "--once"], tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    "value",
    ["   ", "qemu:///\x1b[31msystem", "qemu:///sys\u202etem"],
    ids=["blank", "escape", "bidi"],
)
def test_libvirt_default_uri_is_checked_like_any_uri(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", value)
    assert main(["--once"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "LIBVIRT_DEFAULT_URI" in line


@pytest.mark.parametrize(
    "uri",
    ["", "  ", "test:///def\x00ault", "test:///\x9bdefault", "x" * 5000],
    ids=["empty", "blank", "nul", "c1", "long"],
)
def test_a_bad_c_uri_is_refused_before_libvirt(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    uri: str,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with pytest.raises(SystemExit) as info:
        main(["-c", uri, "--once"])
    assert info.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert "-c/--connect" in line and len(line) < 300
