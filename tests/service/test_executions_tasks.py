"""Activities with worker threads, the callback pattern, heartbeats and timeouts, task tokens."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from podium.api.errors import ActivityDoesNotExist, InvalidOutput, InvalidToken, TaskTimedOut
from podium.core import tokens
from tests.service.conftest import Harness, in_thread


def activity_machine(activity_arn: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True, **task}},
    }


def worker(harness: Harness, activity_arn: str, name: str | None = "worker-1") -> dict[str, Any]:
    """Poll until a task comes (each poll holds up to the long-poll time)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        params = {"activityArn": activity_arn} | ({"workerName": name} if name else {})
        task = harness.call("GetActivityTask", **params)
        if task.get("taskToken"):
            return task
    raise AssertionError("no task came")


def test_a_worker_takes_the_task_and_its_answer_completes_the_state(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="approve")["activityArn"]
    arn = harness.start(
        harness.machine("m", activity_machine(activity, TimeoutSeconds=60, HeartbeatSeconds=10)), {"doc": 3}
    )
    thread, result = in_thread(lambda: worker(harness, activity))
    thread.join(10)
    task = result[0]
    assert json.loads(task["input"]) == {"doc": 3}
    harness.call("SendTaskHeartbeat", taskToken=task["taskToken"])
    harness.call("SendTaskSuccess", taskToken=task["taskToken"], output='{"approved": true}')
    described = harness.wait(arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"approved": True}
    events = harness.history(arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert events[2]["activityScheduledEventDetails"]["resource"] == activity
    assert events[2]["activityScheduledEventDetails"]["timeoutInSeconds"] == 60
    assert events[3]["activityStartedEventDetails"] == {"workerName": "worker-1"}
    # The task has closed: its token now gets TaskTimedOut, a made-up one InvalidToken.
    with pytest.raises(TaskTimedOut):
        harness.call("SendTaskSuccess", taskToken=task["taskToken"], output="{}")
    forged = tokens.mint("not the key", arn, "task-1")
    tampered = task["taskToken"][:-1] + ("1" if task["taskToken"][-1] != "1" else "2")
    for token in (forged, "garbage", tampered):
        with pytest.raises(InvalidToken):
            harness.call("SendTaskHeartbeat", taskToken=token)


def test_a_worker_without_a_name_and_a_failure(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="check")["activityArn"]
    arn = harness.start(harness.machine("m", activity_machine(activity)), {"v": 1})
    task = worker(harness, activity, name=None)
    harness.call(
        "SendTaskFailure", taskToken=task["taskToken"], error="Programmatic Error", cause=task["input"]
    )
    described = harness.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Programmatic Error",
        '{"v":1}',
    )
    events = harness.history(arn)
    assert events[3] == {**events[3], "type": "ActivityStarted", "activityStartedEventDetails": {}}
    assert events[4]["activityFailedEventDetails"] == {"error": "Programmatic Error", "cause": '{"v":1}'}


def test_get_activity_task_long_polls_and_returns_nothing_when_nothing_comes(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="idle")["activityArn"]
    harness.service.extras["podium.activity_long_poll_seconds"] = 0.2
    began = time.monotonic()
    assert harness.call("GetActivityTask", activityArn=activity) == {}
    assert time.monotonic() - began >= 0.2
    with pytest.raises(ActivityDoesNotExist):
        harness.call("GetActivityTask", activityArn=activity + "-nope")


def test_a_poll_waiting_before_the_task_exists_gets_it(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="early")["activityArn"]
    thread, result = in_thread(lambda: harness.call("GetActivityTask", activityArn=activity, workerName="w"))
    time.sleep(0.2)
    arn = harness.start(harness.machine("m", activity_machine(activity)), {"x": 1})
    thread.join(5)
    assert result and json.loads(result[0]["input"]) == {"x": 1}
    harness.call("SendTaskSuccess", taskToken=result[0]["taskToken"], output='"done"')
    assert harness.wait(arn)["status"] == "SUCCEEDED"


def test_an_activity_that_does_not_exist_fails_the_state_as_aws_records_it(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="gone")["activityArn"]
    machine = harness.machine("m", activity_machine(activity))
    harness.call("DeleteActivity", activityArn=activity)
    arn = harness.start(machine)
    described = harness.wait(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == (
        "An error occurred while executing the state 'Work' (entered at the event id #2). "
        f"The activity {activity} does not exist."
    )
    assert harness.types(arn) == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]


