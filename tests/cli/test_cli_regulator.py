"""The regulator on the command line: `--budget`, config.toml's `[budget]`, `--autopilot`,
`--autopilot-interval`, and `--once` (table and JSON) with each guest's proposal and each
host's budget and shortfall, on test-driver node files (their guests report used = half
of actual)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nodefiles import GIB, MIB, DomainSpec, write_node_file

from balloon_tui import cli
from balloon_tui.cli import build_parser, main
from balloon_tui.cli_regulator import regulator_options
from balloon_tui.core.display import has_unsafe
from balloon_tui.core.regulator_settings import (
    DEFAULT_BUDGET,
    Budget,
    RegulatorOptions,
    RegulatorSettings,
)
from balloon_tui.core.safety import DEFAULT_POLICY, SafetyPolicy

HOST_RAM = 16 * GIB
# big: used 3 GiB of 6; small: used 512 MiB of 1 GiB; quiet: no stats (holds 2 GiB).
SPECS = [
    DomainSpec("big", max_kib=8 * GIB, current_kib=6 * GIB, stats_period=2),
    DomainSpec("small", max_kib=2 * GIB, current_kib=1 * GIB, stats_period=2),
    DomainSpec("quiet", max_kib=2 * GIB),
]
NEED_BIG = 3 * GIB + int(3 * GIB * 0.2)  # the safety floor: used + max(128 MiB, 20 %)
NEED_SMALL = 512 * MIB + 128 * MIB
HELD_QUIET = 2 * GIB


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return write_node_file(tmp_path / "node.xml", SPECS, host_memory_kib=HOST_RAM)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "balloon-tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def once_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, Any]]:
    assert run([*argv, "--once", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    hosts: list[dict[str, Any]] = json.loads(captured.out)["hosts"]
    return hosts


def by_name(host: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in host["domains"]}


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("balloon-tui: ") and "Traceback" not in stderr
    assert not has_unsafe(lines[0]), lines[0]
    return lines[0]


# --- --once --json ---------------------------------------------------------------------------


def test_a_budget_under_the_actuals_proposes_a_paced_shrink(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (host,) = once_json(capsys, "-c", uri, "--budget", "8G")
    plan = host["plan"]
    assert host["budget"] == "8 GiB" and host["plan_note"] is None
    assert plan["budget_kib"] == 8 * GIB
    assert plan["actual_kib"] == 9 * GIB
    assert plan["need_kib"] == NEED_BIG + NEED_SMALL + HELD_QUIET
    assert plan["short_kib"] == 0
    guests = by_name(host)
    big = guests["big"]["proposal"]
    # One round shrinks at most one step: 5 % of 6 GiB, more than 100 MiB.
    assert big["target_kib"] == 6 * GIB - int(6 * GIB * 0.05)
    assert big["target_kib"] < guests["big"]["actual_kib"]
    assert big["reason"].startswith("shrink to 5.70 GiB: 3.00 GiB idle")
    assert "host over budget by 1.00 GiB" in big["reason"]
    assert "from one sample, not damped" in big["reason"]
    assert big["need_kib"] == NEED_BIG
    # small's share of the rest is above its actual: it may grow once big has shrunk.
    small = guests["small"]["proposal"]
    assert small["target_kib"] is None
    assert small["reason"] == "its share is 1.51 GiB: waits for others to shrink under the budget"
    assert plan["change_kib"] == -int(6 * GIB * 0.05)
    quiet = guests["quiet"]["proposal"]
    assert quiet["target_kib"] is None and "no guest stats" in quiet["reason"]


def test_one_percent_leaves_the_host_short(uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    (host,) = once_json(capsys, "-c", uri, "--budget", "1%")
    plan = host["plan"]
    assert host["budget"] == "1 % of host RAM"
    assert plan["budget_kib"] == int(HOST_RAM * 0.01)
    assert plan["short_kib"] == NEED_BIG + NEED_SMALL + HELD_QUIET - int(HOST_RAM * 0.01)
    assert "short by" in plan["summary"]
    big = by_name(host)["big"]["proposal"]
    assert big["target_kib"] >= NEED_BIG  # never below its need, however short
    assert "host short by" in big["reason"]


def test_the_default_budget_is_80_percent_and_grows_guests_into_it(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (host,) = once_json(capsys, "-c", uri)
    assert host["plan"]["budget_kib"] == int(HOST_RAM * 0.8)
    assert host["plan"]["short_kib"] == 0
    big = by_name(host)["big"]["proposal"]
    assert big["target_kib"] > 6 * GIB and big["reason"].startswith("grow to ")


def test_a_paused_guest_says_why_it_gets_no_proposal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paused = DomainSpec("frozen", max_kib=2 * GIB, runstate=3, stats_period=2)
    node = write_node_file(tmp_path / "p.xml", [paused], host_memory_kib=HOST_RAM)
    (host,) = once_json(capsys, "-c", node)
    proposal = by_name(host)["frozen"]["proposal"]
    assert proposal == {
        "target_kib": None,
        "reason": "paused: its balloon cannot move",
        "need_kib": None,
        "not_responding": False,
        "pressure": False,
    }


# --- --once table ----------------------------------------------------------------------------


def test_the_table_has_a_proposal_column_and_the_plan(
    uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-c", uri, "--once", "--budget", "8G"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("name "))
    assert header.split()[:7] == ["name", "state", "max", "target", "actual", "used", "proposal"]
    big = next(line for line in out.splitlines() if line.startswith("big "))
    assert "↓ 5.70 GiB" in big
    quiet = next(line for line in out.splitlines() if line.startswith("quiet "))
    assert quiet.split()[-3] == "–"  # no proposal; then the balloon column
    assert "regulator (8 GiB): budget 8.00 GiB · actual 9.00 GiB · proposals free" in out
    assert "  big: shrink to 5.70 GiB: 3.00 GiB idle (from one sample, not damped)" in out


def test_the_table_says_when_there_is_no_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test driver always reports RAM; a host without it is the report's own case."""
    from rich.console import Console

    from balloon_tui.core.model import FleetSnapshot, HostSnapshot, HostStatus
    from balloon_tui.report import print_table, snapshot_json

    fleet = FleetSnapshot((HostSnapshot("test:///x", HostStatus.OK, taken_at=1.0),))
    print_table(fleet, Console(width=200, highlight=False))
    assert "regulator (80 % of host RAM): no budget" in capsys.readouterr().out
    (host,) = json.loads(snapshot_json(fleet))["hosts"]
    assert host["plan"] is None
    assert host["plan_note"] == "no budget: 80 % of host RAM, and the host does not report its RAM"


