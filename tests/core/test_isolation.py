"""One state run on its own (podium.core.isolation): TestState's statuses, its inspection of the
data flow, Retry and Catch decided without retrying, mocks, the context object, and the commands
left to the world."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podium.asl.model import ItemReader, Template
from podium.asl.parser import parse_state
from podium.core.isolation import (
    CAUGHT_ERROR,
    FAILED,
    RETRIABLE,
    SUCCEEDED,
    MockError,
    MockResult,
    Trial,
    TrialRequest,
    TrialResult,
    read_items,
    run_trial,
)
from podium.core.messages import InvokeTask, StartTimer, TaskSucceeded, TimerFired
from tests.core.driver import T0, info

ROLE = "arn:aws:iam::123456789012:role/tester"
TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
MAP = {
    "Type": "Map",
    "ItemsPath": "$.items",
    "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}},
    "End": True,
}


# A test runs as an EXPRESS execution: no RedriveCount.
EXPRESS = dataclasses.replace(info(), redrive_count=None)


def trial_request(state: dict[str, Any], value: Any = None, **fields: Any) -> TrialRequest:
    return TrialRequest(parse_state(state, "StateName"), {} if value is None else value, EXPRESS, **fields)


def trial(state: dict[str, Any], value: Any = None, **fields: Any) -> TrialResult:
    return run_trial(trial_request(state, value, **fields), now_ms=T0)


# --- the data flow --------------------------------------------------------------------------------


def test_a_pass_state_shows_each_step_of_its_data_flow() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id"},
        "ResultPath": "$.picked",
        "OutputPath": "$.picked",
        "Next": "Ship",
    }
    result = trial(state, {"order": {"id": 7, "qty": 1}})
    assert (result.status, result.output, result.next_state) == (SUCCEEDED, {"id": 7}, "Ship")
    assert result.inspection == {
        "input": {"order": {"id": 7, "qty": 1}},
        "afterInputPath": {"id": 7, "qty": 1},
        "afterParameters": {"id": 7},
        "afterResultSelector": {"id": 7},
        "afterResultPath": {"order": {"id": 7, "qty": 1}, "picked": {"id": 7}},
    }


def test_a_pass_result_is_the_result_and_its_input_is_not_processed() -> None:
    result = trial({"Type": "Pass", "Result": {"r": 1}, "End": True}, {"a": 1})
    assert result.inspection == {
        "input": {"a": 1},
        "result": {"r": 1},
        "afterResultSelector": {"r": 1},
        "afterResultPath": {"r": 1},
    }
    assert result.next_state is None


def test_a_task_shows_its_parameters_and_raw_result() -> None:
    state = {
        **TASK,
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"code.$": "$.StatusCode"},
        "ResultPath": "$.call",
    }
    result = trial(state, {"x": 1}, mock=MockResult({"StatusCode": 200}))
    assert result.output == {"x": 1, "call": {"code": 200}}
    assert result.inspection["afterParameters"] == {"FunctionName": "f", "Payload": {"x": 1}}
    assert result.inspection["result"] == {"StatusCode": 200}
    assert result.inspection["afterResultSelector"] == {"code": 200}


def test_jsonata_states_show_their_arguments_but_no_jsonpath_steps() -> None:
    state = {
        **TASK,
        "QueryLanguage": "JSONata",
        "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.x %}"},
        "Output": "{% $states.result.v %}",
    }
    result = trial(state, {"x": 2}, mock=MockResult({"v": 3}))
    assert result.output == 3
    assert result.inspection == {
        "input": {"x": 2},
        "afterArguments": {"FunctionName": "f", "Payload": 2},
        "result": {"v": 3},
    }


def test_variables_given_and_assigned_are_shown_after_the_state() -> None:
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Assign": {"total": "{% $price * 2 %}"},
        "Output": "{% $price %}",
        "End": True,
    }
    result = trial(state, variables={"price": 5})
    assert result.output == 5  # Output sees the variables as they were before Assign
    assert result.inspection["variables"] == {"price": 5, "total": 10}
    assert "variables" not in trial({"Type": "Pass", "End": True}).inspection


def test_a_choice_names_the_next_state_or_fails() -> None:
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
    }
    big = trial(state, {"n": 11})
    assert (big.status, big.next_state, big.inspection["afterInputPath"]) == (SUCCEEDED, "Big", {"n": 11})
    small = trial(state, {"n": 1})
    assert (small.status, small.error, small.cause) == (FAILED, "States.NoChoiceMatched", "No Matches!")
    assert not small.has_output


def test_an_evaluation_error_reads_as_in_an_execution() -> None:
    result = trial({"Type": "Pass", "InputPath": "$.missing", "End": True}, {"a": 1})
    assert result.status == FAILED and result.error == "States.Runtime"
    assert result.cause is not None
    assert result.cause.startswith(
        "An error occurred while executing the state 'StateName' (entered at the event id #2)."
    )


# --- Retry and Catch ------------------------------------------------------------------------------

RETRY = {"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "BackoffRate": 2, "MaxAttempts": 3}


def test_an_error_with_retries_left_is_retriable_with_its_backoff() -> None:
    state = {**TASK, "Retry": [{"ErrorEquals": ["Other"]}, RETRY]}
    first = trial(state, mock=MockError("Boom", "why"))
    assert (first.status, first.error, first.cause) == (RETRIABLE, "Boom", "why")
    assert first.error_details == {"retryIndex": 1, "retryBackoffIntervalSeconds": 3}
    third = trial(state, mock=MockError("Boom", "why"), retrier_retry_count=2)
    assert third.error_details == {"retryIndex": 1, "retryBackoffIntervalSeconds": 12}
    capped = trial(
        {**TASK, "Retry": [{**RETRY, "MaxDelaySeconds": 5}]}, mock=MockError("Boom"), retrier_retry_count=2
    )
    assert capped.error_details["retryBackoffIntervalSeconds"] == 5


def test_retries_used_up_then_a_catcher_or_failure() -> None:
    catcher = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}
    state = {**TASK, "Retry": [RETRY], "Catch": [{"ErrorEquals": ["Other"], "Next": "X"}, catcher]}
    caught = trial(state, {"a": 1}, mock=MockError("Boom", "why"), retrier_retry_count=3)
    assert (caught.status, caught.next_state, caught.error) == (CAUGHT_ERROR, "Recover", "Boom")
    assert caught.output == {"a": 1, "error": {"Error": "Boom", "Cause": "why"}}
    assert caught.error_details == {"retryIndex": 0, "catchIndex": 1}
    failed = trial({**TASK, "Retry": [RETRY]}, mock=MockError("Boom", "why"), retrier_retry_count=3)
    assert (failed.status, failed.error_details) == (FAILED, {"retryIndex": 0})


def test_states_runtime_is_neither_retried_nor_caught() -> None:
    state = {
        **TASK,
        "InputPath": "$.nowhere",
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}],
    }
    result = trial(state, {}, mock=MockResult({}))
    assert (result.status, result.error, result.error_details) == (FAILED, "States.Runtime", {})


def test_a_jsonata_catcher_sees_the_error_output() -> None:
    state = {
        **TASK,
        "QueryLanguage": "JSONata",
        "Catch": [{"ErrorEquals": ["Boom"], "Output": "{% $states.errorOutput.Cause %}", "Next": "H"}],
    }
    result = trial(state, mock=MockError("Boom", "the cause"))
    assert (result.status, result.output, result.next_state) == (CAUGHT_ERROR, "the cause", "H")


# --- Map and Parallel -----------------------------------------------------------------------------


def test_a_mocked_map_result_and_its_inspection() -> None:
    state = {
        **MAP,
        "ItemSelector": {"at.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
        "MaxConcurrency": 2,
    }
    result = trial(state, {"items": ["a", "b"]}, mock=MockResult([1, 2]))
    assert result.output == [1, 2]
    assert result.inspection["afterItemsPath"] == ["a", "b"]
    assert result.inspection["afterItemSelector"] == [{"at": 0, "v": "a"}, {"at": 1, "v": "b"}]
    assert result.inspection["maxConcurrency"] == 2
    assert "toleratedFailureCount" not in result.inspection


@pytest.mark.parametrize(
    ("tolerance", "failures", "status"),
    [
        ({"ToleratedFailureCount": 1}, 1, SUCCEEDED),
        ({"ToleratedFailureCount": 1}, 2, FAILED),
        ({"ToleratedFailurePercentage": 50}, 2, SUCCEEDED),  # 2 of 4 items: 50%
        ({"ToleratedFailurePercentage": 50}, 3, FAILED),
        ({}, 4, SUCCEEDED),  # no threshold set: the failures are not counted
    ],
)
def test_failed_iterations_count_against_the_maps_threshold(
    tolerance: dict[str, Any], failures: int, status: str
) -> None:
    result = trial(
        {**MAP, **tolerance},
        {"items": [1, 2, 3, 4]},
        mock=MockResult([]),
        map_iteration_failure_count=failures,
    )
    assert result.status == status
    if status == FAILED:
        assert (result.error, result.cause) == (
            "States.ExceedToleratedFailureThreshold",
            "The specified tolerated failure threshold was exceeded",
        )


def test_a_mocked_error_fails_a_map_or_a_parallel() -> None:
    parallel = {"Type": "Parallel", "Branches": [MAP["ItemProcessor"]], "End": True}
    for state in (MAP, parallel):
        result = trial(state, {"items": [1]}, mock=MockError("Inner.Failed", "in a branch"))
        assert (result.status, result.error, result.cause) == (FAILED, "Inner.Failed", "in a branch")


def test_a_mocked_parallel_result_goes_through_its_result_path() -> None:
    branches = [{"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}} for name in ("A", "B")]
    state = {"Type": "Parallel", "Branches": branches, "ResultPath": "$.both", "End": True}
    result = trial(state, {"a": 1}, mock=MockResult([1, 2]))
    assert result.output == {"a": 1, "both": [1, 2]}
    assert set(result.inspection) == {"input", "afterResultSelector", "afterResultPath"}


def test_an_item_reader_reads_the_given_items() -> None:
    state = {
        **MAP,
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket": "b", "Key": "k"},
        },
    }
    state.pop("ItemsPath")
    result = trial(state, {}, mock=MockResult(["done"]), reader_items=[1, 2])
    assert result.output == ["done"]


def test_reading_items_as_the_reader_config_says() -> None:
    def reader(config: dict[str, Any] | None) -> ItemReader:
        return ItemReader("arn:aws:states:::s3:getObject", Template(config) if config is not None else None)

    assert read_items(reader(None), "[1, 2]") == [1, 2]
    assert read_items(reader({"InputType": "JSONL", "MaxItems": 2}), '{"a": 1}\n\n2\n3\n') == [{"a": 1}, 2]
    assert read_items(reader({"InputType": "CSV"}), "id,name\n1,x\n2,y\n") == [
        {"id": "1", "name": "x"},
        {"id": "2", "name": "y"},
    ]
    given = {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["k"], "CSVDelimiter": "PIPE"}
    assert read_items(reader(given), "a|b\n") == [{"k": "a"}]
    with pytest.raises(ValueError, match="JSON array"):
        read_items(reader({"InputType": "JSON"}), '{"not": "a list"}')


# --- the context object ---------------------------------------------------------------------------

CONTEXT_TASK = {**TASK, "Parameters": {"FunctionName": "f", "Payload": {}}, "ResultSelector": {"c.$": "$$"}}


def test_the_context_built_for_a_test() -> None:
    result = trial(CONTEXT_TASK, {"in": 1}, mock=MockResult({}), role_arn=ROLE, retrier_retry_count=2)
    context = result.output["c"]
    assert context["State"] == {
        "Name": "StateName",
        "EnteredTime": "2023-11-14T22:13:20.000Z",
        "RetryCount": 2,
    }
    assert context["Execution"]["Input"] == {"in": 1}
    assert context["Execution"]["RoleArn"] == ROLE
    assert "RedriveCount" not in context["Execution"] and "Task" not in context
    no_role = trial(CONTEXT_TASK, mock=MockResult({}))
    assert no_role.output["c"]["Execution"]["RoleArn"] is None
    jsonata_pass = trial(
        {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.context.State %}", "End": True}
    )
    assert "RetryCount" not in jsonata_pass.output  # only the states that can retry show it


def test_a_callback_task_sees_a_token_and_a_given_context_is_used_as_it_is() -> None:
    callback = {**CONTEXT_TASK, "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}
    result = trial(callback, mock=MockResult({}))
    assert isinstance(result.output["c"]["Task"]["Token"], str)
    given = {"Execution": {"Name": "mine"}, "Task": {"Token": "t-1"}}
    assert trial(callback, mock=MockResult({}), context=given).output == {"c": given}


# --- what is left to the world --------------------------------------------------------------------


def test_a_wait_does_not_wait() -> None:
    result = trial({"Type": "Wait", "Seconds": 3600, "Next": "Later"}, {"a": 1})
    assert (result.status, result.next_state, result.output) == (SUCCEEDED, "Later", {"a": 1})


def test_an_unmocked_task_and_its_timeout_are_the_worlds() -> None:
    request = trial_request({**TASK, "TimeoutSeconds": 5}, {"a": 1})
    running = Trial(request)
    owed = running.start(T0)
    invoke, timer = owed
    assert isinstance(invoke, InvokeTask) and invoke.payload == {"a": 1}
    assert isinstance(timer, StartTimer) and timer.fire_at_ms == T0 + 5000
    assert running.result is None
    assert running.apply(TaskSucceeded(T0 + 10, invoke.command_id, {"ok": True})) == []
    assert running.result is not None and running.result.output == {"ok": True}

    late = Trial(request)
    invoke, timer = late.start(T0)
    late.apply(TimerFired(timer.fire_at_ms, timer.command_id))
    assert late.result is not None and (late.result.status, late.result.error) == (FAILED, "States.Timeout")


def test_a_mocked_activity_is_queued_taken_and_answered() -> None:
    activity = {
        "Type": "Task",
        "Resource": "arn:aws:states:us-east-1:123456789012:activity:work",
        "End": True,
    }
    assert trial(activity, mock=MockResult({"done": 1})).output == {"done": 1}
    failed = trial(activity, mock=MockError("Worker.Failed", "no"))
    assert (failed.status, failed.error) == (FAILED, "Worker.Failed")
