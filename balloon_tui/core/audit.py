"""The audit log: one JSON line per write attempt, flushed to disk before the write goes out.

A write that cannot be logged is not sent. Each attempt is logged twice with one id: an
"attempt" line before libvirt is called (so a crash mid-write still leaves a trace) and a
"result" line after.

A session that may write starts with a "session" line: it proves the log writable before the
operator can ask for a write (a directory, a full disk or a path nobody may create is found
then, not at the first write, which would be refused) and says who started what, when.

Lines are JSON with non-ASCII text kept as it is, except controls, bidi and separator
characters (a domain name may hold them): those are written as JSON escapes (\\u009b), so
`tail` and `less` show the log as it is and the JSON still holds the exact string.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import threading
import time
import uuid as uuidlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from balloon_tui.core.balloonknobs import BalloonKnobs, KnobsRequest, KnobsResult
from balloon_tui.core.display import has_unsafe
from balloon_tui.core.guestpolicy import PolicyRequest, PolicyResult
from balloon_tui.core.statsperiod import StatsPeriodRequest, StatsPeriodResult
from balloon_tui.core.vmem import VIRTIO_MEM
from balloon_tui.core.writes import TargetRequest, WriteResult, WriteSource


class AuditError(OSError):
    """The audit log cannot be written: the write must not be sent."""


def default_audit_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "balloon-tui" / "audit.jsonl"


def _json_line(record: dict[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False)
    if has_unsafe(text):
        # Such characters occur only inside JSON strings, where an escape means the same.
        text = "".join(json.dumps(c)[1:-1] if has_unsafe(c) else c for c in text)
    return text + "\n"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.user = _user()

    def _append(self, record: dict[str, Any]) -> None:
        line = _json_line(record)
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode())
                    try:
                        os.fsync(fd)
                    except OSError as exc:
                        # A pipe or /dev/null: written, and nothing there to make durable.
                        if exc.errno != errno.EINVAL:
                            raise
                finally:
                    os.close(fd)
            except OSError as exc:
                raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror}") from exc

    def session_start(self, uris: Sequence[str], version: str) -> None:
        """The first line of a session that may write; AuditError when it cannot be written."""
        self._append(
            {
                "action": "session",
                "phase": "start",
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "user": self.user,
                "pid": os.getpid(),
                "version": version,
                "uris": list(uris),
            }
        )

    def _common(
        self,
        request: TargetRequest | StatsPeriodRequest | PolicyRequest | KnobsRequest,
        attempt_id: str,
        phase: str,
    ) -> dict[str, Any]:
        """What every line says: which attempt, when, who, on which host and domain."""
        return {
            "id": attempt_id,
            "phase": phase,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "user": self.user,
            "uri": request.host_uri,
            "uuid": request.uuid,
            "name": request.name,
        }

    def _base(self, request: TargetRequest, attempt_id: str, phase: str) -> dict[str, Any]:
        record = self._common(request, attempt_id, phase) | {
            "previous_kib": request.previous_kib,
            "target_kib": request.target_kib,
            "mode": request.mode.value,
            "forced": request.forced,
            "source": request.source.value,
        }
        if request.reason is not None:
            record["reason"] = request.reason
        if request.device is not None:
            # target_kib/previous_kib are then the device's requested size, not a balloon's.
            record["device"] = VIRTIO_MEM
            record["alias"] = request.device
        return record

    def attempt(self, request: TargetRequest, flags: int) -> str:
        """Log the intent; raises AuditError, in which case nothing may be sent."""
        attempt_id = uuidlib.uuid4().hex
        self._append(self._base(request, attempt_id, "attempt") | {"flags": flags})
        return attempt_id

    def result(self, attempt_id: str, result: WriteResult) -> None:
        record = self._base(result.request, attempt_id, "result") | {
            "flags": result.flags,
            "ok": result.ok,
            "result": "ok" if result.ok else result.message,
            "error_code": result.error_code,
        }
        self._append(record)

    # -- stats periods (arming guest stats): the same two lines, "action": "stats-period" --
    def _stats_base(
        self, request: StatsPeriodRequest, attempt_id: str, phase: str
    ) -> dict[str, Any]:
        return self._common(request, attempt_id, phase) | {
            "action": "stats-period",
            "period": request.period,
            "automatic": request.automatic,
            # `a` (or its palette command), or the command line's --arm-stats.
            "source": (WriteSource.ARM_STATS if request.automatic else WriteSource.KEY).value,
        }

    def stats_attempt(self, request: StatsPeriodRequest, flags: int) -> str:
        """Log the intent to set a stats period; raises AuditError (then nothing is sent)."""
        attempt_id = uuidlib.uuid4().hex
        self._append(self._stats_base(request, attempt_id, "attempt") | {"flags": flags})
        return attempt_id

    def stats_result(self, attempt_id: str, result: StatsPeriodResult, flags: int) -> None:
        self._append(
            self._stats_base(result.request, attempt_id, "result")
            | {
                "flags": flags,
                "ok": result.ok,
                "result": "ok" if result.ok else result.message,
                "error_code": result.error_code,
            }
        )

    # -- guest policies (metadata): the same two lines, "action": "policy" -------------------
    def _policy_base(self, request: PolicyRequest, attempt_id: str, phase: str) -> dict[str, Any]:
        policy, previous = request.policy, request.previous
        return self._common(request, attempt_id, phase) | {
            "action": "policy",
            "source": request.source.value,
            "min_kib": policy.min_kib,
            "max_kib": policy.max_kib,
            "shares": policy.shares,
            "previous": None
            if previous is None
            else {
                "min_kib": previous.min_kib,
                "max_kib": previous.max_kib,
                "shares": previous.shares,
            },
        }

    def policy_attempt(self, request: PolicyRequest, flags: int) -> str:
        """Log the intent to store a policy; raises AuditError (then nothing is sent)."""
        attempt_id = uuidlib.uuid4().hex
        self._append(self._policy_base(request, attempt_id, "attempt") | {"flags": flags})
        return attempt_id

    def policy_result(self, attempt_id: str, result: PolicyResult) -> None:
        self._append(
            self._policy_base(result.request, attempt_id, "result")
            | {
                "flags": result.flags,
                "ok": result.ok,
                "result": "ok" if result.ok else result.message,
                "error_code": result.error_code,
            }
        )

    # -- the balloon device's settings (D): the same two lines, "action": "balloon-settings" --
    def _knobs_base(self, request: KnobsRequest, attempt_id: str, phase: str) -> dict[str, Any]:
        def knobs(value: BalloonKnobs | None) -> dict[str, Any] | None:
            if value is None:
                return None
            return {
                "autodeflate": value.autodeflate,
                "free_page_reporting": value.free_page_reporting,
                "stats_period": value.stats_period,
            }

        return self._common(request, attempt_id, phase) | {
            "action": "balloon-settings",
            "source": request.source.value,
            "config": knobs(request.config),  # None: the config is left alone
            "previous": knobs(request.previous),
            "live_period": request.live_period,  # None: the live period is left alone
            "previous_live_period": request.previous_live_period,
        }

    def knobs_attempt(self, request: KnobsRequest, flags: int) -> str:
        """Log the intent to change the balloon's settings; raises AuditError (then nothing
        is sent)."""
        attempt_id = uuidlib.uuid4().hex
        self._append(self._knobs_base(request, attempt_id, "attempt") | {"flags": flags})
        return attempt_id

    def knobs_result(self, attempt_id: str, result: KnobsResult) -> None:
        self._append(
            self._knobs_base(result.request, attempt_id, "result")
            | {
                "flags": result.flags,
                "ok": result.ok,
                "result": "ok" if result.ok else result.message,
                "error_code": result.error_code,
            }
        )
