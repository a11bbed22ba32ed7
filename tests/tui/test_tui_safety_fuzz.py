"""Junk in, a message out, nothing written: 200+ bad sizes in the typed entry, 200+ bad URIs
on the command line (`-c`). setMemoryFlags is spied on throughout."""

from __future__ import annotations

import asyncio
import random
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nodefiles import GIB, DomainSpec
from textual.widgets import Input, Static
from tuihelpers import make_app, plain, ready, select

from balloon_tui import cli
from balloon_tui.core.model import DomainSnapshot, DomainState
from balloon_tui.core.sizes import SizeError, parse_size
from balloon_tui.tui.screens.entry import TargetEntryScreen, check_target

MAXIMUM = 4 * GIB
SPECS = [DomainSpec("alpha", max_kib=MAXIMUM, current_kib=2 * GIB, stats_period=2)]
DOMAIN = DomainSnapshot("test:///x", "u", "alpha", DomainState.RUNNING, MAXIMUM, 2 * GIB)


def _is_bad(text: str) -> bool:
    """The oracle, from core alone: not a size, or more than the maximum."""
    try:
        return parse_size(text, MAXIMUM) > MAXIMUM
    except SizeError:
        return True


def bad_sizes(count: int = 240, seed: int = 20240611) -> list[str]:
    rng = random.Random(seed)
    fixed = [
        "",
        " ",
        "\t",
        "0",
        "0.0",
        "0M",
        "-1G",
        "+1G",
        "1e3",
        "1E3G",
        "1,5G",
        "1.5.5G",
        "G",
        "%",
        "150%",
        "100.1%",
        "1.5Q",
        "1 G B",
        "0x10",
        "nan",
        "inf",
        "-inf",
        "5G",
        "4.01G",
        "4097M",
        "9999999999999999T",
        "1/2G",
        "½G",
        "１G",
        "1G1",
        "--1",
        "1..5G",
        ".G",
        "1 GiBs",
        "1 kibibyte",
        "one gig",
        "1G;rm -rf /",
        "'1G'",
        '"2G"',
        "1\x00G",
        "1\nG",
        "∞",
        "1_000M",
        "2**30",
        "1 000M",
        "0.0000001K",
        "-0",
        "NaN%",
        "5T",
        "1PB",
        "1.5 gb extra",
        "MiB",
        "k",
        "%50",
        "50%%",
        "1.5G!",
        "😀",
        "1.5😀G",
        "G1.5",
    ]
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \t.%½１😀\x00\x1b"
    out = [text for text in fixed if _is_bad(text)]
    while len(out) < count:
        kind = rng.randrange(4)
        if kind == 0:  # junk of any kind
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        elif kind == 1:  # a number with a wrong unit
            unit = "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 4)))
            text = f"{rng.randint(1, 9999)}{unit}"
        elif kind == 2:  # too large for this guest
            text = f"{rng.randint(5, 10**6)}{rng.choice(['G', 'GiB', 'T', 'TB'])}"
        else:  # a percentage above 100, or a zero in disguise
            text = rng.choice([f"{rng.randint(101, 10**5)}%", f"0.{'0' * rng.randint(1, 6)}K"])
        if _is_bad(text) and text not in out:
            out.append(text)
    return out


def test_check_target_refuses_every_bad_size_with_a_message():
    sizes = bad_sizes()
    assert len(sizes) >= 200
    for text in sizes:
        kib, line = check_target(text, DOMAIN, None)
        assert kib is None, text
        assert line.plain.startswith("✖ ") and len(line.plain) > 10, (text, line.plain)


@given(st.text(max_size=30))
def test_check_target_never_lets_through_what_libvirt_would_refuse(text):
    kib, line = check_target(text, DOMAIN, None)
    if kib is None:
        assert line.plain.startswith("✖ ")
    else:
        assert 0 < kib <= MAXIMUM


async def test_the_entry_refuses_200_bad_sizes_and_writes_nothing(node, memory_calls):
    sizes = bad_sizes()
    app = make_app([node(SPECS)], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        requests = []
        original = app.fleet.request_target
        app.fleet.request_target = lambda r: (requests.append(r), original(r))
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TargetEntryScreen)
        box = screen.query_one(Input)
        check = screen.query_one("#entry-check", Static)
        for text in sizes:
            box.value = text
            check.update("")
            await box.action_submit()  # as Enter does: posts Input.Submitted
            for _ in range(2000):  # let the message reach the screen (a few loop turns)
                if plain(check):
                    break
                await asyncio.sleep(0)
            assert app.screen is screen, text  # still open
            shown = plain(check)
            assert shown.startswith("✖ "), (text, shown)
        await pilot.press("escape")
        await pilot.pause()
        assert requests == []
    assert memory_calls.attempted() == []


