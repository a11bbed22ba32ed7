"""`--once` with names as a tenant could choose them: the table shows `visible(name)` and
reads no markup, nothing raw reaches the terminal; `--once --json` keeps libvirt's string."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from foreign_names import domain_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nodefiles import GIB, DomainSpec, write_node_file

from balloon_tui.cli import main
from balloon_tui.core.display import has_unsafe, visible

ISSUE_NAMES = [
    "pg[eu-central]",
    "cache[prod]-2",
    "node[a]",
    "[bold red]x",
    '[a="]q',
    "[@click=app.target_maximum]x",
    "csi\x9b[31m",
    "bidi\u202eevil",
    "tab\there",
]


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real ~/.local/state audit log."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _once(uri: str, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["-c", uri, "--once", *flags]) == 0
    return capsys.readouterr().out


def _check(names: list[str], path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = write_node_file(path, [DomainSpec(name, max_kib=2 * GIB) for name in names])
    table = _once(uri, capsys)
    lines = table.splitlines()
    assert not [line for line in lines if has_unsafe(line)]
    rows = [line for line in lines if "running" in line]
    for name in names:
        # Each name on a line of its own, as the operator reads it (Rich does not parse it).
        assert sum(line.startswith(visible(name) + " ") for line in rows) == 1, (name, rows)
    (host,) = json.loads(_once(uri, capsys, "--json"))["hosts"]
    assert sorted(d["name"] for d in host["domains"]) == sorted(names)


def test_once_shows_the_issue_names_literally(tmp_path, capsys):
    _check(ISSUE_NAMES, tmp_path / "issue.xml", capsys)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(domain_names(), min_size=1, max_size=4, unique=True))
def test_once_shows_generated_names_and_json_keeps_them(names, tmp_path_factory, capsys):
    _check(names, tmp_path_factory.mktemp("once") / "node.xml", capsys)
