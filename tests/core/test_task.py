"""Task states: the events each kind of resource records, timeouts, heartbeats, late answers,
activities, task tokens and the payload limit."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core import tokens
from podium.core.messages import InvokeTask, StartTimer, TaskSucceeded
from tests.core.driver import T0, Run, activity, lam, machine, task

SQS_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def one_task(**fields: Any) -> dict[str, Any]:
    return machine("Work", {"Work": task(**fields)})


# --- what each kind of resource records ------------------------------------------------------


def test_a_lambda_function_arn_records_lambda_function_events() -> None:
    run = Run(one_task(Resource=lam("resize")), {"img": 1})
    command = run.task("Work")
    assert (command.resource, command.payload, command.state_name) == (lam("resize"), {"img": 1}, "Work")
    run.succeed("Work", {"small": True})
    assert run.history()[1:] == [
        ("TaskStateEntered", {"name": "Work", "input": {"img": 1}}),
        ("LambdaFunctionScheduled", {"resource": lam("resize"), "input": {"img": 1}}),
        ("LambdaFunctionStarted", {}),
        ("LambdaFunctionSucceeded", {"output": {"small": True}}),
        ("TaskStateExited", {"name": "Work", "output": {"small": True}}),
        ("ExecutionSucceeded", {"output": {"small": True}}),
    ]


def test_a_service_integration_records_task_events_naming_service_and_action() -> None:
    run = Run(
        one_task(
            Resource="arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "f", "Payload.$": "$"}
        ),
        {"x": 1},
    )
    run.succeed("Work", {"Payload": 2})
    named = {"resourceType": "lambda", "resource": "invoke"}
    assert run.history()[2:5] == [
        (
            "TaskScheduled",
            {**named, "region": "us-east-1", "parameters": {"FunctionName": "f", "Payload": {"x": 1}}},
        ),
        ("TaskStarted", named),
        ("TaskSucceeded", {**named, "output": {"Payload": 2}}),
    ]


def test_a_failed_service_task_records_task_failed_with_error_and_cause() -> None:
    run = Run(one_task(Resource="arn:aws:states:::sns:publish", Parameters={"Message": "hi"}), {})
    run.fail("Work", "SNS.NotFound", "no topic")
    assert run.history()[-2:] == [
        (
            "TaskFailed",
            {"resourceType": "sns", "resource": "publish", "error": "SNS.NotFound", "cause": "no topic"},
        ),
        ("ExecutionFailed", {"error": "SNS.NotFound", "cause": "no topic"}),
    ]


def test_an_activity_is_scheduled_when_queued_and_started_only_when_a_worker_takes_it() -> None:
    run = Run(one_task(Resource=activity("approve"), TimeoutSeconds=60, HeartbeatSeconds=10), {"doc": 3})
    assert run.types()[-1] == "TaskStateEntered"  # not before the queue has accepted it
    assert run.timers() == []
    run.at(1).submitted("Work")
    assert run.types()[-1] == "ActivityScheduled"
    assert run.fire_times() == [61]  # TimeoutSeconds counts from scheduling
    assert run.task_phase("Work") == "submitted"
    assert run.history()[-1][1] == {
        "resource": activity("approve"),
        "input": {"doc": 3},
        "timeoutInSeconds": 60,
        "heartbeatInSeconds": 10,
    }
    run.at(2).started("Work", worker="worker-7")
    assert run.fire_times() == [12, 61]  # HeartbeatSeconds counts from the worker's start
    run.at(3).succeed("Work", {"approved": True})
    assert run.history()[3:6] == [
        ("ActivityStarted", {"workerName": "worker-7"}),
        ("ActivitySucceeded", {"output": {"approved": True}}),
        ("TaskStateExited", {"name": "Work", "output": {"approved": True}}),
    ]


def test_an_activity_started_by_an_unnamed_worker_records_no_worker_name() -> None:
    run = Run(one_task(Resource=activity()), {})
    run.submitted("Work")
    run.started("Work")
    run.fail("Work", "Programmatic Error", '{"Value1":"HelloWorld"}')
    assert run.history()[2:] == [
        ("ActivityScheduled", {"resource": activity(), "input": {}}),
        ("ActivityStarted", {}),
        ("ActivityFailed", {"error": "Programmatic Error", "cause": '{"Value1":"HelloWorld"}'}),
        ("ExecutionFailed", {"error": "Programmatic Error", "cause": '{"Value1":"HelloWorld"}'}),
    ]


def test_an_activity_that_times_out_records_activity_timed_out() -> None:
    run = Run(one_task(Resource=activity(), TimeoutSeconds=30), {})
    run.submitted("Work")
    run.fire_timer()
    assert run.history()[-2:] == [
        ("ActivityTimedOut", {"error": "States.Timeout"}),
        ("ExecutionFailed", {"error": "States.Timeout"}),
    ]


def test_task_started_from_a_non_activity_records_nothing() -> None:
    run = Run(one_task(Resource=SQS_TOKEN, Parameters={"t.$": "$$.Task.Token"}), {})
    decision = run.started("Work", worker="w")
    assert decision.events == [] and decision.commands == []


def test_wait_for_task_token_hands_the_same_token_to_the_payload_and_the_command() -> None:
    run = Run(
        one_task(Resource=SQS_TOKEN, Parameters={"QueueUrl": "q", "Body": {"token.$": "$$.Task.Token"}}), {}
    )
    command = run.task("Work")
    assert command.payload == {"QueueUrl": "q", "Body": {"token": command.task_token}}
    parts = tokens.parse(command.task_token)
    assert parts is not None and (parts.execution_arn, parts.task_id) == (run.arn, command.command_id)
    assert tokens.verify(run.token_key, parts)
    assert not tokens.verify("another key", parts)


def test_each_attempt_of_a_callback_task_gets_a_fresh_token() -> None:
    run = Run(one_task(Resource=SQS_TOKEN, Retry=[{"ErrorEquals": ["States.ALL"]}]), {})
    first = run.task("Work").task_token
    run.fail("Work", "Lost")
    run.fire_timer()
    assert run.task("Work").task_token != first


# --- TimeoutSeconds --------------------------------------------------------------------------


def test_timeout_seconds_arms_a_timer_and_its_firing_times_the_task_out() -> None:
    run = Run(one_task(TimeoutSeconds=30), {})
    invoke, timer = run.steps[0].decision.commands
    assert isinstance(invoke, InvokeTask) and invoke.timeout_seconds == 30
    assert isinstance(timer, StartTimer) and timer.fire_at_ms == T0 + 30_000
    assert run.details("LambdaFunctionScheduled")["timeoutInSeconds"] == 30
    decision = run.fire_timer()
    assert invoke.command_id in decision.retired  # the connector may cancel the call
    assert run.owed == {}
    assert run.history()[-2:] == [
        ("LambdaFunctionTimedOut", {"error": "States.Timeout"}),
        ("ExecutionFailed", {"error": "States.Timeout"}),
    ]
    assert run.events[-1].timestamp == (T0 + 30_000) / 1000


def test_an_answer_before_the_timeout_disarms_its_timer() -> None:
    run = Run(one_task(TimeoutSeconds=30), {})
    (timer,) = run.timers()
    decision = run.at(5).succeed("Work", 1)
    assert timer.command_id in decision.retired
    assert run.status == "SUCCEEDED"


def test_timeout_seconds_path_reads_the_timeout_from_the_input() -> None:
    run = Run(one_task(TimeoutSecondsPath="$.limit"), {"limit": 12})
    assert run.fire_times() == [12]
    assert run.details("LambdaFunctionScheduled")["timeoutInSeconds"] == 12


def test_timeout_seconds_path_to_nothing_fails_with_states_runtime() -> None:
    run = Run(one_task(TimeoutSecondsPath="$.NoSuchTimeoutSecondsPath"), {"int-literal": 0})
    assert run.types() == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert run.details("ExecutionFailed") == {
        "error": "States.Runtime",
        "cause": "An error occurred while executing the state 'Work' (entered at the event id #2). "
        "Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']",
    }


def test_late_answers_after_a_timeout_are_ignored() -> None:
    run = Run(
        machine(
            "Work",
            {
                "Work": task(
                    TimeoutSeconds=5,
                    Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Later"}],
                    Next="Later",
                ),
                "Later": task(lam("later")),
            },
        ),
        {},
    )
    first = run.task("Work")
    run.fire_timer()
    assert run.tasks("Later")
    before = list(run.events)
    for signal in (
        TaskSucceeded(run.now_ms, first.command_id, "too late"),
        TaskSucceeded(run.now_ms, "task-999", "never asked"),
    ):
        decision = run.apply(signal)
        assert (decision.events, decision.commands, decision.retired) == ([], [], [])
    assert run.events == before
    run.succeed("Later", "fine")
    assert run.output() == "fine"


def test_a_late_answer_from_a_retried_attempt_does_not_complete_the_new_one() -> None:
    run = Run(
        one_task(TimeoutSeconds=5, Retry=[{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1}]), {}
    )
    first = run.task("Work")
    run.fire_timer()  # timed out at 5
    run.fire_timer()  # retried at 6
    second = run.task("Work")
    assert second.command_id != first.command_id
    assert run.apply(TaskSucceeded(run.now_ms, first.command_id, "stale")).events == []
    run.succeed("Work", "fresh")
    assert run.output() == "fresh"


# --- HeartbeatSeconds ------------------------------------------------------------------------


def heartbeating(**fields: Any) -> dict[str, Any]:
    return one_task(Resource=SQS_TOKEN, TimeoutSeconds=600, HeartbeatSeconds=10, **fields)


def test_each_heartbeat_rearms_the_heartbeat_timer() -> None:
    run = Run(heartbeating(), {})
    assert run.fire_times() == [10, 600]
    (old,) = [t for t in run.timers() if t.fire_at_ms == T0 + 10_000]
    decision = run.at(4).heartbeat("Work")
    assert decision.events == []  # heartbeats are not recorded
    assert decision.retired == [old.command_id]
    assert [c.fire_at_ms for c in decision.commands if isinstance(c, StartTimer)] == [T0 + 14_000]
    run.at(13).heartbeat("Work")
    assert run.fire_times() == [23, 600]
    run.at(20).succeed("Work", {"ok": 1})
    assert run.status == "SUCCEEDED"


def test_a_missed_heartbeat_times_the_task_out_with_states_timeout() -> None:
    """AWS records a heartbeat timeout as TaskTimedOut with States.Timeout (not HeartbeatTimeout)."""
    run = Run(heartbeating(), {})
    run.at(4).heartbeat("Work")
    run.fire_timer()
    assert run.t == 14
    assert run.history()[-2:] == [
        (
            "TaskTimedOut",
            {"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "error": "States.Timeout"},
        ),
        ("ExecutionFailed", {"error": "States.Timeout"}),
    ]
    assert run.owed == {}


@pytest.mark.parametrize(
    ("error_equals", "on_heartbeat", "on_timeout"),
    [
        (["States.HeartbeatTimeout"], True, False),
        (["States.Timeout"], True, True),
        (["States.ALL"], True, True),
        (["States.TaskFailed"], False, False),
    ],
)
def test_states_heartbeat_timeout_catches_only_a_missed_heartbeat(
    error_equals: list[str], on_heartbeat: bool, on_timeout: bool
) -> None:
    for which, caught in (("heartbeat", on_heartbeat), ("timeout", on_timeout)):
        definition = machine(
            "Work",
            {
                "Work": task(
                    Resource=SQS_TOKEN,
                    TimeoutSeconds=20,
                    HeartbeatSeconds=10,
                    Catch=[{"ErrorEquals": error_equals, "Next": "Caught"}],
                    End=True,
                ),
                "Caught": {"Type": "Pass", "End": True},
            },
        )
        run = Run(definition, {})
        if which == "timeout":
            run.at(9).heartbeat("Work")  # the heartbeat timer now fires at 19... and again:
            run.at(18).heartbeat("Work")  # at 28, after TimeoutSeconds
        run.fire_timer()
        assert (run.status == "SUCCEEDED") is caught, (which, error_equals)
        if caught:
            assert run.output() == {"Error": "States.Timeout", "Cause": ""}


def test_a_heartbeat_to_a_task_without_heartbeat_seconds_changes_nothing() -> None:
    run = Run(one_task(Resource=SQS_TOKEN, TimeoutSeconds=30), {})
    decision = run.at(3).heartbeat("Work")
    assert (decision.events, decision.commands, decision.retired) == ([], [], [])


# --- payload limit ---------------------------------------------------------------------------


def test_a_result_of_exactly_the_limit_passes_and_one_byte_more_fails() -> None:
    limit = 256 * 1024
    fits = Run(one_task(), {})
    fits.succeed("Work", "x" * (limit - 2))  # with its quotes: exactly 256 KiB of JSON text
    assert fits.status == "SUCCEEDED"
    over = Run(one_task(), {})
    over.succeed("Work", "x" * (limit - 1))
    assert over.status == "FAILED"
    assert over.outcome is not None and over.outcome.error == "States.DataLimitExceeded"
    assert over.types()[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    run = Run(one_task(), {}, payload_limit=10)
    run.succeed("Work", "ééééé")  # 5 characters, 10 bytes, 12 with the quotes
    assert run.outcome is not None and run.outcome.error == "States.DataLimitExceeded"


def test_a_service_integration_over_the_limit_names_the_service() -> None:
    run = Run(
        one_task(Resource="arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "f"}),
        {},
        payload_limit=8,
    )
    run.succeed("Work", {"Payload": "too big"})
    assert run.history()[-2] == (
        "TaskFailed",
        {
            "resourceType": "lambda",
            "resource": "invoke",
            "error": "States.DataLimitExceeded",
            "cause": "The state/task 'lambda' returned a result with a size exceeding the maximum number "
            "of bytes service limit.",
        },
    )


def test_a_state_output_over_the_limit_fails_naming_the_state() -> None:
    """As AWS records a Pass state with a large Result: PassStateEntered, then ExecutionFailed."""
    definition = machine("Big", {"Big": {"Type": "Pass", "Result": {"blob": "x" * 40}, "End": True}})
    run = Run(definition, {}, payload_limit=32)
    assert run.history()[1:] == [
        ("PassStateEntered", {"name": "Big", "input": {}}),
        (
            "ExecutionFailed",
            {
                "error": "States.DataLimitExceeded",
                "cause": "The state/task 'Big' returned a result with a size exceeding the maximum number "
                "of bytes service limit.",
            },
        ),
    ]


def test_a_task_result_that_fits_can_still_make_the_state_output_too_large() -> None:
    run = Run(one_task(ResultPath="$.result"), {"keep": "y" * 20}, payload_limit=40)
    run.succeed("Work", "z" * 20)  # 22 bytes: fits; merged into the input: 49 bytes
    assert run.types()[-2:] == ["LambdaFunctionSucceeded", "ExecutionFailed"]
    assert run.outcome is not None and run.outcome.cause is not None
    assert (run.outcome.error, "'Work'" in run.outcome.cause) == ("States.DataLimitExceeded", True)


def test_an_activity_start_reported_twice_is_recorded_once() -> None:
    """Dispatch is at-least-once: the same TaskStarted may arrive again."""
    run = Run(one_task(Resource=activity()), {})
    run.submitted("Work")
    assert run.submitted("Work").events == []
    run.started("Work", worker="w1")
    assert run.started("Work", worker="w1").events == []
    assert run.types().count("ActivityStarted") == 1


# --- the service accepting a task: activities queued, callbacks delivered --------------------


def test_an_activity_the_queue_refuses_fails_the_state_before_scheduling_anything() -> None:
    """AWS: no ActivityScheduled, States.Runtime with the state prefix, never caught."""
    run = Run(
        one_task(Resource=activity("gone"), Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Work"}]), {}
    )
    run.fail("Work", "States.Runtime", f"The activity {activity('gone')} does not exist.")
    assert run.types() == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert run.details("ExecutionFailed") == {
        "error": "States.Runtime",
        "cause": "An error occurred while executing the state 'Work' (entered at the event id #2). "
        f"The activity {activity('gone')} does not exist.",
    }


def test_a_heartbeat_before_the_activity_has_started_does_not_arm_the_heartbeat() -> None:
    run = Run(one_task(Resource=activity(), HeartbeatSeconds=5), {})
    run.submitted("Work")
    run.heartbeat("Work")
    assert run.timers() == []


def test_a_callback_records_task_submitted_with_the_service_response_then_waits() -> None:
    run = Run(one_task(Resource=SQS_TOKEN, Parameters={"t.$": "$$.Task.Token"}, HeartbeatSeconds=5), {})
    assert run.task_phase("Work") == "scheduled"
    run.at(1).submitted("Work", {"MessageId": "m-1"})
    run.at(1).submitted("Work", {"MessageId": "m-1"})  # reported twice: recorded once
    assert run.task_phase("Work") == "submitted"
    assert run.history()[-1] == (
        "TaskSubmitted",
        {"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "output": {"MessageId": "m-1"}},
    )
    assert run.status == "RUNNING"
    run.at(4).heartbeat("Work")
    assert run.fire_times() == [9]
    run.at(6).succeed("Work", {"done": True})
    assert run.output() == {"done": True}
    assert run.types()[-4:] == ["TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]


def test_a_request_response_task_records_no_task_submitted() -> None:
    run = Run(one_task(Resource="arn:aws:states:::sns:publish", Parameters={"M": 1}), {})
    run.submitted("Work", {"ignored": True})
    assert "TaskSubmitted" not in run.types()


def test_a_podium_function_can_wait_for_its_task_token() -> None:
    run = Run(
        one_task(Resource="podium:function:approve.waitForTaskToken", Parameters={"t.$": "$$.Task.Token"}), {}
    )
    command = run.task("Work")
    assert command.payload == {"t": command.task_token}
    run.submitted("Work", "queued")
    assert run.details("TaskSubmitted")["resourceType"] == "function"


def test_every_task_gets_a_token_but_only_callbacks_and_activities_show_it_in_the_context() -> None:
    run = Run(one_task(Resource=lam("f"), Parameters={"ctx.$": "$$"}), {})
    command = run.task("Work")
    assert "Task" not in command.payload["ctx"]  # type: ignore[index]
    parts = tokens.parse(command.task_token)
    assert parts is not None and tokens.verify(run.token_key, parts)
