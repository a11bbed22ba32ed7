"""Every way to set a target writes its `source` into both audit lines; a confirmed write
below the floor keeps the source it was asked with. Real test-driver connections.

alpha: 512 MiB of 2 GiB; the test driver says it uses half of what it has.
"""

from __future__ import annotations

import json
from pathlib import Path

from nodefiles import GIB, MIB, DomainSpec
from textual.widgets import Input
from tuihelpers import make_app, ready, select, until

from balloon_tui.core.audit import AuditLog
from balloon_tui.core.writes import WriteSource
from balloon_tui.tui.screens.confirm import ConfirmFloorScreen
from balloon_tui.tui.screens.entry import TargetEntryScreen

SPECS = [DomainSpec("alpha", max_kib=2 * GIB, current_kib=512 * MIB, stats_period=2)]


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _palette(app, pilot, query: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    app.screen.query_one(Input).value = query
    await until(
        lambda: (
            query in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt).lower()
        ),
        what=f"the hit for {query!r}",
    )
    await pilot.press("enter")


async def test_every_write_path_audits_its_source(node, memory_calls, tmp_path):
    audit = tmp_path / "audit.jsonl"
    app = make_app([node(SPECS)], fleet_options={"audit": AuditLog(audit)})
    steps: list[tuple[str, int]] = []

    async def written(source: str, kib: int) -> None:
        steps.append((source, kib))
        await until(lambda: len(memory_calls.accepted("alpha")) == len(steps), what=source)

    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await select(app, pilot, "alpha")
        await pilot.press("plus")
        await written("key", 576 * MIB)
        await _palette(app, pilot, "raise the target by 512")  # a key's command: still "key"
        await written("key", 1088 * MIB)
        app.panel.slider.focus()
        await pilot.press("left")
        await written("slider", 1024 * MIB)
        app.table.focus()
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        app.screen.query_one(Input).value = "1.5G"
        await pilot.press("enter")
        await written("typed", 1536 * MIB)
        await pilot.press("u")
        await written("undo", 1024 * MIB)
        await _palette(app, pilot, "set the target to the maximum")
        await written("maximum", 2 * GIB)
        await until(lambda: app.panel.slider.actual == 2 * GIB, what="actual at the maximum")
        floor = app.panel.slider.floor
        assert floor is not None and 300 * MIB < floor < 2 * GIB
        await _palette(app, pilot, "set the target to the safety floor")
        await written("floor", floor)
        # Below the floor: asked first; "set anyway" sends it with the source it asked with.
        await pilot.press("t")
        await until(lambda: isinstance(app.screen, TargetEntryScreen), what="the entry")
        app.screen.query_one(Input).value = "300M"
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmFloorScreen), what="the question")
        await pilot.press("tab", "enter")
        await written("typed", 300 * MIB)
    lines = records(audit)
    writes = [r for r in lines if r.get("action") is None and "target_kib" in r]
    assert [(r["phase"], r["source"], r["target_kib"]) for r in writes] == [
        (phase, source, kib) for source, kib in steps for phase in ("attempt", "result")
    ]
    assert [r["forced"] for r in writes[-2:]] == [True, True]
    assert not any("reason" in r for r in writes)  # no regulator here


async def test_a_write_the_writer_refuses_is_audited_with_its_source(node, tmp_path):
    audit = tmp_path / "audit.jsonl"
    specs = [DomainSpec("plain", max_kib=GIB, current_kib=GIB, balloon="none")]
    app = make_app([node(specs)], fleet_options={"audit": AuditLog(audit)})
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        key = await select(app, pilot, "plain")
        assert app.main.writes.submit_target(key, GIB, WriteSource.SLIDER) is True
        await until(lambda: audit.exists() and len(records(audit)) >= 2, what="the audit")
    [attempt, result] = [r for r in records(audit) if "target_kib" in r]
    assert (attempt["source"], result["source"], result["ok"]) == ("slider", "slider", False)
    assert "no balloon device" in str(result["result"])
