"""Actions that change what is shown: mode, sort, log, hosts, help, refresh.

A mixin of BalloonApp (its attributes live there, hence the mypy note below).
"""
# mypy: disable-error-code="attr-defined, has-type"

from __future__ import annotations

from balloon_tui.tui.screens.help import HelpScreen
from balloon_tui.tui.screens.hosts import ALL_HOSTS, HostsScreen
from balloon_tui.tui.widgets.statusbar import StatusBar, host_name


class ViewActions:
    def action_focus_slider(self) -> None:
        self.panel.slider.focus()

    def action_toggle_mode(self) -> None:
        self.mode = self.mode.next()
        self.query_one(StatusBar).show_mode(self.mode, self.readonly)
        self.log_panel.add(f"apply mode: {self.mode.label}")
        self._show_panel()

    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()

    def action_sort(self, column: str) -> None:
        self.table.sort_by(column)

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()

    def action_toggle_log(self) -> None:
        self.log_panel.toggle_class("-visible")

    def action_refresh_now(self) -> None:
        if self._auth_skipped:
            self.log_panel.add("refresh: hosts whose log-in was skipped ask again")
            self._auth_skipped.clear()
        if self.fleet is not None:
            self.fleet.refresh()

    def action_hosts(self) -> None:
        def chosen(uri: str | None) -> None:
            if uri is None:
                return
            table = self.table
            table.host_filter = None if uri == ALL_HOSTS else uri
            table.redisplay()
            host = self.hosts.get(uri)
            shown = f"guests of {host_name(host)}" if host else "guests of every host"
            self.log_panel.add(f"showing {shown}")
            self.notify(f"showing {shown} (h to change)")

        self.push_screen(HostsScreen(list(self.hosts.values()), self.table.host_filter), chosen)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
