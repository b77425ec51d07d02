"""Fixtures of the worker's tests: a broker in memory, and workers stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from podium.worker import Worker
from tests.worker.fakes import MemoryTransport

Start = Callable[..., Worker]


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def start(transport: MemoryTransport) -> Iterator[Start]:
    """`start(worker)` on the memory transport, or `start(worker, target)`; stopped after the test."""
    started: list[Worker] = []

    def run(worker: Worker, target: object = None) -> Worker:
        worker.start(transport if target is None else target)
        started.append(worker)
        return worker

    yield run
    for worker in started:
        worker.stop(grace=0)
