"""virtio-mem in the TUI, from hand-built snapshots (libvirt's test driver reports a
device's `<current>` as 0 and cannot change one): the table's ⊞ after the name, the panel's
line per device, balloon targets capped at boot + plugged, and a picture at 120x40."""

from __future__ import annotations

from nodefiles import GIB, MIB
from rich.cells import cell_len
from rich.text import Text
from tuihelpers import FakeFleetHandle, dom, emit, host, plain, select, until

from balloon_tui.core.display import visible
from balloon_tui.core.model import DomainState, GuestStats, MemoryDevice
from balloon_tui.tui import create_app, render
from balloon_tui.tui.memtext import (
    ALIAS_CELLS,
    NO_ALIAS,
    PLUGGING,
    UNPLUGGING,
    device_lines,
    virtio_mem_text,
)
from balloon_tui.tui.render import RowView
from balloon_tui.tui.screens.entry import check_target
from balloon_tui.tui.screens.help import help_table
from balloon_tui.tui.widgets.tablerows import NAME_MIN, column_widths

NOW = 1000.0
# Boot memory 2 GiB; two devices: one plugging toward its request, one settled.
FIRST = MemoryDevice("virtiomem0", 0, 2 * MIB, 2 * GIB, GIB, 512 * MIB)
SECOND = MemoryDevice("virtiomem1", 1, 4 * MIB, GIB, 256 * MIB, 256 * MIB)
STATS = GuestStats(usable=GIB, unused=GIB, last_update=int(NOW))


def elastic(
    *devices: MemoryDevice,
    name: str = "elastic",
    index: int = 1,
    actual: int | None = None,
    **fields,
):
    """Boot memory 2 GiB; the maximum counts the devices whole, as libvirt's does; actual
    is boot + plugged (an empty balloon) unless given."""
    plugged = sum(d.current_kib or 0 for d in devices)
    fields.setdefault("stats", STATS)
    return dom(
        name,
        index,
        maximum=2 * GIB + sum(d.size_kib for d in devices),
        actual=2 * GIB + plugged if actual is None else actual,
        memory_devices=devices,
        **fields,
    )


def test_the_name_carries_the_mark_and_keeps_it_whole_when_cut() -> None:
    assert render.name_text(RowView(elastic(FIRST), None)).plain == "elastic ⊞"
    assert render.name_text(RowView(dom("plain", 2), None)).plain == "plain"
    long = RowView(elastic(FIRST, name="a-very-long-guest-name-for-the-table"), None)
    cut = render.name_text(long, 12).plain
    assert cut.endswith(" ⊞") and len(cut) == 12 and "…" in cut
    failed = RowView(elastic(FIRST), None, failed="no")
    assert render.name_text(failed, 12).plain == "✖ elastic ⊞"


def test_the_name_column_makes_room_for_the_mark() -> None:
    rows = [RowView(elastic(FIRST, name="n" * 10), None)]
    assert column_widths(rows, 200, False)["name"] == 12
    plain_rows = [RowView(dom("n" * 10, 1), None)]
    assert column_widths(plain_rows, 200, False)["name"] == max(NAME_MIN, 10)


HEADER = "⊞ virtio-mem  node   block    size  requested  current"


def test_each_device_on_one_line_under_a_header() -> None:
    assert device_lines([FIRST, SECOND]).plain.splitlines() == [
        HEADER,
        f"  virtiomem0     0   2.00M   2.00G      1.00G     512M {PLUGGING}",
        "  virtiomem1     1   4.00M   1.00G       256M     256M",
    ]
    shrinking = MemoryDevice("virtiomem0", 0, 2 * MIB, GIB, 0, 128 * MIB)
    assert device_lines([shrinking]).plain.endswith(f"128M {UNPLUGGING}")


def test_unknown_facts_are_dashes_and_never_pending() -> None:
    config = MemoryDevice("", None, 2 * MIB, GIB, 512 * MIB, None)  # a shut-off guest's XML
    assert device_lines([config]).plain.splitlines()[1] == (
        f"  {NO_ALIAS}     –   2.00M   1.00G       512M        –"
    )


def test_a_foreign_alias_is_shown_visibly_and_cut_and_the_columns_follow() -> None:
    alias = "ua-\u202e[bold]x" + "界" * 40
    lines = device_lines([MemoryDevice(alias, 0, 2 * MIB, GIB, 0, 0), SECOND]).plain
    assert "\u202e" not in lines and "ua-\\u202…" in lines
    assert visible(alias) not in lines  # cut to its cells, the facts after it kept
    header, first, second = lines.splitlines()
    assert cell_len(header) == cell_len(first) == cell_len(second)
    assert first.endswith("0K       0K") and cell_len(first.split("  ")[1]) <= ALIAS_CELLS


def test_the_lines_fit_an_80_column_panel() -> None:
    widest = MemoryDevice("virtiomem10", 63, 1024 * MIB, 1024 * GIB, 512 * GIB, 1000 * GIB)
    text = virtio_mem_text(elastic(widest, FIRST))
    assert text is not None
    assert max(cell_len(line) for line in text.plain.splitlines()) <= 76


