"""Requests checked against botocore's Step Functions model, in AWS's words."""

from __future__ import annotations

from typing import Any

import pytest

from podium.api.errors import ApiError, SerializationException, ValidationException
from podium.api.shapes import ApiShapes

ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:hello"
DEFINITION = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'


@pytest.fixture(scope="module")
def shapes() -> ApiShapes:
    return ApiShapes.load()


def rejection(shapes: ApiShapes, operation: str, params: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        shapes.check_input(operation, params)
    return caught.value


def test_the_model_has_the_actions_of_the_api(shapes: ApiShapes) -> None:
    assert {"StartExecution", "StartSyncExecution", "GetActivityTask", "TestState"} <= shapes.operations


def test_well_formed_parameters_pass_unchanged(shapes: ApiShapes) -> None:
    params = {
        "name": "hello",
        "definition": DEFINITION,
        "roleArn": "arn:aws:iam::000000000000:role/r",
        "type": "EXPRESS",
        "tags": [{"key": "team", "value": "core"}],
        "publish": True,
    }
    assert shapes.check_input("CreateStateMachine", params) == params


def test_a_missing_required_member_is_awss_message(shapes: ApiShapes) -> None:
    error = rejection(shapes, "StartExecution", {})
    assert isinstance(error, ValidationException)
    assert error.message == (
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint:"
        " Member must not be null"
    )


def test_a_null_required_member_is_missing(shapes: ApiShapes) -> None:
    assert (
        "Value null at 'stateMachineArn'"
        in rejection(shapes, "StartExecution", {"stateMachineArn": None}).message
    )


def test_a_null_optional_member_is_left_out(shapes: ApiShapes) -> None:
    assert shapes.check_input("StartExecution", {"stateMachineArn": ARN, "name": None}) == {
        "stateMachineArn": ARN
    }


def test_every_violation_is_counted_and_named(shapes: ApiShapes) -> None:
    error = rejection(
        shapes, "CreateStateMachine", {"name": "n" * 81, "definition": DEFINITION, "type": "BATCH"}
    )
    assert error.message == (
        "3 validation errors detected:"
        " Value null at 'roleArn' failed to satisfy constraint: Member must not be null;"
        f" Value '{'n' * 81}' at 'name' failed to satisfy constraint:"
        " Member must have length less than or equal to 80;"
        " Value 'BATCH' at 'type' failed to satisfy constraint:"
        " Member must satisfy enum value set: [STANDARD, EXPRESS]"
    )


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        (
            "ListExecutions",
            {"stateMachineArn": ARN, "maxResults": 1001},
            "Value '1001' at 'maxResults' failed to satisfy constraint:"
            " Member must have value less than or equal to 1000",
        ),
        (
            "ListExecutions",
            {"stateMachineArn": ARN, "nextToken": ""},
            "Value '' at 'nextToken' failed to satisfy constraint:"
            " Member must have length greater than or equal to 1",
        ),
        (
            "StartExecution",
            {"stateMachineArn": ARN, "traceHeader": "é"},
            "Value 'é' at 'traceHeader' failed to satisfy constraint:"
            " Member must satisfy regular expression pattern: \\p{ASCII}*",
        ),
        (
            "RedriveExecution",
            {"executionArn": ARN, "clientToken": "a b"},
            "Value 'a b' at 'clientToken' failed to satisfy constraint:"
            " Member must satisfy regular expression pattern: [!-~]+",
        ),
        (
            "TagResource",
            {"resourceArn": ARN, "tags": [{"key": "ok"}, {"key": ""}]},
            "Value '' at 'tags.2.member.key' failed to satisfy constraint:"
            " Member must have length greater than or equal to 1",
        ),
        (
            "CreateStateMachineAlias",
            {"name": "live", "routingConfiguration": [{"stateMachineVersionArn": f"{ARN}:1"}]},
            "Value null at 'routingConfiguration.1.member.weight' failed to satisfy constraint:"
            " Member must not be null",
        ),
        (
            "UntagResource",
            {"resourceArn": ARN, "tagKeys": ["a", None]},
            "Value null at 'tagKeys.2.member' failed to satisfy constraint: Member must not be null",
        ),
    ],
)
def test_constraints_of_the_model(
    shapes: ApiShapes, operation: str, params: dict[str, Any], expected: str
) -> None:
    assert expected in rejection(shapes, operation, params).message


