"""Targets outlive the app: written as live domain metadata, adopted by the next run (or the
next operator) on first sight; a balloon moved by someone else shows "≠ changed outside".

Each `test:///file` open has its own state, so both runs here share one libvirt
connection (as two runs against one libvirtd share the daemon's state).
"""

from __future__ import annotations

import libvirt
import pytest
from nodefiles import GIB, MIB, DomainSpec, add_metadata
from tuihelpers import make_app, plain, ready, select, shown_target, until

from balloon_tui.tui.render import MARK_OUTSIDE, short_size
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.virt import connection, domainxml, metadata, session
from balloon_tui.virt.domainxml import METADATA_NAMESPACE

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
SPECS = [
    DomainSpec("alpha", max_kib=4 * GIB, current_kib=2 * GIB, stats_period=2),
    DomainSpec("beta", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2),
]


class _Shared:
    """One connection for every open; closing it is left to the test."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self._conn = conn

    def close(self) -> int:
        return 0

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


@pytest.fixture
def shared(node, monkeypatch):
    uri = node(SPECS)
    conn = connection.open_connection(uri)
    monkeypatch.setattr(session, "open_connection", lambda *_a, **_k: _Shared(conn))
    yield uri, conn
    conn.close()


async def test_a_target_set_by_one_run_is_adopted_by_the_next(shared, memory_calls):
    uri, conn = shared
    first = make_app([uri])
    async with first.run_test(size=(100, 30)) as pilot:
        await ready(first, pilot)
        await select(first, pilot, "alpha")
        await pilot.press("plus")
        await until(lambda: memory_calls.accepted("alpha"), what="the write")
    want = 2 * GIB + 64 * MIB
    xml = conn.lookupByName("alpha").XMLDesc(0)
    assert metadata.remembered(domainxml.parse(xml)) == (str(want),)

    second = make_app([uri])  # a restart, or another operator on the same host
    async with second.run_test(size=(100, 30)) as pilot:
        await ready(second, pilot)
        key = await select(second, pilot, "alpha")
        assert second.rows[key].domain.target_kib == want  # adopted on first sight
        assert shown_target(second, "alpha").endswith(short_size(want))
        assert "▲ target 2.06G" in plain(second.query_one("#panel-legend"))
        assert shown_target(second, "beta") == "–"  # nobody set one there
        assert not second.rows[key].domain.target_outside
    assert memory_calls.attempted() == [("alpha", want, LIVE)]


async def test_a_balloon_moved_by_someone_else_says_so(shared):
    uri, conn = shared
    app = make_app([uri])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "alpha")
        await pilot.press("plus")  # ours: 2.06G
        await until(
            lambda: app.rows[key].domain.progress.state.value == "converged",
            what="our target reached",
        )
        # Another client (virsh setmem, another tool) moves it.
        conn.lookupByName("alpha").setMemoryFlags(3 * GIB, LIVE)
        conn.lookupByName("beta").setMemoryFlags(2 * GIB, LIVE)
        app.fleet.refresh()
        await until(lambda: app.rows[key].domain.target_outside, what="alpha outside")
        # By symbol in the table, by words in the panel: not by colour alone.
        assert shown_target(app, "alpha").startswith(MARK_OUTSIDE)
        assert f"{MARK_OUTSIDE} changed outside balloon-tui" in plain(
            app.query_one("#panel-progress")
        )
        await until(
            lambda: shown_target(app, "beta").startswith(MARK_OUTSIDE),
            what="beta outside (no target of ours there)",
        )
        await select(app, pilot, "beta")
        assert "changed outside balloon-tui" in plain(app.query_one("#panel-progress"))


# -- foreign metadata: any libvirtd client can write it ---------------------------------------
FOREIGN = [DomainSpec("gamma", max_kib=4 * GIB, current_kib=3 * GIB, stats_period=2)]


def _remembered(kib: object) -> str:
    return f"<btui:target xmlns:btui='{METADATA_NAMESPACE}' kib='{kib}'/>"


@pytest.mark.parametrize(
    ("kib", "key", "sent", "words"),
    [
        # Adopted, 8 GiB made `-` a grow to the 4 GiB maximum, without a question.
        (
            8 * GIB,
            "minus",
            3 * GIB - 64 * MIB,
            "remembered target 8.00 GiB in metadata ignored: above the maximum 4.00 GiB",
        ),
        # Adopted, 1 KiB made `+` ask about a "shrink" to 64 MiB.
        (
            1,
            "plus",
            3 * GIB + 64 * MIB,
            "remembered target 1 KiB in metadata ignored: below the minimum 1.00 MiB",
        ),
        (
            "9" * 5000,
            "minus",
            3 * GIB - 64 * MIB,
            "remembered target 999999999999…99999999999 KiB in metadata ignored: above the "
            "maximum 4.00 GiB",
        ),
    ],
    ids=["above-maximum", "below-minimum", "absurd"],
)
async def test_foreign_metadata_out_of_range_never_steers_a_step(
    node, memory_calls, kib, key, sent, words
):
    app = make_app([add_metadata(node(FOREIGN), "gamma", _remembered(kib))])
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(app, pilot)
        key_ = await select(app, pilot, "gamma")
        assert app.rows[key_].domain.target_kib is None
        assert shown_target(app, "gamma") == "–"  # unknown, as with no metadata at all
        progress = plain(app.query_one("#panel-progress"))
        assert "no target set from here" in progress
        assert f"⚠ {words}" in progress
        assert "▲ target –" in plain(app.query_one("#panel-legend"))
        assert "target " not in plain(app.query_one("#hosts"))  # no absurd sum up there
        await pilot.press(key)
        await until(lambda: memory_calls.accepted("gamma"), what="the write")
        assert not isinstance(app.screen, ConfirmFloorScreen)  # a step from actual: no question
        assert memory_calls.attempted() == [("gamma", sent, LIVE)]
        await until(lambda: app.rows[key_].domain.target_kib == sent, what="our target")
        assert words not in plain(app.query_one("#panel-progress"))  # ours replaced it
