"""Undo for targets set from here: per guest and device (the balloon, or a virtio-mem device
by its alias), the targets in force before ours.

Pure and UI-free: the main screen records each write it sends and asks for the last one
when the operator presses `u`.
"""

from __future__ import annotations

from balloon_tui.core.model import DomainKey

UNDO_DEPTH = 50  # targets remembered per guest


class UndoHistory:
    def __init__(self, depth: int = UNDO_DEPTH) -> None:
        if depth < 1:
            raise ValueError(f"the undo depth must be at least 1, not {depth}")
        self.depth = depth
        self._stacks: dict[tuple[DomainKey, str | None], list[int]] = {}

    def last(self, key: DomainKey, device: str | None = None) -> int | None:
        """The target an undo of `key` goes back to, or None if nothing was set from here.

        `device`: a virtio-mem device's alias (its requested size); None: the balloon."""
        stack = self._stacks.get((key, device))
        return stack[-1] if stack else None

    def sent(
        self,
        key: DomainKey,
        before_kib: int,
        target_kib: int,
        *,
        undo: bool,
        device: str | None = None,
    ) -> None:
        """A write went out: `before_kib` was in force, `target_kib` was asked for.

        An undo consumes the entry it went back to; any other write that moves the target
        remembers where it was (the oldest entries fall off past `depth`).
        """
        if undo:
            stack = self._stacks.get((key, device))
            if stack:
                stack.pop()
            return
        if before_kib == target_kib:
            return
        stack = self._stacks.setdefault((key, device), [])
        stack.append(before_kib)
        del stack[: -self.depth]

    def forget(self, key: DomainKey) -> None:
        """The guest is gone: its history would only mislead a guest with its UUID later."""
        for slot in [s for s in self._stacks if s[0] == key]:
            del self._stacks[slot]
