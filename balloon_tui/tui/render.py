"""Rich text for the table and the panel: sizes, states, marks and the compact bar.

Every signal has a glyph or a word as well as a colour, so it reads on a 16-colour
terminal, without colour (NO_COLOR) and for colour-blind operators. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.style import Style as RichStyle
from rich.text import Text
from textual.content import Content, Span
from textual.style import Style

from balloon_tui.core.display import shown, visible
from balloon_tui.core.model import VIRTIO_MEM_MARK, Convergence, DomainSnapshot, DomainState
from balloon_tui.core.regulator import HostPlan
from balloon_tui.core.regulator_words import Proposal
from balloon_tui.core.sizes import format_compact

# One place for the colours. Text is built with these names; `themed` turns it into Textual
# Content whose spans name the theme's variables ($balloon-target, $text-error, ...), which
# Textual looks up each time a widget draws: a new theme repaints without anyone's help.
STYLE_USED = "balloon.used"
STYLE_FREE = "balloon.actual"
STYLE_BALLOONED = "balloon.taken"
STYLE_TARGET = "balloon.target"
STYLE_FLOOR = "balloon.floor"
STYLE_PENDING = "balloon.pending"
STYLE_STALE = "balloon.stale"
STYLE_WARN = "balloon.warn"
STYLE_ERROR = "balloon.error"
STYLE_OK = "balloon.ok"
STYLE_CAUTION = "balloon.caution"
STYLE_OFF = "balloon.off"
STYLE_PROPOSAL = "balloon.proposal"
STYLE_DIM = "dim"

# Name -> Textual style on the theme's variables (tui/themes.py gives every theme all of them).
THEME_STYLES: dict[str, str] = {
    STYLE_USED: "$balloon-used",
    STYLE_FREE: "$balloon-actual",
    STYLE_BALLOONED: "$balloon-taken",
    STYLE_TARGET: "bold $balloon-target",
    STYLE_FLOOR: "$balloon-floor",
    STYLE_PENDING: "bold $balloon-pending",
    STYLE_STALE: "$balloon-stale",
    STYLE_WARN: "bold $text-warning",
    STYLE_ERROR: "bold $text-error",
    STYLE_OK: "$text-success",
    STYLE_CAUTION: "$text-warning",
    STYLE_OFF: "$balloon-taken",
    STYLE_PROPOSAL: "bold $balloon-proposal",
}

# For Rich renderables drawn outside a widget's Content (a Rich Table, a plain Rich console):
# the ANSI colours every terminal has. Inside the app, ThemedApp sets them from the theme.
FALLBACK_STYLES: dict[str, str] = {
    STYLE_USED: "cyan",
    STYLE_FREE: "blue",
    STYLE_BALLOONED: "bright_black",
    STYLE_TARGET: "bold yellow",
    STYLE_FLOOR: "magenta",
    STYLE_PENDING: "bold bright_cyan",
    STYLE_STALE: "yellow",
    STYLE_WARN: "bold yellow",
    STYLE_ERROR: "bold red",
    STYLE_OK: "green",
    STYLE_CAUTION: "yellow",
    STYLE_OFF: "bright_black",
    STYLE_PROPOSAL: "bold green",
}


def _register_fallback_styles() -> None:
    """Make the names known to every Rich console (Rich raises on an unknown style name)."""
    from rich import default_styles, themes

    for name, definition in FALLBACK_STYLES.items():
        style = RichStyle.parse(definition)
        default_styles.DEFAULT_STYLES.setdefault(name, style)
        themes.DEFAULT.styles.setdefault(name, style)


_register_fallback_styles()


def _content_style(style: str | RichStyle) -> str | Style:
    if isinstance(style, RichStyle):
        return Style.from_rich_style(style)
    return " ".join(THEME_STYLES.get(part, part) for part in style.split()) if style else ""


def themed(text: Text | str) -> Content:
    """`text` as Textual Content, its colours named by theme variable: resolved when drawn.

    Markup is never parsed (a str is plain text): names and libvirt's words are data."""
    if isinstance(text, str):
        return Content(text)
    spans = [Span(start, end, _content_style(style)) for start, end, style in text.spans]
    base = _content_style(text.style)
    if base:
        spans.insert(0, Span(0, len(text.plain), base))
    return Content(text.plain, spans)


GLYPH_USED = "█"
GLYPH_FREE = "▒"  # in the guest but not used (MemAvailable): what it could give back
GLYPH_ACTUAL = "▓"  # in the guest, use unknown (no guest stats)
GLYPH_BALLOONED = "·"  # taken away by the balloon: between actual and the maximum
GLYPH_TARGET = "┃"

