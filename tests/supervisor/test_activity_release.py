"""The activity queues' side of supervision: who holds which task, and handing a dead
worker's tasks to the next one (podium.connectors.activities)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from podium.connectors.activities import ActivityQueues, ActivityTask
from podium.core.messages import Signal, TaskHeartbeat, TaskStarted
from podium.store.memory import MemoryStore
from tests.service.conftest import Harness

ARN = "arn:aws:states:us-east-1:000000000000:activity:work"


def queued(queues: ActivityQueues, token: str, replies: list[Signal]) -> None:
    queues.put(ActivityTask(ARN, f"task-{token}", token, "{}", replies.append, track_worker=True))


def test_queues_count_tasks_by_worker_and_release_a_dead_ones_oldest_first() -> None:
    queues, replies = ActivityQueues(), []
    for token in ("t1", "t2", "t3"):
        queued(queues, token, replies)
    for worker in ("w-1", "w-1", "w-2"):
        task = queues.take(ARN, timeout=0)
        assert task is not None
        task.start(worker)
    assert queues.in_flight() == {"w-1": 2, "w-2": 1}
    assert queues.release("w-1") == 2
    assert queues.release("w-1") == 0
    assert queues.in_flight() == {"w-2": 1}
    assert queues.waiting(ARN) == 2
    again = queues.take(ARN, timeout=0)
    assert again is not None and again.token == "t1" and again.released
    replies.clear()
    again.start("w-3")
    assert replies == [TaskStarted(0, "task-t1", "w-3"), TaskHeartbeat(0, "task-t1")]
    assert queues.in_flight() == {"w-2": 1, "w-3": 1}


def test_tasks_of_a_queuer_that_does_not_report_their_close_are_not_tracked() -> None:
    queues, replies = ActivityQueues(), []
    queues.put(ActivityTask(ARN, "task-t1", "t1", "{}", replies.append))  # e.g. the local transport
    task = queues.take(ARN, timeout=0)
    assert task is not None
    task.start("w-1")
    assert queues.in_flight() == {} and queues.release("w-1") == 0
    assert replies == [TaskStarted(0, "task-t1", "w-1")]


def test_a_task_closed_while_being_handed_out_is_not_counted() -> None:
    queues, replies = ActivityQueues(), []
    queued(queues, "t1", replies)
    task = queues.take(ARN, timeout=0)
    assert task is not None
    queues.discard("t1")  # the task timed out between GetActivityTask's take and its start
    task.start("w-1")
    assert queues.in_flight() == {}
    queued(queues, "t2", replies)
    taken = queues.take(ARN, timeout=0)
    assert taken is not None
    taken.start("w-1")
    queues.discard("t2")  # answered: the engine retires the task, the connector forgets it
    assert queues.in_flight() == {}


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness(MemoryStore(), {})
    try:
        yield h
    finally:
        h.stop()


def test_the_next_worker_gets_a_whole_heartbeat_window(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="work")["activityArn"]
    machine = harness.machine(
        "job",
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 1, "End": True}},
        },
    )
    execution = harness.start(machine, {"n": 1})
    first = harness.call("GetActivityTask", activityArn=activity, workerName="w-1")
    assert json.loads(first["input"]) == {"n": 1}
    time.sleep(0.6)
    from podium.service.engines import activity_queues

    assert activity_queues(harness.service).release("w-1") == 1  # w-1's process died
    second = harness.call("GetActivityTask", activityArn=activity, workerName="w-2")
    assert second["taskToken"] == first["taskToken"]
    time.sleep(0.6)  # past 1 s since w-1 started it, within 1 s of w-2's start
    harness.call("SendTaskSuccess", taskToken=second["taskToken"], output='{"ok": true}')
    assert harness.wait(execution)["status"] == "SUCCEEDED"
    started = [e for e in harness.history(execution) if e["type"] == "ActivityStarted"]
    assert [e["activityStartedEventDetails"]["workerName"] for e in started] == ["w-1"]
