"""What the operator asks the balloon to do, and what came of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from balloon_tui.core.model import DomainKey, DomainState
from balloon_tui.core.sizes import format_compact


class ApplyMode(enum.Enum):
    LIVE = "live"
    LIVE_PERSIST = "live+persist"
    CONFIG = "config"

    @property
    def label(self) -> str:
        return {"live": "live", "live+persist": "live + persist", "config": "config only"}[
            self.value
        ]

    def next(self) -> ApplyMode:
        """The `p` toggle: live <-> live+persist (config-only is chosen for shut-off guests)."""
        return ApplyMode.LIVE_PERSIST if self is ApplyMode.LIVE else ApplyMode.LIVE

    def for_state(self, state: DomainState) -> ApplyMode:
        """What a write to a guest in `state` can be: one without live memory (shut off) has
        only its config. The one place this is decided: the request carries the result, so
        the log, the audit and the flags sent all say the same."""
        return self if state.is_active else ApplyMode.CONFIG


class WriteSource(enum.Enum):
    """How the number was chosen, for the audit: the operator's way of acting (a palette
    command counts as the key it names), or the regulator's. The detail ("+64M") goes to
    the log panel; the audit keeps a closed set a script can count on."""

    KEY = "key"  # the step keys: + - = _
    SLIDER = "slider"  # dragged, clicked, or its own keys (arrows, home, end, enter)
    TYPED = "typed"  # the entry dialog (t)
    UNDO = "undo"
    FLOOR = "floor"  # "set the target to the safety floor"
    MAXIMUM = "maximum"  # "set the target to the maximum"
    PROPOSAL = "proposal"  # a regulator proposal the operator accepted (y, Y)
    AUTOPILOT = "autopilot"  # a regulator round, nobody at the keys
    ARM_STATS = "arm-stats"  # the --arm-stats flag (stats periods only)

    @property
    def needs_reason(self) -> bool:
        """The regulator chose the number: the audit says why."""
        return self in (WriteSource.PROPOSAL, WriteSource.AUTOPILOT)


@dataclass(frozen=True, slots=True)
class TargetRequest:
    host_uri: str
    uuid: str
    name: str
    target_kib: int
    mode: ApplyMode = ApplyMode.LIVE
    forced: bool = False  # the operator confirmed going below the safety floor
    previous_kib: int | None = None
    # Keyword-only and required: no write reaches the audit without saying where it came from.
    source: WriteSource = field(kw_only=True)
    reason: str | None = field(default=None, kw_only=True)
    # A virtio-mem device's alias ("virtiomem0"): `target_kib` is then its requested size
    # (whole blocks, 0 to its size) and `previous_kib` the request before. None: the balloon.
    device: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.source.needs_reason and not self.reason:
            raise ValueError(f"a {self.source.value} write needs its reason")

    @property
    def key(self) -> DomainKey:
        return (self.host_uri, self.uuid)

    @property
    def slot(self) -> WriteSlot:
        """What a newer request replaces: the same guest's balloon, or the same device."""
        return (self.host_uri, self.uuid, self.device)

    @property
    def what(self) -> str:
        """The thing set, for the log: "target", or "virtiomem0 requested"."""
        return "target" if self.device is None else f"{self.device} requested"


WriteSlot = tuple[str, str, str | None]  # host URI, domain UUID, device alias (None: balloon)


@dataclass(frozen=True, slots=True)
class WriteResult:
    request: TargetRequest
    ok: bool
    message: str
    error_code: int | None = None
    flags: int = 0

    @property
    def key(self) -> DomainKey:
        return self.request.key

    @property
    def summary(self) -> str:
        request = self.request
        size = format_compact(request.target_kib)
        if self.ok:
            return f"{request.name}: {request.what} {size} ({request.mode.label})"
        what = "" if request.device is None else f"{request.device} "
        return f"{request.name}: {what}not set to {size}: {self.message}"
