"""bench.saga_bench's pure part: handler times, answered tasks, steps, figures, the verdict."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from bench.saga_bench import (
    Row,
    Step,
    TimedRegistry,
    answered_tasks,
    floor_check,
    parse_timings,
    render,
    steps_of,
)

from podium.core.history import HistoryEvent
from podium.core.messages import InvokeTask

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/"


def scheduled(
    event_id: int, token: str, service: str, command: str, *, as_text: bool = False
) -> HistoryEvent:
    body: Any = {"command": command, "payment": {"id": "p1"}, "TaskToken": token}
    parameters = {"QueueUrl": QUEUE_URL + service, "MessageBody": json.dumps(body) if as_text else body}
    details = {"resourceType": "sqs", "parameters": json.dumps(parameters)}
    return HistoryEvent(event_id, event_id - 1, 0.0, "TaskScheduled", details)


def event(event_id: int, previous: int, kind: str, **details: Any) -> HistoryEvent:
    return HistoryEvent(event_id, previous, 0.0, kind, details or None)


def test_parse_timings_keeps_every_run_and_skips_broken_lines() -> None:
    lines = ["tok-a 1.500", "tok-b 0.250", "tok-a 2.000", "", "tok-c", "tok-d not-a-number", "x y z"]
    assert parse_timings(lines) == {"tok-a": [1.5, 2.0], "tok-b": [0.25]}


def test_answered_tasks_follow_each_outcome_back_to_its_scheduling() -> None:
    events = [
        event(1, 0, "ExecutionStarted"),
        scheduled(2, "tok-auth", "payment-auth", "authorize"),
        event(3, 2, "TaskStarted"),
        event(4, 3, "TaskSubmitted"),
        event(5, 4, "TaskSucceeded", output="{}"),
        # a Parallel: two tasks interleaved; risk declines, pci is cancelled unanswered
        scheduled(6, "tok-risk", "risk", "score", as_text=True),
        scheduled(7, "tok-pci", "pci-compliance", "check"),
        event(8, 6, "TaskStarted"),
        event(9, 7, "TaskStarted"),
        event(10, 8, "TaskSubmitted"),
        event(11, 10, "TaskFailed", error="Payment.Declined"),
        # a step that timed out is no answer
        scheduled(12, "tok-void", "payment-auth", "void"),
        event(13, 12, "TaskStarted"),
        event(14, 13, "TaskFailed", error="States.Timeout"),
        scheduled(15, "tok-void-2", "payment-auth", "void"),
        event(16, 15, "TaskTimedOut"),
    ]
    assert answered_tasks(events) == {
        "tok-auth": ("payment-auth", "authorize"),
        "tok-risk": ("risk", "score"),
    }


def test_steps_subtract_the_handler_and_leave_out_what_cannot_be_measured() -> None:
    answered = {t: ("svc", "cmd") for t in ("ok", "twice", "no-handler", "not-dispatched")}
    dispatched = {"ok": 10.000, "twice": 10.0, "no-handler": 10.0}
    committed = {"ok": 10.0125, "twice": 10.5, "no-handler": 10.5, "not-dispatched": 11.0}
    handlers = {"ok": [10.0], "twice": [1.0, 1.0], "not-dispatched": [1.0]}
    steps, left_out = steps_of(answered, dispatched, committed, handlers)
    assert left_out == 3
    [step] = steps
    assert round(step.orchestrator_ms, 6) == 12.5
    assert round(step.overhead_ms, 6) == 2.5


def row(transport: str, window: int, overheads: list[float], floor: list[float]) -> Row:
    steps = [Step("svc", "cmd", 10.0 + overhead, 10.0) for overhead in overheads]
    return Row(transport, "none", window, 10, 2.0, steps, 0, floor_ms=floor)


def test_row_figures_and_the_ratio_of_the_p50s() -> None:
    measured = row("redis", 1, [1.0, 1.5, 2.0, 3.0], [0.5, 0.5, 1.0, 1.0])
    assert measured.payments_per_s == 5.0
    overhead, floor = measured.overhead, measured.floor
    assert overhead is not None and floor is not None
    assert round(overhead.p50, 6) == 2.0
    assert floor.p50 == 1.0
    assert measured.ratio is not None and round(measured.ratio, 6) == 2.0
    empty = row("local", 1, [], [])
    assert empty.overhead is None and empty.ratio is None
    text = render([measured, empty])
    assert "2.00 / 3.00" in text and "2.0x" in text and "n/a" in text
    assert math.isnan(measured.writes_per_commit)  # no commits counted: no figure


def test_writes_per_commit_are_the_stores_writes_over_its_transactions() -> None:
    batched = dataclasses.replace(row("redis", 16, [1.0], [0.5]), commits=(40, 100))
    assert batched.writes_per_commit == 2.5
    assert batched.summary()["writes_per_commit"] == 2.5
    assert "2.50" in render([batched])


def test_the_floor_is_judged_on_redis_with_one_payment_in_flight() -> None:
    passed, line = floor_check([row("redis", 1, [1.2] * 5, [1.0]), row("redis", 16, [30.0] * 5, [1.0])])
    assert passed is True
    assert line.startswith("orchestrator overhead per step under 2 ms p50 on Redis: PASS (1.20 ms")
    assert "30.00 ms with 16 in flight" in line
    passed, line = floor_check([row("redis", 1, [2.5] * 5, [1.0])])
    assert passed is False and ": FAIL (2.50 ms" in line
    passed, line = floor_check([row("local", 1, [0.5] * 5, [1.0])])
    assert passed is None and line.endswith("n/a (not measured)")


def test_the_timed_registry_notes_dispatch_and_commit_and_still_registers() -> None:
    registry = TimedRegistry()
    command = InvokeTask("task-1", resource="arn:x", payload={}, task_token="tok")
    registry.add("arn:exec", command)
    ref = registry.get("tok")
    assert ref is not None and ref.task_id == "task-1"
    registry.remove("tok")
    assert registry.get("tok") is None
    assert registry.committed["tok"] >= registry.dispatched["tok"]