# -- URIs ---------------------------------------------------------------------------------
def bad_uris(tmp: Path, count: int = 220, seed: int = 7) -> list[str]:
    """Junk URIs that cannot open: no host part (no network lookups), never a real driver."""
    rng = random.Random(seed)
    (tmp / "a-directory").mkdir(exist_ok=True)
    (tmp / "empty.xml").write_text("")
    (tmp / "not-xml.xml").write_text("balloon? " * 20)
    (tmp / "wrong-root.xml").write_text("<domain/>")
    fixed = [
        "",
        " ",
        "\t",
        "qemu:///system\n",
        "test:///\x00",
        "a b://c",
        "\x1b[2J",
        "x" * 5000,
        f"test://{tmp}/missing.xml",
        f"test://{tmp}/a-directory",
        f"test://{tmp}/empty.xml",
        f"test://{tmp}/not-xml.xml",
        f"test://{tmp}/wrong-root.xml",
        "zz:///",
        "zz-zz:///",
        "http:///x",
        "ftp:///x",
        "ssh:///x",
        "mailto:///root",
    ]
    out = list(fixed)
    safe = string.ascii_letters + string.digits + "/._-~"
    weird = "\x00\x01\x07\x1b\x7f\n\r\t \u200b\u2028"
    while len(out) < count:
        kind = rng.randrange(4)
        path = "".join(rng.choice(safe) for _ in range(rng.randint(0, 16)))
        if kind == 0:  # an unknown scheme
            scheme = "zz" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
            out.append(f"{scheme}:///{path}")
        elif kind == 1:  # a missing node file
            out.append(f"test://{tmp}/nope-{path.replace('/', '_')}.xml")
        elif kind == 2:  # control characters and spaces anywhere
            chars = list(f"zz:///{path}")
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(weird))
            out.append("".join(chars))
        else:  # no scheme at all, or half of one
            out.append(
                rng.choice(["", ":", "://", ":///", "///"])
                + path
                + rng.choice(["", ":", "://"])
                + "zz"
            )
    return out


def test_200_bad_uris_each_get_one_line_and_no_write(tmp_path, monkeypatch, capsys, memory_calls):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uris = bad_uris(tmp_path)
    assert len(uris) >= 200

    def no_app(*_args, **_kwargs):
        raise AssertionError("a bad URI reached the interactive screen")

    monkeypatch.setattr(cli, "_interactive", no_app)
    for index, uri in enumerate(uris):
        argv = ["-c", uri, "--audit-log", str(tmp_path / "audit.jsonl")]
        if index % 2:
            argv.append("--once")
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse refuses the worst before libvirt sees them
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        assert code == 2, uri
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("balloon-tui: "), (uri, captured.err)
        assert "Traceback" not in captured.err and len(lines[0]) > 20
        assert captured.out == ""
    assert memory_calls.attempted() == []
    assert not (tmp_path / "audit.jsonl").exists()  # nothing was even attempted


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--floor-margin", "20%"], ["--floor-margin", "percentage"]),
        (["--floor-margin", "lots"], ["--floor-margin", "not a size"]),
        (["--floor-fraction", "150"], ["--floor-fraction", "out of range"]),
        (["--floor-fraction", "abc"], ["--floor-fraction", "not a percentage"]),
        (["--arm-stats", "0"], ["--arm-stats", "out of range"]),
        (["--arm-stats", "soon"], ["--arm-stats", "whole number"]),
        (["--arm-stats", "--readonly"], ["--arm-stats", "--readonly"]),
        (["-c", ""], ["empty URI"]),
        (["-c", "test:///x\x00"], ["control characters"]),
    ],
)
def test_bad_safety_options_get_one_clear_line(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    try:
        code = cli.main(["--demo", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("balloon-tui: ")
    for word in words:
        assert word in err, (word, err)


def test_floor_options_reach_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen = {}

    def interactive(fleet, mouse, **options):
        seen.update(options)
        fleet.stop()
        return 0

    monkeypatch.setattr(cli, "_interactive", interactive)
    assert (
        cli.main(["--demo", "--floor-margin", "256M", "--floor-fraction", "30%", "--arm-stats"])
        == 0
    )
    policy = seen["policy"]
    assert policy.min_margin_kib == 256 * 1024 and policy.margin_fraction == pytest.approx(0.3)
    assert seen["arm_stats"] == 2
