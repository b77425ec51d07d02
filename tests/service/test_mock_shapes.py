"""A TestState mock's result against the output shape of its integration's API (botocore's models)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.api.errors import ValidationException
from podium.service.mock_shapes import NONE, PRESENT, STRICT, check_mock_result, output_shape

PUT_EVENTS = "arn:aws:states:::events:putEvents"
START_EXECUTION = "arn:aws:states:::states:startExecution"
GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"


def problem(resource: str, result: Any, mode: str = STRICT) -> str | None:
    try:
        check_mock_result(resource, result, mode)
    except ValidationException as exc:
        return exc.message.removeprefix("Mock result schema validation error: ")
    return None


@pytest.mark.parametrize(
    ("resource", "result", "found"),
    [
        (PUT_EVENTS, {}, None),
        (PUT_EVENTS, {"random": "json"}, None),  # members the API does not have are let through
        (PUT_EVENTS, {"Entries": "x"}, "Field 'Entries' must be an array"),
        (PUT_EVENTS, {"Entries": [{"EventId": "a"}, {"EventId": ["b"]}]}, "Field 'EventId' must be a string"),
        (PUT_EVENTS, {"FailedEntryCount": "0"}, "Field 'FailedEntryCount' must be a number"),
        (PUT_EVENTS, {"FailedEntryCount": 1.5}, "Field 'FailedEntryCount' must be a number"),
        # The model's executionArn, as Step Functions writes it.
        (START_EXECUTION, {}, "Required field 'ExecutionArn' is missing"),
        (
            START_EXECUTION,
            {"executionArn": "a", "startDate": "d"},
            "Required field 'ExecutionArn' is missing",
        ),
        (START_EXECUTION, {"ExecutionArn": "a", "StartDate": True}, "Field 'StartDate' must be a string"),
        (START_EXECUTION, {"ExecutionArn": "a", "StartDate": "2025-01-01T00:00:00Z"}, None),
        (GET_OBJECT, {"ContentLength": "9000"}, "Field 'ContentLength' must be a number"),
        (GET_OBJECT, {"StorageClass": "Papyrus"}, "Field 'StorageClass' is not an expected value"),
        (GET_OBJECT, {"Metadata": {"k": 1}}, "Field 'Metadata' must be a string"),
        (GET_OBJECT, {"DeleteMarker": "yes"}, "Field 'DeleteMarker' must be a boolean"),
        (
            "arn:aws:states:::aws-sdk:kms:encrypt",
            {"CiphertextBlob": ""},
            "Field 'CiphertextBlob' is smaller than the minimum length",
        ),
        (
            "arn:aws:states:::aws-sdk:lambda:getFunction",
            {"Configuration": {"MemorySize": 127}},
            "Field 'MemorySize' is less than the minimum value",
        ),
        ("arn:aws:states:::lambda:invoke", {"StatusCode": "200"}, "Field 'StatusCode' must be a number"),
        (
            "arn:aws:states:::aws-sdk:sfn:startExecution",
            {"StartDate": 1},
            "Required field 'ExecutionArn' is missing",
        ),
    ],
)
def test_strict_checks_every_member_against_the_model(resource: str, result: Any, found: str | None) -> None:
    assert problem(resource, result) == found


def test_present_checks_only_the_members_given_and_none_nothing() -> None:
    assert problem(START_EXECUTION, {}, PRESENT) is None
    assert problem(START_EXECUTION, {"StartDate": 1}, PRESENT) == "Field 'StartDate' must be a string"
    assert problem(START_EXECUTION, {"StartDate": 1}, NONE) is None
    assert problem(PUT_EVENTS, ["not", "an", "object"]) == "The mocked result must be a JSON object"


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:f",  # the function's own return value
        "podium:function:f",
        "arn:aws:states:::http:invoke",
        "arn:aws:states:::apigateway:invoke",
        "arn:aws:states:::states:startExecution.sync",  # the job's result, not StartExecution's
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",  # what the worker sends back
        "arn:aws:states:us-east-1:123456789012:activity:a",
        "arn:aws:states:::no-such-service:doIt",
        "arn:aws:states:::aws-sdk:s3:noSuchAction",
    ],
)
def test_results_that_are_no_apis_output_are_not_checked(resource: str) -> None:
    assert output_shape(resource) is None
    assert problem(resource, {"StatusCode": "x", "ExecutionArn": 1}) is None
