"""A guest's virtio-mem devices in words: the panel's small table, one line per device."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

from balloon_tui.core.display import shown
from balloon_tui.core.model import DomainSnapshot, MemoryDevice
from balloon_tui.tui import render

# An alias is libvirt's ("virtiomem0") or a user's ("ua-..."): foreign text, cut to this.
ALIAS_CELLS = 16
NO_ALIAS = "(no alias)"  # a shut-off guest's config: libvirt names devices when it starts
PLUGGING = f"{render.MARK_DEFLATE} plugging"  # the guest is taking memory in
UNPLUGGING = f"{render.MARK_INFLATE} unplugging"  # the guest is giving memory back
HEAD = "virtio-mem"
# (label, cells): each right-aligned under its label, two cells apart.
COLUMNS = (("node", 4), ("block", 6), ("size", 6), ("requested", 9), ("current", 7))


def _alias(device: MemoryDevice) -> str:
    return shown(device.alias, ALIAS_CELLS) if device.alias else NO_ALIAS


def _values(device: MemoryDevice) -> tuple[str, ...]:
    return (
        "–" if device.node is None else str(device.node),
        render.short_size(device.block_kib),
        render.short_size(device.size_kib),
        render.short_size(device.requested_kib),
        render.short_size(device.current_kib),
    )


def device_lines(devices: Sequence[MemoryDevice]) -> Text:
    """A header, then each device on one line: alias, node, block size, size, requested,
    current, and `↑ plugging` / `↓ unplugging` while current is not what was requested.
    About 70 cells: it fits the panel of an 80-column terminal."""
    first = max(cell_len(HEAD), *(cell_len(_alias(d)) for d in devices))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{render.MARK_VIRTIO_MEM} ", render.STYLE_FREE)
    text.append(HEAD + " " * (first - cell_len(HEAD)), "bold")
    for label, width in COLUMNS:
        text.append(f"  {label:>{width}}", render.STYLE_DIM)
    for device in devices:
        alias = _alias(device)
        text.append("\n  ")
        text.append(alias, "bold" if device.alias else render.STYLE_DIM)
        text.append(" " * (first - cell_len(alias)))
        for value, (_label, width) in zip(_values(device), COLUMNS, strict=True):
            text.append(f"  {value:>{width}}", render.STYLE_DIM if value == "–" else "")
        if device.pending and device.current_kib is not None:
            grows = device.current_kib < device.requested_kib
            text.append(f" {PLUGGING if grows else UNPLUGGING}", render.STYLE_PENDING)
    return text


def virtio_mem_text(domain: DomainSnapshot) -> Text | None:
    """The panel's virtio-mem lines; then, when some of the maximum is not plugged, what
    the balloon can reach (its targets stop there: docs/virtio-mem.md)."""
    if not domain.memory_devices:
        return None
    text = device_lines(domain.memory_devices)
    unplugged = domain.unplugged_kib
    if unplugged:
        text.append("\n  balloon up to ", render.STYLE_DIM)
        text.append(render.short_size(domain.balloon_ceiling_kib))
        text.append(
            f" = boot + plugged; {render.short_size(unplugged)} of the max not plugged",
            render.STYLE_DIM,
        )
    return text