def test_the_panel_says_what_the_balloon_can_reach() -> None:
    text = virtio_mem_text(elastic(FIRST, SECOND))
    assert text is not None
    lines = text.plain.splitlines()
    assert lines[:3] == device_lines([FIRST, SECOND]).plain.splitlines()
    assert lines[3:] == ["  balloon up to 2.75G = boot + plugged; 2.25G of the max not plugged"]
    full = MemoryDevice("virtiomem0", 0, 2 * MIB, GIB, GIB, GIB)
    assert virtio_mem_text(elastic(full)).plain == device_lines([full]).plain  # all plugged
    assert virtio_mem_text(dom("plain", 2)) is None


def test_the_typed_entry_stops_at_what_the_balloon_can_reach() -> None:
    guest = elastic(FIRST)  # maximum 4 GiB, boot + plugged 2.5 GiB
    kib, line = check_target("3G", guest, None)
    assert kib is None
    assert line.plain == (
        "✖ 3 GiB is above what the balloon can give, 2.5 GiB: 1.5 GiB of the maximum is "
        "virtio-mem memory not plugged"
    )
    assert check_target("2.5G", guest, None)[0] == 2560 * MIB


def test_the_help_names_the_mark() -> None:
    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(help_table())
    assert "⊞  after a name: virtio-mem devices" in console.export_text()


async def test_table_panel_and_the_target_keys_on_hand_built_snapshots() -> None:
    fake = FakeFleetHandle()
    app = create_app(fake.factory, log_clock=False, clock=lambda: NOW + 1)
    # boot 2 GiB + 768 MiB plugged, the balloon holding 768 MiB of it
    guest = elastic(FIRST, SECOND, actual=2 * GIB)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        await emit(app, pilot, host(guest, dom("plain", 2), taken_at=NOW))
        await until(lambda: len(app.rows) == 2, what="both guests")
        names = {app.table.get_cell(r.key, "name").plain.strip() for r in app.rows.values()}
        assert names == {"elastic ⊞", "plain"}
        key = await select(app, pilot, "elastic")
        title = plain(app.main.query_one("#panel-title"))
        assert device_lines([FIRST, SECOND]).plain in title
        # `=` twice: +512 MiB, then no further than a balloon can reach (boot + plugged),
        # not libvirt's maximum (5 GiB); a third asks nothing
        for _ in range(3):
            await pilot.press("equals_sign")
            await pilot.pause()
        assert fake.fleet is not None
        sent = [(r.key, r.target_kib) for r in fake.fleet.requests]
        assert sent == [(key, 2 * GIB + 512 * MIB), (key, 2 * GIB + 768 * MIB)]
        # the palette's "set the target to the maximum": the same ceiling, already there
        app.main.action_target_maximum()
        await pilot.pause()
        assert len(fake.fleet.requests) == 2
        # the device finished plugging: the next snapshot moves the ceiling and the line
        done = MemoryDevice("virtiomem0", 0, 2 * MIB, 2 * GIB, GIB, GIB)
        await emit(app, pilot, host(elastic(done, SECOND, actual=2 * GIB), taken_at=NOW + 2))
        title = plain(app.main.query_one("#panel-title"))
        assert device_lines([done, SECOND]).plain in title and PLUGGING not in title


async def test_a_shut_off_guest_with_devices_keeps_the_maximum() -> None:
    fake = FakeFleetHandle()
    app = create_app(fake.factory, log_clock=False, clock=lambda: NOW + 1)
    config = MemoryDevice("", 0, 2 * MIB, 2 * GIB, GIB, None)
    off = elastic(config, state=DomainState.SHUTOFF, stats=GuestStats())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await emit(app, pilot, host(off, taken_at=NOW))
        await until(lambda: len(app.rows) == 1)
        await select(app, pilot, "elastic")
        title = plain(app.main.query_one("#panel-title"))
        assert f"  {NO_ALIAS}  " in title and "balloon up to" not in title
        app.main.action_target_maximum()  # the palette's "set the target to the maximum"
        await pilot.pause()
        assert fake.fleet is not None
        assert [r.target_kib for r in fake.fleet.requests] == [4 * GIB]


def test_virtio_mem_picture_120x40(snap_compare) -> None:
    fake = FakeFleetHandle()

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.pause()
        guests = (
            elastic(FIRST, SECOND, name="ci-runner-elastic", index=1),
            dom("web-01", 2, actual=3 * GIB, stats=STATS),
            dom("db-01", 3, maximum=16 * GIB, actual=12 * GIB, stats=STATS),
        )
        await emit(app, pilot, host(*guests, taken_at=NOW, hostname="hv1"))
        await until(lambda: len(app.rows) == 3)
        await select(app, pilot, "ci-runner-elastic")

    app = create_app(fake.factory, log_clock=False, user_config=False, clock=lambda: NOW + 1)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_text_is_never_markup() -> None:
    assert isinstance(device_lines([FIRST]), Text)
