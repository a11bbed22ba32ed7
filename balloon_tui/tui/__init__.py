"""The Textual user interface. Talks to libvirt only through balloon_tui.virt.fleet.Fleet."""

from balloon_tui.tui.app import BalloonApp
from balloon_tui.tui.factory import create_app, run_app

__all__ = ["BalloonApp", "create_app", "run_app"]
