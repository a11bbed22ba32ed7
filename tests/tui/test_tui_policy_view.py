"""What the policy dialog reads and shows: the three texts as a policy (or why not), the
panel's policy line, foreign names in the dialog, the key in the help and the palette, and
a picture of the dialog at 80x24."""

from __future__ import annotations

import asyncio

import pytest
from foreign_names import check_screen
from nodefiles import GIB, MIB, DomainSpec, add_metadata
from textual.containers import Vertical
from textual.widgets import Input
from tuihelpers import dom, make_app, plain, ready, select, until

import screenshots
from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import GuestPolicy
from balloon_tui.tui import commands, keys
from balloon_tui.tui.policytext import policy_line
from balloon_tui.tui.screens.policy import TITLE_NAME_CELLS, PolicyScreen, check_line, read_policy
from balloon_tui.virt.metadata import POLICY_NAMESPACE

MAX = 4 * GIB


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("", "", ""), GuestPolicy()),
        (("1G", "3.5G", "500"), GuestPolicy(GIB, 3584 * MIB, 500)),
        ((" 1536 ", "75%", " 0 "), GuestPolicy(1536 * MIB, 3 * GIB, 0)),
        (("1 GiB", "4 GiB", "100000"), GuestPolicy(GIB, MAX, 100_000)),
        (("2G", "2G", ""), GuestPolicy(2 * GIB, 2 * GIB, 1000)),
    ],
)
def test_texts_that_fit_are_a_policy(texts, expected):
    assert read_policy(*texts, MAX) == expected


@pytest.mark.parametrize(
    ("texts", "said"),
    [
        (("x", "", ""), "min: not a size: 'x'"),
        (("", "5%%", ""), "max: unknown unit '%%'"),
        (("", "101%", ""), "max: 101% is more than the maximum"),
        (("0", "", ""), "min: '0' is zero"),
        (("", "", "ten"), "shares: 'ten' is not a whole number from 0 to 100000"),
        (("", "", "１０"), "shares: '１０' is not a whole number"),  # digits, but not ASCII
        (("", "", "9" * 40), "is not a whole number"),
        (("", "", "100001"), "shares must be 0 to 100000, not 100001"),
        (("", "4097M", ""), "max 4.00 GiB is above the maximum 4.00 GiB"),
        (("3G", "2G", ""), "min 3.00 GiB is above max 2.00 GiB"),
    ],
)
def test_texts_that_do_not_fit_say_why(texts, said):
    problem = read_policy(*texts, MAX)
    assert isinstance(problem, str) and said in problem


def test_the_check_line_says_what_the_policy_will_do():
    guest = dom("g", 1, actual=3 * GIB)
    lines = check_line(GuestPolicy(GIB, 2 * GIB, 0), guest, 1536 * MIB).plain.splitlines()
    assert lines == [
        "= min 1.00G · max 2.00G · shares 0 (left alone)",
        "min is below the safety floor 1.50G: the floor holds",
        "⚠ max is below the actual 3.00G: the regulator will propose to shrink it",
        "shares 0: the regulator proposes nothing for this guest",
    ]
    foreign = "bad\x1b[31m"
    assert check_line(foreign, guest, None).plain == "✖ " + visible(foreign)


def test_the_panel_line_only_for_a_policy_that_is_not_the_defaults_or_a_refused_one():
    assert policy_line(dom("g", 1)) is None
    line = policy_line(dom("g", 1, policy=GuestPolicy(GIB, None, 500)))
    assert line is not None and line.plain == "policy: min 1.00G · max 4.00G · shares 500"
    note = "policy in metadata ignored: shares 'x' is not a whole number"
    line = policy_line(dom("g", 1, policy_note=note))
    assert line is not None and line.plain == f"⚠ {note}"


def _policy_xml(**attributes: object) -> str:
    text = " ".join(f"{k.replace('_', '-')}='{v}'" for k, v in attributes.items())
    return f"<p:policy xmlns:p='{POLICY_NAMESPACE}' {text}/>"


async def test_the_panel_shows_the_stored_policy_and_a_refused_one(node):
    specs = [
        DomainSpec("kept", max_kib=MAX, current_kib=2 * GIB),
        DomainSpec("refused", max_kib=MAX, current_kib=2 * GIB),
        DomainSpec("plain", max_kib=MAX, current_kib=2 * GIB),
    ]
    uri = add_metadata(node(specs), "kept", _policy_xml(min_kib=GIB, shares=250))
    uri = add_metadata(uri, "refused", _policy_xml(max_kib=8 * GIB))
    app = make_app([uri], refresh=3600.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        title = app.panel.query_one("#panel-title")
        await select(app, pilot, "kept")
        assert plain(title).splitlines()[-1] == "policy: min 1.00G · max 4.00G · shares 250"
        await select(app, pilot, "refused")
        assert plain(title).splitlines()[-1] == (
            "⚠ policy in metadata ignored: max 8.00 GiB is above the maximum 4.00 GiB"
        )
        await select(app, pilot, "plain")
        assert "policy" not in plain(title)
        # The dialog says the same, and the refused policy is what storing replaces.
        await select(app, pilot, "refused")
        await pilot.press("o")
        await until(lambda: isinstance(app.screen, PolicyScreen), what="the dialog")
        stored = plain(app.screen.query_one("#policy-stored")).splitlines()
        assert stored == [
            "stored: min floor · max 4.00G · shares 1000 (the defaults)",
            "⚠ policy in metadata ignored: max 8.00 GiB is above the maximum 4.00 GiB",
        ]


NAMES = ["[@click=app.target_maximum]x", "bidi\u202eevil", "csi\x9b[31mred", "tab\there"]


async def test_a_foreign_name_is_data_in_the_dialog_and_the_log(node):
    app = make_app([node([DomainSpec(n, max_kib=MAX, current_kib=2 * GIB) for n in NAMES])])
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        for name in NAMES:
            await select(app, pilot, name)
            await pilot.press("o")
            await until(lambda: isinstance(app.screen, PolicyScreen), what="the dialog")
            title = str(app.screen.query_one(Vertical)._border_title.plain)
            assert title == "regulator policy for " + shown(name, TITLE_NAME_CELLS)
            assert title in check_screen(app)
            app.screen.query_one("#policy-shares", Input).value = "7"
            await pilot.press("enter")
            stored = f"{visible(name)}: policy stored (live + config): "
            await until(
                lambda n=stored: any(line.startswith(n) for line in app.log_panel.lines_written),
                what="the result",
            )
            check_screen(app)


def test_the_key_is_in_the_help_and_the_palette():
    [key] = [k for k in keys.APP_KEYS if k.action == "edit_policy"]
    assert (key.key, key.group, key.priority) == ("o", "Regulator", True)
    assert key in keys.SCREEN_KEYS and "edit_policy" in keys.PRIORITY_ACTIONS
    assert (
        "Regulator options: the guest's min, max and shares",
        "edit_policy",
        "key o",
    ) in commands.palette_commands()


async def _ready(pilot) -> None:
    await asyncio.wait_for(pilot.app.ready.wait(), 10)
    await pilot.pause()


def test_policy_dialog_80x24(snap_compare):
    """web-frontend-01 selected, `o`, a min and a max typed (shares left to the default)."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await _ready(pilot)
        index = next(
            i
            for i, key in enumerate(app.table.ordered_keys)
            if app.rows[key].domain.name == "web-frontend-01"
        )
        app.table.move_cursor(row=index)
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.press("2", "G", "tab", "3", "G")
        await pilot.pause()

    assert snap_compare(screenshots.demo_app(), terminal_size=(80, 24), run_before=run_before)
