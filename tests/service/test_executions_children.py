"""Child executions: states:startExecution, .sync, .sync:2, .waitForTaskToken, aws-sdk:sfn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.service.conftest import Harness

CHILD = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": True}}}
FAILING_CHILD = {
    "StartAt": "F",
    "States": {
        "F": {
            "Type": "Fail",
            "Error": "SomeFailure",
            "Cause": "This state machines raises a 'SomeFailure' failure.",
        }
    },
}
SLOW_CHILD = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def parent(resource: str, **parameters: Any) -> dict[str, Any]:
    params = {
        "StateMachineArn.$": "$.StateMachineArn",
        "Input.$": "$.Input",
        "Name.$": "$.Name",
        **parameters,
    }
    return {
        "StartAt": "Start",
        "States": {"Start": {"Type": "Task", "Resource": resource, "Parameters": params, "End": True}},
    }


def run_parent(
    harness: Harness, resource: str, child: dict[str, Any], child_input: Any = None
) -> tuple[str, str]:
    child_arn = harness.machine("child", child)
    parent_arn = harness.machine("parent", parent(resource))
    arn = harness.start(
        parent_arn, {"StateMachineArn": child_arn, "Input": child_input, "Name": "TestStartTarget"}
    )
    return arn, child_arn


def test_sync_waits_for_the_child_and_returns_its_description(harness: Harness) -> None:
    arn, child_machine = run_parent(harness, "arn:aws:states:::states:startExecution.sync", CHILD)
    described = harness.wait(arn)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    child_arn = child_machine.replace(":stateMachine:", ":execution:") + ":TestStartTarget"
    assert output == {
        "ExecutionArn": child_arn,
        "Input": "{}",
        "InputDetails": {"Included": True},
        "Name": "TestStartTarget",
        "Output": '{"Arg1":"argument1"}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": output["StartDate"],
        "StateMachineArn": child_machine,
        "Status": "SUCCEEDED",
        "StopDate": output["StopDate"],
    }
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
    submitted = json.loads(harness.history(arn)[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == child_arn and submitted["SdkHttpMetadata"]["HttpStatusCode"] == 200


def test_sync_2_gives_input_and_output_as_json(harness: Harness) -> None:
    arn, _ = run_parent(harness, "arn:aws:states:::states:startExecution.sync:2", CHILD, {"k": [1]})
    output = json.loads(harness.wait(arn)["output"])
    assert (output["Input"], output["Output"]) == ({"k": [1]}, {"Arg1": "argument1"})


def test_a_failed_child_fails_the_task_with_states_task_failed_and_its_description(harness: Harness) -> None:
    arn, child_machine = run_parent(harness, "arn:aws:states:::states:startExecution.sync", FAILING_CHILD)
    described = harness.wait(arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert cause == {
        "Cause": "This state machines raises a 'SomeFailure' failure.",
        "Error": "SomeFailure",
        "ExecutionArn": child_machine.replace(":stateMachine:", ":execution:") + ":TestStartTarget",
        "Input": "{}",
        "InputDetails": {"Included": True},
        "Name": "TestStartTarget",
        "RedriveCount": 0,
        "RedriveStatus": "REDRIVABLE",
        "StartDate": cause["StartDate"],
        "StateMachineArn": child_machine,
        "Status": "FAILED",
        "StopDate": cause["StopDate"],
    }
    assert list(cause) == sorted(cause)
    assert harness.types(arn)[-3:] == ["TaskSubmitted", "TaskFailed", "ExecutionFailed"]


def test_request_response_returns_start_executions_response_at_once(harness: Harness) -> None:
    arn, child_machine = run_parent(
        harness, "arn:aws:states:::states:startExecution", SLOW_CHILD, {"Hello": "World"}
    )
    output = json.loads(harness.wait(arn)["output"])
    child_arn = child_machine.replace(":stateMachine:", ":execution:") + ":TestStartTarget"
    assert output["ExecutionArn"] == child_arn and isinstance(output["StartDate"], int)
    assert set(output) == {"ExecutionArn", "StartDate", "SdkHttpMetadata", "SdkResponseMetadata"}
    child = harness.describe(child_arn)
    assert child["status"] == "RUNNING" and child["input"] == '{"Hello":"World"}'


def test_the_sdk_integration_returns_the_bare_response(harness: Harness) -> None:
    child_machine = harness.machine("child", CHILD)
    definition = {
        "StartAt": "Go",
        "States": {
            "Go": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                "Parameters": {"StateMachineArn": child_machine, "Input": {"key": "value"}},
                "End": True,
            }
        },
    }
    arn = harness.start(harness.machine("parent", definition))
    output = json.loads(harness.wait(arn)["output"])
    assert set(output) == {"ExecutionArn", "StartDate"}
    child = harness.wait(output["ExecutionArn"])
    assert child["input"] == '{"key":"value"}' and child["status"] == "SUCCEEDED"


def test_a_child_that_does_not_exist_fails_the_task_as_aws_records_it(harness: Harness) -> None:
    child_machine = harness.machine("child", CHILD)
    parent_arn = harness.machine("parent", parent("arn:aws:states:::states:startExecution"))
    missing = child_machine + "NoSuchArn"
    arn = harness.start(parent_arn, {"StateMachineArn": missing, "Input": None, "Name": "x"})
    described = harness.wait(arn)
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert described["cause"].startswith(
        f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400; "
        "Error Code: StateMachineDoesNotExist; Request ID: "
    )
    assert described["cause"].endswith("; Proxy: null)")


def test_stopping_the_parent_stops_a_sync_child(harness: Harness) -> None:
    arn, child_machine = run_parent(harness, "arn:aws:states:::states:startExecution.sync", SLOW_CHILD)
    harness.wait_for_event(arn, "TaskSubmitted")
    child_arn = child_machine.replace(":stateMachine:", ":execution:") + ":TestStartTarget"
    harness.call("StopExecution", executionArn=arn)
    assert harness.wait(child_arn)["status"] == "ABORTED"


def test_a_child_started_with_wait_for_task_token_answers_its_parent(harness: Harness) -> None:
    child = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    child_machine = harness.machine("child", child)
    definition = parent(
        "arn:aws:states:::states:startExecution.waitForTaskToken",
        **{
            "Input": {
                "token.$": "$$.Task.Token",
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
            }
        },
    )
    definition["States"]["Start"]["Parameters"].pop("Input.$")
    arn = harness.start(
        harness.machine("parent", definition), {"StateMachineArn": child_machine, "Name": "kid"}
    )
    harness.wait_for_event(arn, "TaskSubmitted")
    child_arn = child_machine.replace(":stateMachine:", ":execution:") + ":kid"
    child_input = json.loads(harness.wait(child_arn)["input"])
    assert child_input["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == arn
    harness.call("SendTaskSuccess", taskToken=child_input["token"], output='{"from": "child"}')
    assert json.loads(harness.wait(arn)["output"]) == {"from": "child"}


@pytest.mark.parametrize("resource", ["arn:aws:states:::states:startExecution.sync"])
def test_a_child_without_a_name_gets_one_from_the_task_token(harness: Harness, resource: str) -> None:
    child_machine = harness.machine("child", CHILD)
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"StateMachineArn": child_machine},
                "End": True,
            }
        },
    }
    arn = harness.start(harness.machine("parent", definition))
    output = json.loads(harness.wait(arn)["output"])
    assert output["Status"] == "SUCCEEDED" and len(output["Name"]) == 36
