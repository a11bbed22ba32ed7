"""TUI test fixtures: node files, a setMemoryFlags spy, a fake fleet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from memory_spy import memory_calls, periods  # noqa: F401 - fixtures for these tests
from nodefiles import DomainSpec, write_node_file
from tuihelpers import FakeFleetHandle


@pytest.fixture
def node(tmp_path: Path) -> Callable[..., str]:
    """node(specs, host_memory_kib=...) -> a fresh test:/// URI (each open has its own state)."""
    counter = iter(range(1_000_000))

    def make(specs: Sequence[DomainSpec], **kwargs: Any) -> str:
        return write_node_file(tmp_path / f"node{next(counter)}.xml", specs, **kwargs)

    return make


@pytest.fixture
def fake() -> FakeFleetHandle:
    return FakeFleetHandle()
