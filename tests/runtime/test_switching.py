"""The orchestrator's process hands the GIL over sooner than CPython's default."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from podium.runtime.switching import SWITCH_INTERVAL_SECONDS, prefer_latency


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_the_default_interval_is_shortened() -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    prefer_latency()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)


def test_an_interval_set_shorter_already_is_kept() -> None:
    sys.setswitchinterval(0.0001)
    prefer_latency()
    assert sys.getswitchinterval() == pytest.approx(0.0001)