def test_sensitive_values_are_never_echoed(shapes: ApiShapes) -> None:
    token = "t" * 2049
    message = rejection(shapes, "SendTaskSuccess", {"taskToken": token, "output": "{}"}).message
    assert message == (
        "1 validation error detected: Value at 'taskToken' failed to satisfy constraint:"
        " Member must have length less than or equal to 2048"
    )


def test_payloads_are_limited_in_utf8_bytes_by_the_servers_limit() -> None:
    shapes = ApiShapes.load(payload_limit=100)
    assert shapes.check_input("StartExecution", {"stateMachineArn": ARN, "input": '"' + "e" * 98 + '"'})
    message = rejection(
        shapes, "StartExecution", {"stateMachineArn": ARN, "input": '"' + "é" * 50 + '"'}
    ).message
    assert message == (
        "1 validation error detected: Value at 'input' failed to satisfy constraint:"
        " Member must have length less than or equal to 100"
    )


def test_the_default_payload_limit_is_awss(shapes: ApiShapes) -> None:
    big = '"' + "x" * (256 * 1024) + '"'
    assert (
        "less than or equal to 262144"
        in rejection(shapes, "StartExecution", {"stateMachineArn": ARN, "input": big}).message
    )


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("StartExecution", {"stateMachineArn": 7}, "Expected a string at 'stateMachineArn', found a number"),
        ("ListExecutions", {"maxResults": "10"}, "Expected an integer at 'maxResults', found a string"),
        ("ListExecutions", {"maxResults": True}, "Expected an integer at 'maxResults', found a boolean"),
        ("ListExecutions", {"maxResults": 1.5}, "Expected an integer at 'maxResults', found a number"),
        (
            "GetExecutionHistory",
            {"executionArn": ARN, "reverseOrder": "yes"},
            "Expected a boolean at 'reverseOrder'",
        ),
        (
            "TagResource",
            {"resourceArn": ARN, "tags": {"a": "b"}},
            "Expected an array at 'tags', found an object",
        ),
        (
            "TagResource",
            {"resourceArn": ARN, "tags": ["a"]},
            "Expected an object at 'tags.1.member', found a string",
        ),
    ],
)
def test_wrong_json_types_are_serialization_exceptions(
    shapes: ApiShapes, operation: str, params: dict[str, Any], expected: str
) -> None:
    error = rejection(shapes, operation, params)
    assert isinstance(error, SerializationException)
    assert expected in error.message


def test_an_integral_number_is_an_integer(shapes: ApiShapes) -> None:
    assert shapes.check_input("ListActivities", {"maxResults": 10.0}) == {"maxResults": 10}


def test_unknown_members_are_refused(shapes: ApiShapes) -> None:
    error = rejection(shapes, "StartExecution", {"stateMachineArn": ARN, "stateMachinArn": ARN})
    assert isinstance(error, SerializationException)
    assert error.message == "Unknown member 'stateMachinArn': StartExecutionInput has no such member"


def test_unknown_nested_members_name_their_place(shapes: ApiShapes) -> None:
    error = rejection(shapes, "TagResource", {"resourceArn": ARN, "tags": [{"key": "a", "Value": "b"}]})
    assert error.message == "Unknown member 'Value' in 'tags.1.member': Tag has no such member"


# --- responses -----------------------------------------------------------------------------


def test_a_conforming_response_has_no_problems(shapes: ApiShapes) -> None:
    response = {
        "executionArn": f"{ARN}:e",
        "stateMachineArn": ARN,
        "status": "SUCCEEDED",
        "startDate": 1.5,
        "stopDate": 2,
        "output": "{}",
    }
    assert shapes.output_problems("DescribeExecution", response) == []


def test_response_problems_are_named(shapes: ApiShapes) -> None:
    response = {"executionArn": f"{ARN}:e", "status": "DONE", "startDate": "2024-01-01", "colour": "red"}
    assert shapes.output_problems("DescribeExecution", response) == [
        "stateMachineArn: required member missing",
        "status: 'DONE' is not one of"
        " ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']",
        "Expected a number (epoch seconds) at 'startDate', found a string",
        "colour: not a member of DescribeExecutionOutput",
    ]
