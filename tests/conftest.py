"""Shared test set-up: tests/ importable (nodefiles, memory_spy), fresh node files."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from collections.abc import Callable, Sequence  # noqa: E402 - after the path set-up
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from nodefiles import DomainSpec, write_node_file  # noqa: E402


@pytest.fixture
def node(tmp_path: Path) -> Callable[..., str]:
    """node(specs, host_memory_kib=...) -> a fresh test:/// URI (each open has its own state)."""
    counter = iter(range(1_000_000))

    def make(specs: Sequence[DomainSpec], **kwargs: Any) -> str:
        return write_node_file(tmp_path / f"node{next(counter)}.xml", specs, **kwargs)

    return make
