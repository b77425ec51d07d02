"""A server stopped mid-execution (SIGTERM, or SIGKILL: a crash) and started again on the same
database: the executions waiting on an activity or a Wait go on, and lose or repeat nothing."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.blackbox.process import (
    ROLE,
    TEST_FUNCTIONS,
    PodiumProcess,
    definition,
    event_types,
    history,
    wait_for_end,
    wait_until,
)

WAIT_SECONDS = 3
ACTIVITY_EVENTS = [
    "ExecutionStarted",
    "TaskStateEntered",
    "ActivityScheduled",
    "ActivityStarted",
    "ActivitySucceeded",
    "TaskStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]
WAIT_EVENTS = [
    "ExecutionStarted",
    "PassStateEntered",
    "PassStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]


def has_event(sfn: Any, execution: str, event_type: str) -> bool:
    return event_type in event_types(history(sfn, execution))


def assert_whole(events: list[dict[str, Any]], expected_types: list[str]) -> None:
    """Exactly these events, numbered 1..n without a gap or a repeat."""
    assert event_types(events) == expected_types
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_waiting_executions_survive_a_restart(tmp_path: Path, stop_signal: signal.Signals) -> None:
    server = PodiumProcess(tmp_path / "podium.db", "--functions", str(TEST_FUNCTIONS))
    server.start()
    try:
        sfn = server.client()
        activity = sfn.create_activity(name="approve")["activityArn"]
        on_activity = definition(
            {
                "Approve": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 300, "Next": "After"},
                "After": {"Type": "Pass", "End": True},
            }
        )
        on_wait = definition(
            {
                "Before": {"Type": "Pass", "Next": "Wait"},
                "Wait": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "After"},
                "After": {"Type": "Pass", "End": True},
            }
        )
        activity_machine = sfn.create_state_machine(name="on-activity", definition=on_activity, roleArn=ROLE)[
            "stateMachineArn"
        ]
        wait_machine = sfn.create_state_machine(name="on-wait", definition=on_wait, roleArn=ROLE)[
            "stateMachineArn"
        ]
        taken = sfn.start_execution(stateMachineArn=activity_machine, name="taken", input='{"id": "taken"}')[
            "executionArn"
        ]
        wait_until(lambda: has_event(sfn, taken, "ActivityScheduled"))
        queued = sfn.start_execution(
            stateMachineArn=activity_machine, name="queued", input='{"id": "queued"}'
        )["executionArn"]
        waiting = sfn.start_execution(stateMachineArn=wait_machine, name="waiting")["executionArn"]

        # A worker takes the first task (and keeps its token); the second stays queued.
        task = sfn.get_activity_task(activityArn=activity, workerName="before-restart")
        assert json.loads(task["input"]) == {"id": "taken"}
        old_token = task["taskToken"]
        wait_until(lambda: has_event(sfn, taken, "ActivityStarted"))
        wait_until(lambda: has_event(sfn, queued, "ActivityScheduled"))
        wait_until(lambda: has_event(sfn, waiting, "WaitStateEntered"))

        status = server.stop(stop_signal)
        assert status == (0 if stop_signal == signal.SIGTERM else -signal.SIGKILL)
        server.start()
        sfn = server.client()

        for execution in (taken, queued, waiting):
            assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        # The queued task is handed out again after the restart...
        task = sfn.get_activity_task(activityArn=activity, workerName="after-restart")
        assert json.loads(task["input"]) == {"id": "queued"}
        sfn.send_task_success(taskToken=task["taskToken"], output='{"approved": "queued"}')
        # ... and the worker that held a token across it answers as if nothing happened.
        sfn.send_task_success(taskToken=old_token, output='{"approved": "taken"}')

        outputs = {
            e: json.loads(wait_for_end(sfn, e, timeout=30).get("output", "null"))
            for e in (taken, queued, waiting)
        }
        assert outputs == {taken: {"approved": "taken"}, queued: {"approved": "queued"}, waiting: {}}
        for execution in (taken, queued):
            events = history(sfn, execution)
            assert_whole(events, ACTIVITY_EVENTS)
            workers = [
                e["activityStartedEventDetails"]["workerName"]
                for e in events
                if e["type"] == "ActivityStarted"
            ]
            assert workers == (["before-restart"] if execution == taken else ["after-restart"])
        events = history(sfn, waiting)
        assert_whole(events, WAIT_EVENTS)
        entered, exited = (
            e["timestamp"] for e in events if e["type"] in ("WaitStateEntered", "WaitStateExited")
        )
        assert exited - entered >= timedelta(seconds=WAIT_SECONDS)
        # Nothing is left to do, and nothing is done twice: no execution runs, no task is queued.
        assert (
            sfn.list_executions(stateMachineArn=activity_machine, statusFilter="RUNNING")["executions"] == []
        )
        idle = server.client(read_timeout=1)
        with pytest.raises(Exception, match="Read timeout"):
            idle.get_activity_task(activityArn=activity)
    finally:
        status = server.stop()
    assert status == 0, server.stderr
    assert "Traceback" not in server.stderr, server.stderr


def test_a_stop_answers_the_long_polls_instead_of_waiting_for_them(tmp_path: Path) -> None:
    server = PodiumProcess(tmp_path / "podium.db")
    server.start()
    try:
        sfn = server.client()
        activity = sfn.create_activity(name="idle")["activityArn"]
        answers: list[dict[str, Any]] = []
        worker = threading.Thread(target=lambda: answers.append(sfn.get_activity_task(activityArn=activity)))
        worker.start()
        worker.join(timeout=0.5)  # the poll is held: no task will come
        assert worker.is_alive()
        started = time.monotonic()
        status = server.stop(signal.SIGTERM)
        elapsed = time.monotonic() - started
        worker.join(timeout=10)
    finally:
        server.stop()
    # Answered at once with no task (AWS's empty answer), well before uvicorn's 5 s grace.
    assert answers and "taskToken" not in answers[0]
    assert elapsed < 4.0
    assert status == 0 and "Traceback" not in server.stderr, server.stderr