def test_an_activity_no_worker_takes_times_out_from_scheduling(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="slow")["activityArn"]
    arn = harness.start(
        harness.machine("m", activity_machine(activity, TimeoutSeconds=2, HeartbeatSeconds=1))
    )
    described = harness.wait(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    events = harness.history(arn)
    assert [e["type"] for e in events][-3:] == ["ActivityScheduled", "ActivityTimedOut", "ExecutionFailed"]
    # No worker ever started it, so no heartbeat was due: TimeoutSeconds, from scheduling.
    assert events[-2]["timestamp"] - events[-3]["timestamp"] >= 1.99
    # The timed-out task left the queue: a worker gets nothing.
    harness.service.extras["podium.activity_long_poll_seconds"] = 0.1
    assert harness.call("GetActivityTask", activityArn=activity) == {}


def test_a_started_activity_without_heartbeats_times_out_on_its_heartbeat(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="beat")["activityArn"]
    definition = activity_machine(
        activity,
        HeartbeatSeconds=1,
        Catch=[{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.caught", "Next": "Caught"}],
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    arn = harness.start(harness.machine("m", definition), {})
    task = worker(harness, activity)
    time.sleep(0.6)
    harness.call("SendTaskHeartbeat", taskToken=task["taskToken"])  # keeps it alive past 1 s
    time.sleep(0.6)
    assert harness.describe(arn)["status"] == "RUNNING"
    described = harness.wait(arn)
    assert json.loads(described["output"])["caught"] == {"Error": "States.Timeout", "Cause": ""}
    with pytest.raises(TaskTimedOut):
        harness.call("SendTaskSuccess", taskToken=task["taskToken"], output="{}")


def test_send_task_success_refuses_output_that_is_not_json(harness: Harness) -> None:
    activity = harness.call("CreateActivity", name="json")["activityArn"]
    harness.start(harness.machine("m", activity_machine(activity)))
    task = worker(harness, activity)
    with pytest.raises(InvalidOutput):
        harness.call("SendTaskSuccess", taskToken=task["taskToken"], output="{nope")


# --- the callback pattern --------------------------------------------------------------------


def callback_machine(resource: str, **task: Any) -> dict[str, Any]:
    parameters = {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}}
    if resource.startswith("podium:"):
        parameters = {"token.$": "$$.Task.Token", "order.$": "$.order"}
    return {
        "StartAt": "Wait for approval",
        "States": {
            "Wait for approval": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "End": True,
                **task,
            }
        },
    }


@pytest.mark.parametrize(
    "resource", ["arn:aws:states:::lambda:invoke.waitForTaskToken", "podium:function:notify.waitForTaskToken"]
)
def test_a_callback_waits_for_send_task_success_with_its_token(harness: Harness, resource: str) -> None:
    received: list[dict[str, Any]] = []
    harness.functions.register("notify", lambda event: received.append(event) or {"queued": True})
    arn = harness.start(harness.machine("m", callback_machine(resource)), {"order": 42})
    submitted = harness.wait_for_event(arn, "TaskSubmitted")
    assert received and received[0]["order"] == 42
    details = submitted["taskSubmittedEventDetails"]
    output = json.loads(details["output"])
    assert (output["Payload"] if "lambda" in resource else output) == {"queued": True}
    assert harness.describe(arn)["status"] == "RUNNING"
    harness.call("SendTaskSuccess", taskToken=received[0]["token"], output='{"approved": "yes"}')
    described = harness.wait(arn)
    assert json.loads(described["output"]) == {"approved": "yes"}
    assert harness.types(arn) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_a_callback_failed_by_its_worker_and_one_that_times_out(harness: Harness) -> None:
    tokens_seen: list[str] = []
    harness.functions.register("notify", lambda event: tokens_seen.append(event["token"]))
    resource = "podium:function:notify.waitForTaskToken"
    failing = harness.start(harness.machine("m", callback_machine(resource)), {"order": 1})
    harness.wait_for_event(failing, "TaskSubmitted")
    harness.call("SendTaskFailure", taskToken=tokens_seen[0])  # neither error nor cause
    described = harness.wait(failing)
    assert described["status"] == "FAILED" and "error" not in described
    slow = harness.start(harness.machine("m2", callback_machine(resource, HeartbeatSeconds=1)), {"order": 2})
    described = harness.wait(slow)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    assert harness.types(slow)[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    with pytest.raises(TaskTimedOut):
        harness.call("SendTaskSuccess", taskToken=tokens_seen[1], output="{}")


def test_a_callback_answered_by_a_worker_thread_in_the_function(harness: Harness) -> None:
    """The function hands the token to another thread, which answers while the task waits."""

    def notify(event: dict[str, Any]) -> str:
        in_thread(
            lambda: (time.sleep(0.1), harness.call("SendTaskSuccess", taskToken=event["token"], output="7"))
        )
        return "sent"

    harness.functions.register("notify", notify)
    arn = harness.start(
        harness.machine("m", callback_machine("podium:function:notify.waitForTaskToken")), {"order": 3}
    )
    assert harness.wait(arn)["output"] == "7"
