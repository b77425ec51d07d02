"""Workers on activities, against podium's service in this process (the same actions the API serves)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from podium.store.memory import MemoryStore
from podium.worker import TaskContext, TaskError, Worker
from podium.worker.activities import ActivitySource, ServiceClient
from tests.service.conftest import Harness


@pytest.fixture
def harness() -> Iterator[Harness]:
    store = MemoryStore()
    running = Harness(store, {})
    yield running
    running.stop()
    store.close()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop(grace=0)


def machine(activity_arn: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True, **task}},
    }


def payments(**options: Any) -> Worker:
    worker = Worker("payments", **options)

    @worker.handler("authorize")
    def authorize(payment: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        if payment["amount"] > 1000:
            raise TaskError("Payment.Declined", "over the limit")
        if payment["amount"] < 0:
            raise ValueError("a negative amount")
        time.sleep(payment.get("seconds", 0))
        return {"authorization_id": ctx.idempotency_key[-12:], "amount": payment["amount"]}

    return worker


def run(harness: Harness, workers: list[Worker], worker: Worker, value: Any, **task: Any) -> dict[str, Any]:
    activity = harness.call("CreateActivity", name=worker.queue)["activityArn"]
    if not workers:
        worker.start(harness.service)  # a Service: polls it in-process
        workers.append(worker)
    arn = harness.start(harness.machine(f"m{time.monotonic_ns()}", machine(activity, **task)), value)
    return harness.wait(arn)


def test_the_execution_succeeds_with_the_handlers_output(harness: Harness, workers: list[Worker]) -> None:
    described = run(harness, workers, payments(), {"command": "authorize", "amount": 40})
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["amount"] == 40 and len(output["authorization_id"]) == 12
    events = harness.history(described["executionArn"])
    started = next(e for e in events if e["type"] == "ActivityStarted")
    assert started["activityStartedEventDetails"]["workerName"].startswith("payments@")


def test_a_task_error_fails_the_execution_with_its_name(harness: Harness, workers: list[Worker]) -> None:
    described = run(harness, workers, payments(), {"command": "authorize", "amount": 5000})
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Payment.Declined",
        "over the limit",
    )


def test_a_crash_fails_the_execution_with_the_exception_class(
    harness: Harness, workers: list[Worker]
) -> None:
    described = run(harness, workers, payments(), {"command": "authorize", "amount": -5})
    assert (described["status"], described["error"]) == ("FAILED", "ValueError")
    assert json.loads(described["cause"])["errorMessage"] == "a negative amount"


def test_heartbeats_keep_a_long_task_alive_past_heartbeat_seconds(
    harness: Harness, workers: list[Worker]
) -> None:
    # GetActivityTask does not say HeartbeatSeconds: the worker is told how often to beat.
    worker = payments(heartbeat_every=0.3)
    described = run(
        harness, workers, worker, {"command": "authorize", "amount": 1, "seconds": 2.5}, HeartbeatSeconds=1
    )
    assert described["status"] == "SUCCEEDED"


def test_without_heartbeats_the_same_task_times_out(harness: Harness, workers: list[Worker]) -> None:
    worker = payments(heartbeat_every=30)
    described = run(
        harness, workers, worker, {"command": "authorize", "amount": 1, "seconds": 2.5}, HeartbeatSeconds=1
    )
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_a_handler_past_its_timeout_answers_late_harmlessly_and_the_worker_goes_on(
    harness: Harness, workers: list[Worker], caplog: pytest.LogCaptureFixture
) -> None:
    worker = payments()
    with caplog.at_level("INFO", logger="podium.worker"):
        described = run(
            harness, workers, worker, {"command": "authorize", "amount": 1, "seconds": 1.5}, TimeoutSeconds=1
        )
        assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
        deadline = time.monotonic() + 5
        while "already closed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "SUCCEEDED" in caplog.text and "late: the task had already closed" in caplog.text
    described = run(harness, workers, worker, {"command": "authorize", "amount": 2})
    assert described["status"] == "SUCCEEDED"


def test_an_activity_named_by_the_worker_is_created_when_missing(harness: Harness) -> None:
    source = ActivitySource(ServiceClient(harness.service), "fresh", "w", identity="test")
    arn = source.activity_arn()
    assert arn.endswith(":activity:fresh")
    assert harness.call("DescribeActivity", activityArn=arn)["name"] == "fresh"
    assert source.worker_name == "w@test"


def test_a_manual_heartbeat_reaches_the_orchestrator(harness: Harness, workers: list[Worker]) -> None:
    worker = Worker("beats")
    answers: list[bool] = []
    proceed = threading.Event()

    @worker.handler("work")
    def work(body: Any, ctx: TaskContext) -> str:
        for _ in range(5):  # 5 x 0.4 s > HeartbeatSeconds, kept alive by hand
            answers.append(ctx.heartbeat())
            time.sleep(0.4)
        proceed.set()
        return "ok"

    described = run(harness, workers, worker, {}, HeartbeatSeconds=1)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == "ok"
    assert answers == [True] * 5 and proceed.is_set()


def test_a_heartbeat_for_a_closed_task_tells_the_handler(harness: Harness, workers: list[Worker]) -> None:
    worker = Worker("orphan")
    seen: list[bool] = []
    finished = threading.Event()

    @worker.handler("work")
    def work(body: Any, ctx: TaskContext) -> str:
        deadline = time.monotonic() + 5
        while ctx.heartbeat() and time.monotonic() < deadline:
            time.sleep(0.1)  # below the coalescing spacing: some of these are not sent
        seen.append(ctx.closed)
        finished.set()
        return "gave up"

    described = run(harness, workers, worker, {}, TimeoutSeconds=1)
    assert described["error"] == "States.Timeout"
    assert finished.wait(5) and seen == [True]
