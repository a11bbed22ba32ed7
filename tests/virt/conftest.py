"""Fixtures for the libvirt layer: node files, sessions that close, call spies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fleet_inbox import Inbox
from memory_spy import memory_calls, periods, periods_unsupported  # noqa: F401 - fixtures for these tests

from balloon_tui.virt.fleet import Fleet
from balloon_tui.virt.session import HostSession


@pytest.fixture
def sessions() -> Iterator[Callable[..., HostSession]]:
    """sessions(uri, **kwargs) -> an opened HostSession, closed after the test."""
    opened: list[HostSession] = []

    def make(uri: str, **kwargs: Any) -> HostSession:
        session = HostSession(uri, **kwargs)
        session.open()
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def make_fleet(inbox: Inbox) -> Iterator[Callable[..., Fleet]]:
    fleets: list[Fleet] = []

    def make(uris: list[str | None], **kwargs: object) -> Fleet:
        fleet = Fleet(uris, on_snapshot=inbox.on_snapshot, on_write=inbox.on_write, **kwargs)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.stop()
