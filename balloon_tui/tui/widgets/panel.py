"""The memory panel: everything about the selected guest, and its slider."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from balloon_tui.core.display import visible
from balloon_tui.core.model import Convergence, HostSnapshot
from balloon_tui.core.vmem import DeviceView
from balloon_tui.core.writes import ApplyMode
from balloon_tui.tui import render
from balloon_tui.tui.history import Sample
from balloon_tui.tui.memtext import virtio_mem_text
from balloon_tui.tui.policytext import policy_line
from balloon_tui.tui.render import RowView, short_size
from balloon_tui.tui.widgets import devicepanel
from balloon_tui.tui.widgets.gueststats import GuestStatsView
from balloon_tui.tui.widgets.history import HistoryView
from balloon_tui.tui.widgets.proposalline import ProposalLine
from balloon_tui.tui.widgets.quiet import update_if_changed
from balloon_tui.tui.widgets.slider import BalloonSlider
from balloon_tui.tui.widgets.statusbar import host_name

PROGRESS_CELLS = 12


@dataclass(frozen=True, slots=True)
class PanelView:
    row: RowView
    host: HostSnapshot | None
    floor_kib: int | None  # the safety floor the panel is given (for now: used)
    samples: list[Sample]
    now: float
    readonly: bool
    mode: ApplyMode
    device: DeviceView | None = None  # `v`: the slider moves this virtio-mem device


def progress_text(row: RowView) -> Text:
    """Where the balloon is going, how far it has come, and whether it is stuck."""
    domain = row.domain
    if row.failed:
        return Text.assemble(
            (f"{render.MARK_ERROR} not set: ", render.STYLE_ERROR), visible(row.failed)
        )
    if row.writing and row.target_kib is not None:
        return Text.assemble(
            (f"{render.MARK_WRITING} sending ", render.STYLE_TARGET),
            (short_size(row.target_kib), "bold"),
            " to libvirt",
        )
    progress = domain.progress
    if domain.target_outside:
        return Text(
            f"{render.MARK_OUTSIDE} {progress.message or 'changed outside balloon-tui'}",
            style=render.STYLE_WARN,
        )
    target = panel_target(row)
    if target is None:
        text = Text(
            "no target set from here: the balloon stays where it is", style=render.STYLE_DIM
        )
        if domain.metadata_note:  # built from foreign metadata by core: made visible, bounded
            text.append(f"\n{render.MARK_STALLED} {domain.metadata_note}", render.STYLE_WARN)
        return text
    if not domain.state.is_active:
        return Text(
            f"{domain.state.word}: {short_size(target)} configured, used at the next "
            "boot; a change is config only",
            style=render.STYLE_DIM,
        )
    distance = target - domain.actual_kib
    if abs(distance) <= 1024:
        return Text("✓ at the target", style=render.STYLE_OK)
    text = Text(render.direction_words(target, domain.actual_kib), style=render.STYLE_TARGET)
    start = progress.start_kib
    if start is not None and abs(start - target) > 1024:
        done = max(0.0, min(1.0, (start - domain.actual_kib) / (start - target)))
        filled = round(done * PROGRESS_CELLS)
        text.append("\n")
        text.append("█" * filled, render.STYLE_TARGET)
        text.append("░" * (PROGRESS_CELLS - filled), render.STYLE_DIM)
        text.append(f" {done:4.0%}  {short_size(start)} → {short_size(target)}, ")
    else:
        text.append("\n")
    text.append(f"{short_size(abs(distance))} to go")
    if progress.state is Convergence.STALLED:
        text.append("\n")
        text.append(f"{render.MARK_STALLED} {progress.message or 'stalled'}", render.STYLE_WARN)
    elif progress.message:
        text.append("\n")
        text.append(progress.message, render.STYLE_DIM)
    return text


def panel_target(row: RowView) -> int | None:
    """The target shown: for a guest without live memory, its configured size when none is
    on its way (libvirt's current size of a shut-off guest is the configured one)."""
    if row.target_kib is None and not row.domain.state.is_active:
        return row.domain.actual_kib
    return row.target_kib


def drag_text(value: int) -> Text:
    return Text.assemble(
        ("◆ ", render.STYLE_TARGET),
        (short_size(value), "bold"),
        ("  let go to set this target", render.STYLE_DIM),
    )


def title_text(view: PanelView) -> Text:
    domain = view.row.domain
    text = Text.assemble((visible(domain.name), "bold"), "  ", render.state_text(domain.state))
    if view.host is not None:
        text.append(f"  on {host_name(view.host)}", render.STYLE_DIM)
        if view.row.offline:
            text.append(
                f"\n{render.MARK_ERROR} host {view.host.status.word}: "
                "last known values, nothing can be set",
                render.STYLE_ERROR,
            )
    if domain.error:
        text.append(f"\n{render.MARK_ERROR} {visible(domain.error)}", render.STYLE_ERROR)
    hint = stats_hint(view)
    if hint:
        text.append(f"\n{render.MARK_STALLED} {hint}", render.STYLE_WARN)
    policy = policy_line(domain)
    if policy is not None:
        text.append("\n")
        text.append_text(policy)
    devices = virtio_mem_text(domain)
    if devices is not None:
        text.append("\n")
        text.append_text(devices)
    subject = devicepanel.slider_line(domain, view.device)
    if subject is not None:
        text.append("\n")
        text.append_text(subject)
    return text


def stats_hint(view: PanelView) -> str | None:
    """Guest stats are off on a running balloon: no floor is known; offer to arm them."""
    domain = view.row.domain
    if view.row.offline or not (
        domain.device.present and domain.state.is_active and domain.device.stats_period <= 0
    ):
        return None
    if view.readonly:
        return "guest stats off: safety floor unknown (read-only: not armed here)"
    return "guest stats off: safety floor unknown, every shrink asks · a: arm them"


def legend_text(view: PanelView) -> Text:
    domain = view.row.domain
    parts = [
        ("▲ target ", panel_target(view.row), render.STYLE_TARGET),
        ("a actual ", domain.actual_kib, render.STYLE_FREE),
        ("u used ", domain.used_kib, render.STYLE_USED),
        ("f floor ", view.floor_kib, render.STYLE_FLOOR),
        ("max ", domain.maximum_kib, ""),
    ]
    return Text("  ").join(
        Text.assemble((label, style), short_size(value)) for label, value, style in parts
    )


class MemoryPanel(VerticalScroll, can_focus=False):
    """Shows a `PanelView`; the slider's `Committed` bubbles up to the app."""

    DEFAULT_CSS = """
    MemoryPanel { height: auto; }
    MemoryPanel > Static { height: auto; }
    """

    def __init__(self, window: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = window
        self.view: PanelView | None = None

    def compose(self) -> ComposeResult:
        yield Static("no guest selected", id="panel-title")
        yield Static("", id="panel-legend")
        yield BalloonSlider(id="slider")
        yield ProposalLine(id="panel-proposal")
        yield Static("", id="panel-progress")
        yield HistoryView(self.window, id="panel-history")
        yield GuestStatsView(id="panel-stats")

    def on_balloon_slider_changed(self, event: BalloonSlider.Changed) -> None:
        """While dragging, say what letting go will do (nothing is written before that)."""
        if event.slider.dragging:
            update_if_changed(self.query_one("#panel-progress", Static), drag_text(event.value))

    @property
    def slider(self) -> BalloonSlider:
        return self.query_one(BalloonSlider)

    def show(self, view: PanelView | None, empty: Text | None = None) -> None:
        """`empty`: what to say instead of "no guest selected" when there is no view."""
        self.view = view
        title = self.query_one("#panel-title", Static)
        if view is None:
            update_if_changed(
                title,
                empty
                or Text("no guest selected (or none matches the filter)", style=render.STYLE_DIM),
            )
            for part in ("#panel-legend", "#panel-progress"):
                update_if_changed(self.query_one(part, Static), "")
            self.slider.clear()  # no drag can be committed, no key can reach a guest
            self.slider.disabled = True
            self.query_one(ProposalLine).show(None, can_apply=False)
            self.query_one(GuestStatsView).domain = None
            self.query_one(HistoryView).show([], 0.0, 1)
            return
        domain = view.row.domain
        update_if_changed(title, title_text(view))
        device = view.device
        legend = legend_text(view) if device is None else devicepanel.legend(device)
        update_if_changed(self.query_one("#panel-legend", Static), legend)
        slider = self.slider
        if device is not None:
            self._show_device(view, device)
            return
        slider.disabled = view.readonly or not domain.device.present or view.row.offline
        proposal = view.row.proposal
        slider.set_live(
            subject=domain.key,
            maximum=domain.maximum_kib,
            target=view.row.target_kib if view.row.target_kib is not None else domain.actual_kib,
            actual=domain.actual_kib,
            used=domain.used_kib,
            floor=view.floor_kib,
            proposal=proposal.target_kib if proposal is not None else None,
        )
        self.query_one(ProposalLine).show(proposal, can_apply=not slider.disabled)
        progress = drag_text(slider.value) if slider.dragging else progress_text(view.row)
        update_if_changed(self.query_one("#panel-progress", Static), progress)
        self.query_one(HistoryView).show(view.samples, view.now, domain.maximum_kib)
        self.query_one(GuestStatsView).domain = domain

    def _show_device(self, view: PanelView, device: DeviceView) -> None:
        """The slider on a virtio-mem device: 0..size in blocks, the request as its target."""
        slider, d = self.slider, device.device
        slider.disabled = view.readonly or view.row.offline
        slider.set_live(
            subject=view.row.domain.key,
            maximum=d.size_kib,
            target=device.requested_kib,
            actual=d.current_kib,
            used=None,
            floor=device.floor_kib,
            device=d.alias,
            block_kib=d.block_kib,
        )
        self.query_one(ProposalLine).show(None, can_apply=False)  # proposals are the balloon's
        text = drag_text(slider.value) if slider.dragging else devicepanel.progress(device)
        update_if_changed(self.query_one("#panel-progress", Static), text)
        self.query_one(HistoryView).show(view.samples, view.now, view.row.domain.maximum_kib)
        self.query_one(GuestStatsView).domain = view.row.domain
