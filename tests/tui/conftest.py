"""TUI test fixtures: node files, a setMemoryFlags spy, a fake fleet."""

from __future__ import annotations

import pytest
from memory_spy import memory_calls, periods, periods_unsupported  # noqa: F401 - fixtures for these tests
from tuihelpers import FakeFleetHandle


@pytest.fixture
def fake() -> FakeFleetHandle:
    return FakeFleetHandle()
