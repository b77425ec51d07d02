"""StartExecution, DescribeExecution, StopExecution, ListExecutions, GetExecutionHistory and
DescribeStateMachineForExecution through Service.handle, on a running engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.api.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidExecutionInput,
    InvalidName,
    InvalidToken,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    ValidationException,
)
from tests.service.conftest import Harness

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
WAIT = {
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "Seconds": 600, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}


def test_an_execution_starts_runs_and_is_described_with_all_of_awss_fields(harness: Harness) -> None:
    machine = harness.machine("pass", PASS)
    started = harness.call("StartExecution", stateMachineArn=machine, name="first", input='{"a": 1}')
    assert started["executionArn"] == machine.replace(":stateMachine:", ":execution:") + ":first"
    assert isinstance(started["startDate"], float)
    described = harness.wait(started["executionArn"])
    assert described == {
        "executionArn": started["executionArn"],
        "stateMachineArn": machine,
        "name": "first",
        "status": "SUCCEEDED",
        "startDate": started["startDate"],
        "stopDate": described["stopDate"],
        "input": '{"a": 1}',
        "inputDetails": {"included": True},
        "output": '{"ok":true}',
        "outputDetails": {"included": True},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
    }


def test_a_failed_execution_shows_its_error_and_cause_and_is_redrivable(harness: Harness) -> None:
    arn = harness.start(harness.machine("fail", FAIL))
    described = harness.wait(arn)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Boom", "on purpose")
    assert "output" not in described
    assert described["redriveStatus"] == "REDRIVABLE" and "redriveStatusReason" not in described


def test_start_execution_is_idempotent_on_name_and_input_while_running(harness: Harness) -> None:
    machine = harness.machine("waiter", WAIT)
    first = harness.call("StartExecution", stateMachineArn=machine, name="same", input='{"a":1}')
    again = harness.call("StartExecution", stateMachineArn=machine, name="same", input='{"a": 1}')
    assert again == first
    with pytest.raises(ExecutionAlreadyExists, match="Execution Already Exists"):
        harness.call("StartExecution", stateMachineArn=machine, name="same", input='{"a":2}')
    harness.call("StopExecution", executionArn=first["executionArn"])
    with pytest.raises(ExecutionAlreadyExists):  # closed: the name is taken
        harness.call("StartExecution", stateMachineArn=machine, name="same", input='{"a":1}')


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"input": "{not json"}, InvalidExecutionInput),
        ({"input": json.dumps({"big": "x" * 300_000})}, InvalidExecutionInput),
        ({"name": "has space"}, InvalidName),
    ],
)
def test_start_execution_refuses_bad_input_and_names(
    harness: Harness, params: dict[str, Any], error: type
) -> None:
    machine = harness.machine("pass", PASS)
    with pytest.raises(error):
        harness.call("StartExecution", stateMachineArn=machine, **params)


def test_start_execution_of_nothing_or_of_a_map_label(harness: Harness) -> None:
    machine = harness.machine("pass", PASS)
    with pytest.raises(StateMachineDoesNotExist):
        harness.call("StartExecution", stateMachineArn=machine + "nope")
    with pytest.raises(ValidationException):
        harness.call("StartExecution", stateMachineArn=machine + "/mapLabel")
    with pytest.raises(InvalidArn):
        harness.call("StartExecution", stateMachineArn="arn:aws:sqs:us-east-1:1:queue")


def test_executions_of_a_version_and_of_an_alias_record_them(harness: Harness) -> None:
    machine = harness.machine("versioned", PASS, publish=True)
    version = machine + ":1"
    alias = harness.call(
        "CreateStateMachineAlias",
        name="live",
        routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}],
    )["stateMachineAliasArn"]
    by_version = harness.start(version)
    by_alias = harness.start(alias)
    plain = harness.start(machine)
    assert harness.wait(by_version)["stateMachineVersionArn"] == version
    described = harness.wait(by_alias)
    assert (described["stateMachineVersionArn"], described["stateMachineAliasArn"]) == (version, alias)
    assert "stateMachineVersionArn" not in harness.wait(plain)
    listed = harness.call("ListExecutions", stateMachineArn=alias)["executions"]
    assert [item["executionArn"] for item in listed] == [by_alias]
    assert listed[0]["stateMachineAliasArn"] == alias
    by_version_list = harness.call("ListExecutions", stateMachineArn=version)["executions"]
    assert {item["executionArn"] for item in by_version_list} == {by_version, by_alias}
    assert len(harness.call("ListExecutions", stateMachineArn=machine)["executions"]) == 3


def test_stop_execution_aborts_with_error_and_cause(harness: Harness) -> None:
    arn = harness.start(harness.machine("waiter", WAIT))
    harness.wait_for_event(arn, "WaitStateEntered")
    stopped = harness.call("StopExecution", executionArn=arn, error="Manual", cause="no longer needed")
    described = harness.describe(arn)
    assert described["status"] == "ABORTED"
    assert described["stopDate"] == stopped["stopDate"]
    assert (described["error"], described["cause"]) == ("Manual", "no longer needed")
    assert harness.types(arn) == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert harness.history(arn)[-1]["executionAbortedEventDetails"] == {
        "error": "Manual",
        "cause": "no longer needed",
    }


def test_executions_that_do_not_exist(harness: Harness) -> None:
    machine = harness.machine("pass", PASS)
    missing = machine.replace(":stateMachine:", ":execution:") + ":ghost"
    for action in (
        "DescribeExecution",
        "StopExecution",
        "GetExecutionHistory",
        "DescribeStateMachineForExecution",
    ):
        with pytest.raises(ExecutionDoesNotExist, match="Execution Does Not Exist"):
            harness.call(action, executionArn=missing)
    with pytest.raises(InvalidArn):
        harness.call("DescribeExecution", executionArn=machine)


def test_list_executions_filters_by_status_and_redrive_and_pages(harness: Harness) -> None:
    waiter = harness.machine("waiter", WAIT)
    running = [harness.start(waiter, name=f"run-{i}") for i in range(5)]
    harness.call("StopExecution", executionArn=running[0])
    page = harness.call("ListExecutions", stateMachineArn=waiter, maxResults=2)
    assert [e["executionArn"] for e in page["executions"]] == running[4:2:-1]  # newest first
    seen = [e["executionArn"] for e in page["executions"]]
    while "nextToken" in page:
        page = harness.call(
            "ListExecutions", stateMachineArn=waiter, maxResults=2, nextToken=page["nextToken"]
        )
        seen += [e["executionArn"] for e in page["executions"]]
    assert seen == running[::-1]
    aborted = harness.call("ListExecutions", stateMachineArn=waiter, statusFilter="ABORTED")["executions"]
    assert [e["executionArn"] for e in aborted] == [running[0]]
    assert aborted[0]["redriveCount"] == 0 and "stopDate" in aborted[0]
    harness.call("RedriveExecution", executionArn=running[0])
    redriven = harness.call("ListExecutions", stateMachineArn=waiter, redriveFilter="REDRIVEN")["executions"]
    assert [e["executionArn"] for e in redriven] == [running[0]]
    assert "redriveDate" in redriven[0]
    not_redriven = harness.call("ListExecutions", stateMachineArn=waiter, redriveFilter="NOT_REDRIVEN")
    assert len(not_redriven["executions"]) == 4
    with pytest.raises(InvalidToken):
        harness.call("ListExecutions", stateMachineArn=waiter, nextToken="garbage")


def test_list_executions_refuses_what_aws_refuses(harness: Harness) -> None:
    express = harness.machine("fast", PASS, type="EXPRESS")
    with pytest.raises(StateMachineTypeNotSupported):
        harness.call("ListExecutions", stateMachineArn=express)
    with pytest.raises(ValidationException):
        harness.call("ListExecutions")
    with pytest.raises(StateMachineDoesNotExist):
        harness.call("ListExecutions", stateMachineArn=express + "nope")


def test_history_pages_both_ways_and_can_leave_out_the_data(harness: Harness) -> None:
    arn = harness.start(harness.machine("pass", PASS), {"in": 1})
    harness.wait(arn)
    everything = harness.history(arn)
    assert [e["type"] for e in everything] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in everything] == [1, 2, 3, 4]
    for reverse in (False, True):
        pages: list[dict[str, Any]] = []
        page = harness.call("GetExecutionHistory", executionArn=arn, maxResults=3, reverseOrder=reverse)
        pages += page["events"]
        assert len(page["events"]) == 3
        page = harness.call(
            "GetExecutionHistory",
            executionArn=arn,
            maxResults=3,
            reverseOrder=reverse,
            nextToken=page["nextToken"],
        )
        pages += page["events"]
        assert "nextToken" not in page
        assert pages == (everything[::-1] if reverse else everything)
    bare = harness.history(arn, includeExecutionData=False)
    assert bare[0]["executionStartedEventDetails"] == {"inputDetails": {"truncated": False}, "roleArn": ROLE}
    assert "output" not in bare[-1]["executionSucceededEventDetails"]
    with pytest.raises(InvalidToken):
        harness.call("GetExecutionHistory", executionArn=arn, nextToken="nonsense")


def test_describe_state_machine_for_execution_gives_the_definition_it_ran(harness: Harness) -> None:
    machine = harness.machine("pass", PASS)
    arn = harness.start(machine)
    harness.wait(arn)
    changed = dict(PASS, Comment="changed")
    harness.call("UpdateStateMachine", stateMachineArn=machine, definition=json.dumps(changed))
    described = harness.call("DescribeStateMachineForExecution", executionArn=arn)
    assert json.loads(described["definition"]) == PASS
    assert (described["stateMachineArn"], described["name"], described["roleArn"]) == (machine, "pass", ROLE)
    assert isinstance(described["updateDate"], float)


ROLE = "arn:aws:iam::123456789012:role/podium-test"
