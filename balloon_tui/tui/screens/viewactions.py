"""The main screen's view keys: sort, log, refresh, hosts, help, filter.

Functions of the screen, bound as MainScreen's `action_*` methods (their own module keeps
the screen under ~400 lines); these keys change what is shown, never a guest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from balloon_tui.tui.screens.help import HelpScreen
from balloon_tui.tui.screens.hosts import ALL_HOSTS, HostsScreen
from balloon_tui.tui.widgets.filterbox import FilterInput
from balloon_tui.tui.widgets.statusbar import host_name

if TYPE_CHECKING:
    from balloon_tui.tui.screens.main import MainScreen


def cycle_sort(screen: MainScreen) -> None:
    screen.table.cycle_sort()


def sort(screen: MainScreen, column: str) -> None:
    screen.table.sort_by(column)


def reverse_sort(screen: MainScreen) -> None:
    screen.table.reverse_sort()


def toggle_log(screen: MainScreen) -> None:
    screen.log_panel.toggle_class("-visible")


def refresh_now(screen: MainScreen) -> None:
    if screen.credentials.ask_again():
        screen.log_panel.add("refresh: hosts whose log-in was skipped ask again")
    if screen.fleet is not None:
        screen.fleet.refresh()


def hosts(screen: MainScreen) -> None:
    def chosen(uri: str | None) -> None:
        if uri is None:
            return
        table = screen.table
        table.host_filter = None if uri == ALL_HOSTS else uri
        table.redisplay()
        host = screen.hosts.get(uri)
        shown = f"guests of {host_name(host)}" if host else "guests of every host"
        screen.log_panel.add(f"showing {shown}")
        screen.notify(f"showing {shown} (h to change)")

    screen.app.push_screen(
        HostsScreen(list(screen.hosts.values()), screen.table.host_filter), chosen
    )


def show_help(screen: MainScreen) -> None:
    screen.app.push_screen(HelpScreen())


def open_filter(screen: MainScreen) -> None:
    box = screen.query_one(FilterInput)
    box.add_class("-active")
    # At once, not after a refresh: keys typed right after `/` are already queued.
    screen.set_focus(box)