MARK_INFLATE = "↓"  # balloon grows: the guest gives memory back
MARK_DEFLATE = "↑"  # balloon shrinks: the guest gets memory
MARK_STALLED = "⚠"
MARK_WRITING = "…"
MARK_ERROR = "✖"
MARK_OUTSIDE = "≠"
MARK_PROPOSAL = "◇"  # the regulator's proposed target: the slider's ◆ not yet set
MARK_NOT_RESPONDING = "!"  # the regulator gave up shrinking it: its balloon does not move
NOT_RESPONDING_WORD = "stuck"
MARK_VIRTIO_MEM = VIRTIO_MEM_MARK  # after a name: the guest has virtio-mem devices
VIRTIO_MEM_SUFFIX = " " + MARK_VIRTIO_MEM

_STATE_STYLES = {
    DomainState.RUNNING: STYLE_OK,
    DomainState.BLOCKED: STYLE_CAUTION,
    DomainState.PAUSED: STYLE_CAUTION,
    DomainState.SHUTDOWN: STYLE_CAUTION,
    DomainState.SHUTOFF: STYLE_OFF,
    DomainState.CRASHED: STYLE_ERROR,
    DomainState.PMSUSPENDED: STYLE_CAUTION,
    DomainState.NOSTATE: STYLE_OFF,
}


def short_size(kib: int | None) -> str:
    """`format_compact` without the space and the "iB": 1.50 GiB -> 1.50G (htop style)."""
    text = format_compact(kib)
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        if text.endswith(" " + unit):
            return text[: -len(unit) - 1] + unit[0]
    return text


def sizes_line(*facts: tuple[str, int | None]) -> Text:
    """`used 1.50G   floor 1.80G   …`: the dim labels and sizes the dialogs show first."""
    text = Text()
    for index, (label, kib) in enumerate(facts):
        text.append(f"{'   ' if index else ''}{label} ", STYLE_DIM)
        text.append(short_size(kib))
    return text


@dataclass(frozen=True, slots=True)
class HostRegulation:
    """What the status line says about one host's regulator."""

    plan: HostPlan | None  # None: no plan (yet); `note` says why
    note: str = ""  # e.g. "budget unknown: the host reports no RAM"
    autopilot: bool = False
    next_round_s: float | None = None  # seconds until the autopilot's next round


@dataclass(frozen=True, slots=True)
class RowView:
    """What one table row shows: the live domain plus the write we are waiting for."""

    domain: DomainSnapshot
    target_kib: int | None  # the shown target: our queued request, else the snapshot's
    writing: bool = False  # a request is queued or in flight
    failed: str | None = None  # the last write for this domain failed: the reason
    stale: bool = False  # guest stats older than three stats periods
    age: float | None = None  # seconds since the guest last reported stats
    offline: bool = False  # its host is disconnected: these are the last known values
    # The regulator's word on this guest from its host's last plan: a target with its
    # reason, or (target None) why there is none. None: no plan for its host yet.
    proposal: Proposal | None = None
    key: str = field(init=False, compare=False, repr=False)  # the table's row key

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", row_key(self.domain.host_uri, self.domain.uuid))


OFFLINE_WORD = "offline"


def grey_offline(cells: dict[str, Text]) -> dict[str, Text]:
    """A disconnected host's row: every cell grey, the state says so in a word (in place)."""
    for column, cell in cells.items():
        if column == "state":
            cells[column] = Text(f"{MARK_ERROR} {OFFLINE_WORD}", style=STYLE_DIM)
        elif isinstance(cell, Text):
            cell.spans = []
            cell.style = STYLE_DIM
    return cells


def row_key(host_uri: str, uuid: str) -> str:
    return f"{host_uri}|{uuid}"


def state_text(state: DomainState) -> Text:
    return Text(f"{state.symbol} {state.word}", style=_STATE_STYLES[state])


ERROR_PREFIX = MARK_ERROR + " "


def name_text(row: RowView, width: int | None = None) -> Text:
    """The name as the operator reads it (`shown`: controls visible, never markup), after a
    ✖ when something failed and before a ⊞ when it has virtio-mem devices; in at most
    `width` cells, the name cut in the middle so that web-frontend-01 and -02 stay apart
    and the marks stay whole."""
    domain = row.domain
    error = bool(domain.error or row.failed)
    suffix = VIRTIO_MEM_SUFFIX if domain.memory_devices else ""
    room = None if width is None else width - len(suffix) - (len(ERROR_PREFIX) if error else 0)
    text = Text.assemble((ERROR_PREFIX, STYLE_ERROR)) if error else Text()
    text.append(shown(domain.name, room))
    if suffix:
        text.append(suffix, STYLE_FREE)
    return text


