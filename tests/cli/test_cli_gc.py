"""The collector is set once at start-up, before the app runs (docs/performance.md says why).

In a child process: freezing and new thresholds would otherwise stay with the test session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The app is made but not run: `_run_until_signalled` is where it would start drawing.
CHILD = """
import gc, json, sys
from balloon_tui import cli

default = gc.get_threshold()
seen = {}

def run(app, fleet, mouse):
    seen["threshold"] = gc.get_threshold()
    seen["frozen"] = gc.get_freeze_count()
    seen["app"] = type(app).__name__
    fleet.stop()
    return 0

cli._run_until_signalled = run
assert cli.main(["--demo", "--audit-log", sys.argv[1]]) == 0
print(json.dumps({"default": default, **seen}))
"""


def test_the_collector_is_tuned_after_the_app_is_made_and_before_it_runs(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "audit.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["default"] == [700, 10, 10]  # Python's own: the child started untouched
    assert seen["threshold"] == [20_000, 50, 50]
    # Textual, our modules and the app made: tens of thousands of objects frozen.
    assert seen["frozen"] > 10_000
    assert seen["app"] == "BalloonApp"
