"""The batch driver against podium's Service in this process: it looks when executions end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from podium.demo.batch import ServiceExecutions, run_batch
from podium.demo.payments import generate
from podium.store.memory import MemoryStore
from tests.service.conftest import Harness

# One Task on a Python function: each execution ends on the engine's thread, a moment after
# its start, never in the start's own step.
ONE_TASK = {
    "StartAt": "Pay",
    "States": {
        "Pay": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:pay", "End": True}
    },
}


@pytest.fixture
def harness() -> Iterator[Harness]:
    def pay(_event: Any) -> dict[str, bool]:
        return {"paid": True}

    running = Harness(MemoryStore(), {"pay": pay})
    yield running
    running.stop()


def test_the_next_payment_starts_when_the_last_one_ends_not_at_the_next_poll(harness: Harness) -> None:
    machine = harness.machine("OneTask", ONE_TASK)
    executions = ServiceExecutions(harness.service)
    executions.poll_seconds = 30.0  # a batch that waited for its polls would take minutes
    payments = generate(5, "pay-ends", seed=3)
    began = time.monotonic()
    result = run_batch(executions, machine, payments, window=1, deadline=began + 120)
    assert [run.status for run in result.executions] == ["SUCCEEDED"] * len(payments)
    assert not result.deadline_passed
    assert result.seconds < 10  # five payments one after another, each started on the last's end


def test_a_pause_without_an_end_lasts_its_time(harness: Harness) -> None:
    executions = ServiceExecutions(harness.service)
    began = time.monotonic()
    executions.pause(0.2)
    assert time.monotonic() - began >= 0.2
