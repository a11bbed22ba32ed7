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
    """Sending, or how far the guest is from the request (pending/stalled), under a failure."""
    alias = shown(device.device.alias, ALIAS_CELLS)
    if device.writing:
        return Text.assemble(
            (f"{render.MARK_WRITING} sending ", render.STYLE_TARGET),
            (short_size(device.requested_kib), "bold"),
            f" for {alias} to libvirt",
        )
    text = Text()
    if device.failed:  # stays until the next request, as the balloon's does
        text.append(f"{render.MARK_ERROR} {alias} not set: ", render.STYLE_ERROR)
        text.append(visible(device.failed))
        text.append("\n")
    state, message = device.progress.state, device.progress.message
    if state is Convergence.STALLED:
        text.append(f"{render.MARK_STALLED} {message}", render.STYLE_WARN)
    elif state is Convergence.CONVERGED:
        text.append(f"✓ {alias}: {message}", render.STYLE_OK)
    else:
        style = render.STYLE_TARGET if state is Convergence.PENDING else render.STYLE_DIM
        text.append(f"{alias}: {message}", style)
    return text
