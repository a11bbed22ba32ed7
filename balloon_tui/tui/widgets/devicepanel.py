"""The panel's words for the slider's subject (`v`): the balloon or a virtio-mem device."""

from __future__ import annotations

from rich.text import Text

from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import Convergence, DomainSnapshot
from balloon_tui.core.vmem import DeviceView
from balloon_tui.tui import render
from balloon_tui.tui.render import short_size

ALIAS_CELLS = 24


def slider_line(domain: DomainSnapshot, device: DeviceView | None) -> Text | None:
    """Which thing the slider and the keys move, for a guest that has a choice."""
    if device is not None:
        return Text.assemble(
            ("slider: ", render.STYLE_DIM),
            ("virtio-mem ", "bold"),
            (shown(device.device.alias, ALIAS_CELLS), "bold"),
            ("  v: back to the balloon", render.STYLE_DIM),
        )
    if domain.memory_devices:
        return Text.assemble(
            ("slider: ", render.STYLE_DIM),
            ("balloon", "bold"),
            ("  v: virtio-mem", render.STYLE_DIM),
        )
    return None


def legend(device: DeviceView) -> Text:
    d = device.device
    current = d.current_kib
    parts = [
        ("▲ requested ", device.requested_kib, render.STYLE_TARGET),
        ("a plugged ", current, render.STYLE_FREE),
        ("f floor ", device.floor_kib, render.STYLE_FLOOR),
        ("size ", d.size_kib, ""),
        ("block ", d.block_kib, render.STYLE_DIM),
    ]
    return Text("  ").join(
        Text.assemble((label, style), short_size(value)) for label, value, style in parts
    )


def progress(device: DeviceView) -> Text:
    """Sending, failed, or how far the guest is from the request (pending/stalled)."""
    alias = shown(device.device.alias, ALIAS_CELLS)
    if device.failed:
        return Text.assemble(
            (f"{render.MARK_ERROR} {alias} not set: ", render.STYLE_ERROR), visible(device.failed)
        )
    if device.writing:
        return Text.assemble(
            (f"{render.MARK_WRITING} sending ", render.STYLE_TARGET),
            (short_size(device.requested_kib), "bold"),
            f" for {alias} to libvirt",
        )
    state = device.progress.state
    if state is Convergence.STALLED:
        return Text(f"{render.MARK_STALLED} {device.progress.message}", style=render.STYLE_WARN)
    if state is Convergence.CONVERGED:
        return Text(f"✓ {alias}: {device.progress.message}", style=render.STYLE_OK)
    if state is Convergence.PENDING:
        return Text(f"{alias}: {device.progress.message}", style=render.STYLE_TARGET)
    return Text(f"{alias}: {device.progress.message}", style=render.STYLE_DIM)
