"""Stopping the engine mid-execution and starting a new one on the same SQLite file loses
nothing: outstanding activity tasks, callbacks and child executions are known again by their
tokens, and a redrive or a start whose first step was never committed is committed now."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from podium.core.messages import RedriveExecution
from podium.store.sqlite import SQLiteStore
from tests.service.conftest import Harness, in_thread


def running(db: Path, functions: dict[str, Any] | None = None) -> Harness:
    return Harness(SQLiteStore(str(db)), functions or {}, str(db))


def stopped(harness: Harness) -> None:
    harness.stop()
    harness.store.close()


def test_a_workers_answer_with_an_old_token_completes_its_task_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    first = running(db)
    activity = first.call("CreateActivity", name="review")["activityArn"]
    definition = {
        "StartAt": "Review",
        "States": {"Review": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = first.start(first.machine("reviews", definition), {"doc": 1})
    task = first.call("GetActivityTask", activityArn=activity, workerName="alice")
    assert task["taskToken"]
    first.wait_for_event(arn, "ActivityStarted")
    stopped(first)

    second = running(db)
    try:
        assert second.describe(arn)["status"] == "RUNNING"
        # The worker had the task: it is not queued again for another worker.
        second.service.extras["podium.activity_long_poll_seconds"] = 0.1
        assert second.call("GetActivityTask", activityArn=activity) == {}
        second.call("SendTaskHeartbeat", taskToken=task["taskToken"])
        second.call("SendTaskSuccess", taskToken=task["taskToken"], output='{"ok": true}')
        described = second.wait(arn)
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"ok": True})
        assert second.types(arn).count("ActivityStarted") == 1
    finally:
        stopped(second)


def test_a_task_scheduled_but_not_taken_is_queued_again_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    first = running(db)
    activity = first.call("CreateActivity", name="later")["activityArn"]
    definition = {
        "StartAt": "Later",
        "States": {"Later": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = first.start(first.machine("later", definition), {"n": 2})
    first.wait_for_event(arn, "ActivityScheduled")
    stopped(first)
    second = running(db)
    try:
        task = second.call("GetActivityTask", activityArn=activity, workerName="bob")
        assert json.loads(task["input"]) == {"n": 2}
        second.call("SendTaskSuccess", taskToken=task["taskToken"], output="3")
        assert second.wait(arn)["output"] == "3"
        assert second.types(arn).count("ActivityScheduled") == 1
    finally:
        stopped(second)


def test_a_callback_token_survives_a_restart_without_calling_the_service_again(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    calls: list[str] = []
    functions = {"notify": lambda event: calls.append(event["token"])}
    first = running(db, functions)
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "podium:function:notify.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token"},
                "End": True,
            }
        },
    }
    arn = first.start(first.machine("ask", definition))
    first.wait_for_event(arn, "TaskSubmitted")
    stopped(first)
    second = running(db, functions)
    try:
        second.call("SendTaskSuccess", taskToken=calls[0], output='"yes"')
        assert second.wait(arn)["output"] == '"yes"'
        assert len(calls) == 1  # submitted before the restart: not sent again
    finally:
        stopped(second)


def test_a_parent_waiting_on_a_child_gets_its_answer_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    first = running(db)
    activity = first.call("CreateActivity", name="inner")["activityArn"]
    child = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": activity, "End": True}}}
    child_machine = first.machine("child", child)
    parent = {
        "StartAt": "Run child",
        "States": {
            "Run child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child_machine, "Name": "kid", "Input": {"v": 1}},
                "End": True,
            }
        },
    }
    arn = first.start(first.machine("parent", parent))
    task = first.call("GetActivityTask", activityArn=activity, workerName="w")
    stopped(first)
    child_arn = child_machine.replace(":stateMachine:", ":execution:") + ":kid"
    second = running(db)
    try:
        second.call("SendTaskSuccess", taskToken=task["taskToken"], output='{"child": "done"}')
        described = second.wait(arn)
        assert described["status"] == "SUCCEEDED"
        output = json.loads(described["output"])
        assert (output["ExecutionArn"], output["Output"]) == (child_arn, {"child": "done"})
    finally:
        stopped(second)


def test_a_child_that_ended_while_the_engine_was_down_answers_its_parent_at_start(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    first = running(db)
    waiter = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    child_machine = first.machine("child", waiter)
    parent = {
        "StartAt": "Run child",
        "States": {
            "Run child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync",
                "Parameters": {"StateMachineArn": child_machine, "Name": "kid"},
                "End": True,
            }
        },
    }
    arn = first.start(first.machine("parent", parent))
    first.wait_for_event(arn, "TaskSubmitted")
    stopped(first)
    time.sleep(1.2)  # the child's Wait is due while nothing runs
    second = running(db)
    try:
        assert second.wait(arn)["status"] == "SUCCEEDED"
    finally:
        stopped(second)


def test_a_redrive_journaled_but_never_committed_is_committed_at_start(tmp_path: Path) -> None:
    db = tmp_path / "podium.db"
    first = running(db)
    fail_once = {"n": 0}

    def flaky(event: Any) -> str:
        fail_once["n"] += 1
        if fail_once["n"] == 1:
            raise RuntimeError("first time")
        return "fine"

    first.functions.register("flaky", flaky)
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Task", "Resource": "podium:function:flaky", "End": True}},
    }
    arn = first.start(first.machine("flaky", definition))
    assert first.wait(arn)["status"] == "FAILED"
    stopped(first)
    # What RedriveExecution writes before the engine takes over, then a crash.
    store = SQLiteStore(str(db))
    record = store.get_execution(arn)
    assert record is not None
    store.reopen_execution(arn, record.version, RedriveExecution(1, redrive_count=1), now_ms=1)
    store.close()
    second = running(db, {"flaky": flaky})
    try:
        described = second.wait(arn)
        assert (described["status"], described["output"], described["redriveCount"]) == (
            "SUCCEEDED",
            '"fine"',
            1,
        )
        assert "ExecutionRedriven" in second.types(arn)
    finally:
        stopped(second)


def test_a_stop_during_a_long_poll_returns_the_poll(tmp_path: Path) -> None:
    harness = running(tmp_path / "podium.db")
    activity = harness.call("CreateActivity", name="idle")["activityArn"]
    harness.service.extras["podium.activity_long_poll_seconds"] = 30
    thread, result = in_thread(lambda: harness.call("GetActivityTask", activityArn=activity))
    time.sleep(0.1)
    began = time.monotonic()
    stopped(harness)
    thread.join(5)
    assert result == [{}] and time.monotonic() - began < 5