# --- config.toml -----------------------------------------------------------------------------


def test_config_budgets_and_their_precedence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_node_file(tmp_path / "a.xml", SPECS, host_memory_kib=HOST_RAM)
    b = write_node_file(tmp_path / "b.xml", SPECS, host_memory_kib=HOST_RAM)
    config(tmp_path, f'[budget]\ndefault = "50%"\n"{a}" = "7G"\n')

    def budgets(*argv: str) -> tuple[int, int]:
        ha, hb = once_json(capsys, "-c", a, "-c", b, *argv)
        return ha["plan"]["budget_kib"], hb["plan"]["budget_kib"]

    assert budgets() == (7 * GIB, 8 * GIB)  # the host's own; the config's default
    assert budgets("--budget", "6G") == (7 * GIB, 6 * GIB)  # --budget is every default


def test_a_single_config_budget_is_the_default(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config(tmp_path, 'budget = "25%"\n')
    (host,) = once_json(capsys, "-c", uri)
    assert host["plan"]["budget_kib"] == 4 * GIB and host["budget"] == "25 % of host RAM"


BAD_CONFIGS = {
    "a-number": ("budget = 5\n", "budget", "must be a table"),
    "default-a-number": ("[budget]\ndefault = 80\n", "budget.default", "in quotes"),
    "default-not-a-size": ('[budget]\ndefault = "lots"\n', "budget.default", "not a size"),
    "zero-percent": ('[budget]\ndefault = "0%"\n', "budget.default", "1% to 100%"),
    "over-100": ('[budget]\ndefault = "150%"\n', "budget.default", "1% to 100%"),
    "host-bad-uri": ('[budget]\n"test:///\\u001bx" = "1G"\n', "budget.", "not a host"),
    "host-bad-value": ('[budget]\n"test:///default" = "1Q"\n', "test:///default", "not a size"),
}


@pytest.mark.parametrize(("text", "key", "words"), BAD_CONFIGS.values(), ids=list(BAD_CONFIGS))
@pytest.mark.parametrize(
    "argv", [["--once"], ["--once", "--json"], []], ids=["once", "json", "tui"]
)
def test_a_bad_config_budget_stops_the_program(
    tmp_path: Path,
    uri: str,
    capsys: pytest.CaptureFixture[str],
    text: str,
    key: str,
    words: str,
    argv: list[str],
) -> None:
    path = config(tmp_path, text)
    assert run(["-c", uri, *argv]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert str(path) in line and key in line and words in line, line
    assert captured.out == ""
    assert not (tmp_path / "state").exists()


def test_a_config_that_is_not_toml_stops_only_the_autopilot(
    tmp_path: Path, uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, "[budget\n")
    (host,) = once_json(capsys, "-c", uri, "--budget", "8G")
    assert host["plan"]["budget_kib"] == 8 * GIB
    args = build_parser().parse_args(["-c", uri, "--autopilot"])
    problem = regulator_options(args, DEFAULT_POLICY, path)
    assert isinstance(problem, str)
    assert str(path) in problem and "not valid TOML" in problem and "--autopilot" in problem


# --- options for the app ---------------------------------------------------------------------


def test_the_options_the_app_gets(tmp_path: Path) -> None:
    path = config(tmp_path, '[budget]\n"test:///default" = "3G"\n')
    args = build_parser().parse_args(
        ["--budget", "60%", "--autopilot", "--autopilot-interval", "2.5", "--floor-margin", "256M"]
    )
    options = regulator_options(args, SafetyPolicy(256 * MIB, 0.2), path)
    assert options == RegulatorOptions(
        settings=RegulatorSettings(safety=SafetyPolicy(256 * MIB, 0.2)),
        budgets=options.budgets,
        autopilot=True,
        round_s=2.5,
    )
    assert options.budgets.for_host("test:///default") == Budget(kib=3 * GIB)
    assert options.budgets.for_host("qemu:///system") == Budget(fraction=0.6)
    plain = regulator_options(build_parser().parse_args([]), DEFAULT_POLICY, tmp_path / "none")
    assert isinstance(plain, RegulatorOptions)
    assert (plain.autopilot, plain.round_s, plain.budgets.default) == (False, 10.0, DEFAULT_BUDGET)


def test_main_hands_the_options_to_the_app(
    uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def interactive(fleet: Any, **options: Any) -> int:
        seen.update(options)
        fleet.stop()
        return 0

    monkeypatch.setattr(cli, "_interactive", interactive)
    argv = ["-c", uri, "--budget", "5G", "--autopilot", "--autopilot-interval", "30"]
    assert run([*argv, "--floor-fraction", "30", "--audit-log", str(tmp_path / "a.jsonl")]) == 0
    regulator = seen["regulator"]
    assert isinstance(regulator, RegulatorOptions)
    assert regulator.autopilot and regulator.round_s == 30.0
    assert regulator.budgets.for_host(uri) == Budget(kib=5 * GIB)
    assert regulator.settings.safety == seen["policy"] == SafetyPolicy(128 * MIB, 0.3)


# --- refusals: one line, exit 2 ----------------------------------------------------------------

REFUSALS = {
    "budget-text": (["--budget", "lots"], ["--budget", "not a size"]),
    "budget-zero-percent": (["--budget", "0%"], ["--budget", "1% to 100%"]),
    "budget-empty": (["--budget", ""], ["--budget"]),
    "interval-zero": (["--autopilot-interval", "0"], ["--autopilot-interval", "positive"]),
    "interval-negative": (["--autopilot-interval", "-5"], ["--autopilot-interval"]),
    "interval-nan": (["--autopilot-interval", "nan"], ["--autopilot-interval", "positive"]),
    "interval-inf": (["--autopilot-interval", "inf"], ["--autopilot-interval", "positive"]),
    "interval-text": (["--autopilot-interval", "soon"], ["--autopilot-interval", "soon"]),
    "autopilot-readonly": (["--autopilot", "--readonly"], ["--autopilot", "--readonly"]),
    "autopilot-once": (["--autopilot", "--once"], ["--autopilot", "--once never writes"]),
}


@pytest.mark.parametrize(("argv", "words"), REFUSALS.values(), ids=list(REFUSALS))
def test_refusals(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    assert run(["-c", uri, *argv]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert all(word in line for word in words), line
    assert captured.out == ""
    assert not (tmp_path / "state").exists()
