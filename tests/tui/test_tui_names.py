"""Names are data on every surface of the TUI: generated names (any of Unicode, markup,
brackets, quotes, controls) in a test-driver node file, then the table, the panel, the typed
entry and confirm dialogs, toasts (clicked, as they are dismissed), the log, the status bar
and the hosts screen. Each shows the name as `visible(name)` (cut in the middle by cells
where it has a width), nothing is read as markup, no raw control character is drawn, nothing
crashes, and setMemoryFlags is never called.

The issue's own examples run first, as a plain test; hypothesis then looks further.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from foreign_names import check_screen, domain_names
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nodefiles import GIB, DomainSpec, write_node_file
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.widgets._toast import Toast
from tuihelpers import FakeFleetHandle, dom, emit, host, make_app, plain, ready, select, until

from balloon_tui.core.display import fit_cells, shown, visible
from balloon_tui.core.model import HostStatus
from balloon_tui.tui import BalloonApp, create_app
from balloon_tui.tui.render import row_key
from balloon_tui.tui.screens import confirm, entry
from balloon_tui.tui.screens.hosts import HOST_CELLS, HostsScreen
from balloon_tui.tui.widgets.tablerows import PADDING

ISSUE_NAMES = [
    "[@click=app.target_maximum]x",
    '[a="]q',
    "pg[eu-central]",
    "cache[prod]-2",
    "node[a]",
    "[bold red]x",
    "csi\x9b[31mred",
    "bidi\u202eevil",
    "tab\there",
]
FEW = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _title(screen: object) -> str:
    """A dialog's border title (its getter gives markup back, so the Content itself)."""
    return str(screen.query_one(Vertical)._border_title.plain)  # type: ignore[attr-defined]


async def _every_surface(names: list[str], path: Path, *, acted_on: int | None = None) -> None:
    """Every name in the table, the panel and the log; the names acted on (all, or the first
    `acted_on`) also in a toast (clicked), the typed entry and the confirm dialog."""
    specs = [DomainSpec(name, max_kib=4 * GIB, current_kib=3 * GIB) for name in names]
    app = make_app([write_node_file(path, specs)])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(app, pilot)
        # The test driver keeps every name exactly as written: what follows is about display.
        assert sorted(r.domain.name for r in app.rows.values()) == sorted(names)
        table = app.table
        for index, name in enumerate(names):
            key = await select(app, pilot, name)
            width = table.column_x("state") - table.column_x("name") - 2 * PADDING
            cell = table.get_cell(row_key(*key), "name").plain
            assert cell == shown(name, width)
            assert cell in check_screen(app)
            assert plain(app.query_one("#panel-title")).startswith(visible(name) + "  ")
            if acted_on is None or index < acted_on:
                await _act_on(app, pilot, name)
        check_screen(app)


async def _act_on(app: BalloonApp, pilot: Pilot[None], name: str) -> None:
    await pilot.press("u")  # nothing to undo: a toast that quotes the name
    await until(lambda: bool(app.screen.query(Toast)), what="the toast")
    toast = list(app.screen.query(Toast))[-1]
    note = toast._notification
    assert note.message.startswith(f"nothing to undo for {visible(name)}:")
    assert not note.markup
    check_screen(app)
    await pilot.click(toast)  # how a toast is dismissed; markup would run an action
    await pilot.pause()

    await pilot.press("t")
    await pilot.pause()
    assert isinstance(app.screen, entry.TargetEntryScreen)
    title = "target for " + shown(name, entry.TITLE_NAME_CELLS)
    assert _title(app.screen) == title
    assert title in check_screen(app)
    await pilot.press("escape")
    await pilot.pause()

    await pilot.press("minus")  # no guest stats: no floor known, so a shrink asks
    await pilot.pause()
    assert isinstance(app.screen, confirm.ConfirmFloorScreen)
    title = _title(app.screen)
    assert title.endswith(" for " + shown(name, confirm.TITLE_NAME_CELLS))
    assert title in check_screen(app)
    await pilot.press("escape")
    await pilot.pause()
    assert any(
        line.startswith(visible(name) + ": ") and "cancelled" in line
        for line in app.log_panel.lines_written
    )


async def test_the_issue_names_show_literally_and_write_nothing(tmp_path, memory_calls):
    await _every_surface(ISSUE_NAMES, tmp_path / "issue.xml")
    assert memory_calls.attempted() == []


@FEW
@given(names=st.lists(domain_names(), min_size=1, max_size=4, unique=True))
def test_generated_names_on_every_surface(names, tmp_path_factory, memory_calls):
    # One app per example (a second or so): every name in the table, the panel and the
    # log; the first also through a toast and both dialogs.
    path = tmp_path_factory.mktemp("names") / "node.xml"
    asyncio.run(_every_surface(names, path, acted_on=1))
    assert memory_calls.attempted() == []


async def _host_surfaces(hostname: str) -> None:
    uris = ("qemu+ssh://a/system", "qemu+ssh://a/session")
    fake = FakeFleetHandle(uris=uris)
    app = create_app(fake.factory, log_clock=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        for index, uri in enumerate(uris):
            status = HostStatus.OK if index == 0 else HostStatus.DISCONNECTED
            error = None if index == 0 else f"cannot reach {hostname}: connection refused"
            await emit(
                app,
                pilot,
                host(
                    dom(f"g{index}", index, uri=uri),
                    uri=uri,
                    hostname=hostname,
                    status=status,
                    error=error,
                ),
            )
        status_bar = plain(app.query_one("#hosts"))
        assert f"{visible(hostname)} (system)" in status_bar
        assert f"cannot reach {visible(hostname)}" in status_bar
        assert any(visible(hostname) in line for line in app.log_panel.lines_written)
        check_screen(app)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HostsScreen)
        table = app.screen.query_one(DataTable)
        labels = [table.get_row(uri)[0].plain for uri in uris]
        assert labels == [
            fit_cells(f"{visible(hostname)} ({part})", HOST_CELLS) for part in ("system", "session")
        ]
        check_screen(app)
        await pilot.press("escape")
        await pilot.pause()
        check_screen(app)
    assert fake.fleet is not None and fake.fleet.requests == []


@FEW
@given(hostname=domain_names())
def test_generated_host_names_in_the_status_bar_and_the_hosts_screen(hostname):
    asyncio.run(_host_surfaces(hostname))


async def test_a_theme_name_with_markup_is_quoted_not_read(tmp_path, monkeypatch):
    """`theme = '[a="]'` in config.toml, and a theme file called that: toasts, no crash."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "balloon-tui"
    (folder / "themes").mkdir(parents=True)
    (folder / "config.toml").write_text("theme = '[a=\"]'\n")
    (folder / "themes" / "bad.toml").write_text(
        "name = '[@click=app.quit]\u202e'\nprimary = '#6C9EF8'\n"
    )
    fake = FakeFleetHandle()
    app = create_app(fake.factory, log_clock=False, user_config=True)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await until(lambda: len(app.screen.query(Toast)) >= 2, what="both toasts")
        messages = [toast._notification.message for toast in app.screen.query(Toast)]
        assert any("there is no theme '[a=\"]'" in message for message in messages)
        assert any("[@click=app.quit]\\u202e" in message for message in messages)
        check_screen(app)
        for toast in list(app.screen.query(Toast)):
            await pilot.click(toast)
        await pilot.pause()
        assert app.is_running  # the click on [@click=app.quit] quit nothing
