"""ValidateStateMachineDefinition: result, diagnostics and truncation as AWS gives them."""

from __future__ import annotations

import json

import pytest

from podium.service.registry import Service
from podium.store.memory import MemoryStore

from .catalog_support import call, definition, make_service


@pytest.fixture
def service() -> Service:
    return make_service(MemoryStore())


def validate(service: Service, text: str, **params: object) -> dict[str, object]:
    return call(service, "ValidateStateMachineDefinition", definition=text, **params)


def test_a_valid_definition(service: Service) -> None:
    assert validate(service, definition()) == {"result": "OK", "diagnostics": [], "truncated": False}
    assert validate(service, definition(), type="EXPRESS", severity="WARNING")["result"] == "OK"


def test_a_missing_field(service: Service) -> None:
    text = json.dumps({"States": {"A": {"Type": "Succeed"}}})
    assert validate(service, text) == {
        "result": "FAIL",
        "diagnostics": [
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": "These fields are required: [StartAt]",
                "location": "/",
            }
        ],
        "truncated": False,
    }


def test_an_empty_object(service: Service) -> None:
    diagnostics = validate(service, "{}")["diagnostics"]
    assert diagnostics == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "These fields are required: [States, StartAt]",
            "location": "/",
        }
    ]


def test_not_json(service: Service) -> None:
    response = validate(service, '{"StartAt": ')
    assert response["result"] == "FAIL"
    [diagnostic] = response["diagnostics"]
    assert diagnostic["code"] == "INVALID_JSON_DESCRIPTION"


def test_a_blank_definition_has_no_location(service: Service) -> None:
    response = call(service, "ValidateStateMachineDefinition", check_input=False, definition=" ")
    assert response["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Definition must be a valid JSON object",
        }
    ]


def test_express_restrictions(service: Service) -> None:
    states = {
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
            "Next": "Run",
        },
        "Run": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Child",
                    "States": {
                        "Child": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::states:startExecution.sync:2",
                            "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:c"},
                            "End": True,
                        }
                    },
                }
            ],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {
                    "Work": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:us-east-1:1:activity:Work",
                        "End": True,
                    }
                },
            },
            "End": True,
        },
    }
    text = json.dumps({"StartAt": "Wait", "States": states})
    assert validate(service, text)["result"] == "OK"
    response = validate(service, text, type="EXPRESS")
    assert response["result"] == "FAIL"
    assert response["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Express state machine does not support '.waitForTaskToken' service integration ",
            "location": "/States/Wait/Resource",
        },
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Express state machine does not support '.sync' service integration ",
            "location": "/States/Run/Branches/0/States/Child/Resource",
        },
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "Express state machine does not support Activity ARN",
            "location": "/States/Each/ItemProcessor/States/Work/Resource",
        },
    ]


def test_truncated_at_max_results(service: Service) -> None:
    states = {f"S{i}": {"Type": "Pass", "Next": f"Missing{i}"} for i in range(5)}
    text = json.dumps({"StartAt": "S0", "States": states})
    everything = validate(service, text)
    assert everything["truncated"] is False
    count = len(everything["diagnostics"])
    assert count >= 5
    cut = validate(service, text, maxResults=2)
    assert cut["result"] == "FAIL"
    assert cut["truncated"] is True
    assert cut["diagnostics"] == everything["diagnostics"][:2]
    assert validate(service, text, maxResults=0)["diagnostics"] == everything["diagnostics"]