def name_cells(name: str) -> int:
    """The cells a name takes on screen, as `name_text` shows it."""
    return cell_len(visible(name))


def size_text(kib: int | None, style: str = "") -> Text:
    return Text(short_size(kib), style=style if kib is not None else STYLE_DIM, justify="right")


def target_mark(row: RowView) -> tuple[str, str]:
    """The glyph and style before the target: what the balloon is doing about it."""
    domain = row.domain
    if row.failed:
        return MARK_ERROR, STYLE_ERROR
    if row.writing:
        return MARK_WRITING, STYLE_PENDING
    if domain.progress.state is Convergence.STALLED:
        return MARK_STALLED, STYLE_WARN
    if domain.target_outside:
        return MARK_OUTSIDE, STYLE_WARN
    target = row.target_kib
    if target is not None and domain.state.is_active and abs(target - domain.actual_kib) > 1024:
        return (MARK_INFLATE if target < domain.actual_kib else MARK_DEFLATE), STYLE_TARGET
    return " ", ""


def target_text(row: RowView) -> Text:
    mark, style = target_mark(row)
    if row.target_kib is None:
        return Text.assemble((mark, style), ("     –", STYLE_DIM), justify="right")
    return Text.assemble(
        (mark, style), (f"{short_size(row.target_kib):>6}", style or ""), justify="right"
    )


def proposal_text(row: RowView) -> Text:
    """The regulator's word in a table cell: ↓1.50G (shrink to), ↑2.10G (grow to), – (no
    target, the panel says why), ! when it is not responding; empty without a plan."""
    proposal = row.proposal
    if proposal is None:
        return Text("", justify="right")
    text = Text(justify="right")
    if proposal.not_responding:
        text.append(MARK_NOT_RESPONDING, STYLE_WARN)
    target = proposal.target_kib
    if target is None:
        if proposal.not_responding:
            text.append(f" {NOT_RESPONDING_WORD}", STYLE_WARN)
        else:
            text.append("–", STYLE_DIM)
        return text
    mark = MARK_INFLATE if target < row.domain.actual_kib else MARK_DEFLATE
    text.append(f"{mark}{short_size(target)}", STYLE_PROPOSAL)
    return text


def used_text(row: RowView) -> Text:
    used = row.domain.used_kib
    if used is None:
        return Text("–", style=STYLE_DIM, justify="right")
    return Text(short_size(used), style=STYLE_DIM if row.stale else "", justify="right")


def age_text(row: RowView) -> Text:
    if row.age is None:
        return Text("–", style=STYLE_DIM, justify="right")
    if row.stale:
        return Text("stale", style=STYLE_STALE, justify="right")
    return Text(f"{row.age:.0f}s", justify="right")


def bar_text(maximum: int, actual: int, used: int | None, target: int | None, width: int) -> Text:
    """used | actual | target | max on one scale, one line of `width` cells."""
    width = max(1, width)
    if maximum <= 0:
        return Text(GLYPH_BALLOONED * width, style=STYLE_BALLOONED)

    def cells(kib: int) -> int:
        return max(0, min(width, round(kib * width / maximum)))

    actual_cells = cells(actual)
    used_cells = min(cells(used), actual_cells) if used is not None else 0
    text = Text(no_wrap=True)
    if used is None:
        text.append(GLYPH_ACTUAL * actual_cells, STYLE_FREE)
    else:
        text.append(GLYPH_USED * used_cells, STYLE_USED)
        text.append(GLYPH_FREE * (actual_cells - used_cells), STYLE_FREE)
    text.append(GLYPH_BALLOONED * (width - actual_cells), STYLE_BALLOONED)
    if target is not None:
        at = min(width - 1, cells(target))
        text = text[:at] + Text(GLYPH_TARGET, STYLE_TARGET) + text[at + 1 :]
    return text


def row_bar(row: RowView, width: int) -> Text:
    domain = row.domain
    return bar_text(domain.maximum_kib, domain.actual_kib, domain.used_kib, row.target_kib, width)


def direction_words(target_kib: int, actual_kib: int) -> str:
    if target_kib < actual_kib:
        return f"{MARK_INFLATE} inflating: the guest gives memory back"
    return f"{MARK_DEFLATE} deflating: the guest gets memory"
