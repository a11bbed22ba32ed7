"""Every key in one table: the bindings, the help screen and the command palette read it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from balloon_tui.core.sizes import MIB

SMALL_STEP_KIB = 64 * MIB
LARGE_STEP_KIB = 512 * MIB


@dataclass(frozen=True, slots=True)
class KeyAction:
    id: str  # the Binding id: users can remap keys by it
    key: str  # Textual key name(s), comma separated
    display: str  # the key as the operator reads it
    action: str
    short: str  # footer text
    description: str  # help and command palette text
    group: str
    footer: bool = False
    footer_group: str | None = None  # keys shown together in the footer under one word
    # Handled before the key reaches the focused widget: for keys that move the focus, so
    # that keys typed right after them (a paste, a fast typist) land in the new place.
    priority: bool = False

    def binding(self) -> Binding:
        group = Binding.Group(self.footer_group) if self.footer_group else None
        return Binding(
            self.key,
            self.action,
            self.short,
            show=self.footer,
            key_display=self.display,
            id=self.id,
            tooltip=self.description,
            group=group,
            priority=self.priority,
        )


def _step(kib: int) -> str:
    return f"step_target({kib})"


APP_KEYS: tuple[KeyAction, ...] = (
    KeyAction(
        "target.down",
        "minus",
        "-",
        _step(-SMALL_STEP_KIB),
        "−64M",
        "lower the target by 64 MiB",
        "Target",
        True,
        "±64M",
    ),
    KeyAction(
        "target.up",
        "plus",
        "+",
        _step(SMALL_STEP_KIB),
        "+64M",
        "raise the target by 64 MiB",
        "Target",
        True,
        "±64M",
    ),
    KeyAction(
        "target.down-large",
        "underscore",
        "_",
        _step(-LARGE_STEP_KIB),
        "−512M",
        "lower the target by 512 MiB",
        "Target",
    ),
    KeyAction(
        "target.up-large",
        "equals_sign",
        "=",
        _step(LARGE_STEP_KIB),
        "+512M",
        "raise the target by 512 MiB",
        "Target",
    ),
    KeyAction(
        "target.enter",
        "t",
        "t",
        "enter_target",
        "target",
        "type a target (1.5G, 1536M, 75%, …)",
        "Target",
        True,
        priority=True,
    ),
    KeyAction(
        "mode.toggle",
        "p",
        "p",
        "toggle_mode",
        "mode",
        "switch the apply mode: live ⇄ live + persist",
        "Target",
        True,
    ),
    KeyAction(
        "target.undo",
        "u",
        "u",
        "undo_target",
        "undo",
        "undo: back to the previous target set from here",
        "Target",
    ),
    KeyAction(
        "target.device",
        "v",
        "v",
        "switch_device",
        "balloon/vmem",
        "switch the slider and the target keys: balloon ⇄ virtio-mem device",
        "Target",
    ),
    KeyAction(
        "stats.arm",
        "a",
        "a",
        "arm_stats",
        "arm stats",
        "arm guest stats, so the safety floor is known",
        "Target",
    ),
    KeyAction(
        "balloon.settings",
        "D",
        "D",
        "edit_balloon",
        "balloon",
        "balloon: autodeflate, free page reporting, stats period",
        "Target",
    ),
    KeyAction(
        "proposal.apply",
        "y",
        "y",
        "apply_proposal",
        "apply proposal",
        "apply the regulator's proposal for the selected guest",
        "Regulator",
    ),
    KeyAction(
        "proposal.apply-host",
        "Y",
        "Y",
        "apply_host_proposals",
        "apply all",
        "apply every proposal on the selected guest's host (asks once)",
        "Regulator",
    ),
    KeyAction(
        "autopilot.toggle",
        "A",
        "A",
        "toggle_autopilot",
        "autopilot",
        "switch the autopilot on or off for the selected guest's host",
        "Regulator",
    ),
    KeyAction(
        "policy.edit",
        "o",
        "o",
        "edit_policy",
        "policy",
        "regulator options: the guest's min, max and shares",
        "Regulator",
        priority=True,
    ),
    KeyAction(
        "filter",
        "slash",
        "/",
        "filter",
        "filter",
        "filter the guests by name",
        "View",
        True,
        priority=True,
    ),
    KeyAction(
        "sort.cycle",
        "s",
        "s",
        "cycle_sort",
        "sort",
        "sort by name → actual → used → max (→ prop → host)",
        "View",
    ),
    KeyAction(
        "sort.reverse", "r", "r", "reverse_sort", "reverse", "reverse the sort order", "View"
    ),
    KeyAction(
        "hosts",
        "h",
        "h",
        "hosts",
        "hosts",
        "list the hosts with their memory sums; show one host's guests",
        "View",
    ),
    KeyAction("log.toggle", "l", "l", "toggle_log", "log", "show or hide the log", "View", True),
    KeyAction("refresh", "ctrl+r", "^r", "refresh_now", "refresh", "poll the hosts now", "View"),
    KeyAction("help", "question_mark", "?", "help", "help", "show every key", "App", True),
    KeyAction("quit", "q", "q", "app.quit", "quit", "quit balloon-tui", "App", True),
    # Textual binds ctrl+c to "copy" (and a hint on how to quit); here it quits, as in any
    # terminal program, also while typing or in a dialog: an App binding (see below), not
    # held back by the main screen's typing guard (PRIORITY_ACTIONS).
    KeyAction(
        "quit.ctrl-c", "ctrl+c", "^c", "app.quit", "quit", "quit balloon-tui", "App", priority=True
    ),
)

# "app." actions are the App's bindings (active on every screen); the rest belong to the main
# screen, whose actions they run, and whose `check_action` keeps PRIORITY_ACTIONS (keys that
# move the focus) from firing while typing or in a dialog.
GLOBAL_KEYS = tuple(key for key in APP_KEYS if key.action.startswith("app."))
SCREEN_KEYS = tuple(key for key in APP_KEYS if not key.action.startswith("app."))
PRIORITY_ACTIONS = frozenset(key.action for key in SCREEN_KEYS if key.priority)

# Keys that belong to one widget; listed in the help, bound by the widget itself.
SLIDER_KEYS: tuple[tuple[str, str], ...] = (
    ("← →", "move the target by 64 MiB and apply it"),
    ("shift+← →", "move the target by 512 MiB and apply it"),
    ("home", "go to the safety floor (used + margin)"),
    ("end", "go to the maximum"),
    ("enter", "apply the target under the handle"),
    ("mouse", "click or drag on the track; written on release (keys wait till then)"),
)
TABLE_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓ pgup pgdn", "choose a guest"),
    ("home end", "the first or the last guest"),
    ("enter", "go to the slider of the chosen guest"),
    ("click a row", "choose that guest; click it again: go to its slider"),
    ("tab / shift+tab", "move between the table and the slider"),
    ("click header", "sort by that column (name, max, actual, used, prop)"),
)
FILTER_KEYS: tuple[tuple[str, str], ...] = (
    ("typing", "narrows the table to names containing the text"),
    ("enter", "back to the table, first match selected"),
    ("escape", "clear the filter"),
)
MODAL_KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "apply the typed target or policy, log in; in a floor warning: Cancel"),
    ("tab, enter", "in a floor warning: set the target anyway"),
    ("escape", "cancel / close; skip a host's log-in"),
    ("ctrl+p", "command palette: every action by name"),
)
