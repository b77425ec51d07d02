"""TestState through boto3's `test_state`, against a `podium server` of the suite.

What a client sees: the status, the output as JSON text, the next state, inspectionData (each
data flow member as JSON text) at DEBUG and TRACE only, the errors AWS gives, a registered
Python function run for real, and every test_state case of the conformance corpus answered as
the in-process runner answers it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.blackbox.process import REPO, ROLE

CORPUS = REPO.parent / "shared" / "conformance" / "asl"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:{}"
PASS_WITH_PATHS = {
    "Type": "Pass",
    "InputPath": "$.order",
    "Parameters": {"id.$": "$.id", "fixed": 1},
    "ResultPath": "$.summary",
    "End": True,
}
RETRYING_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "Retry": [
        {"ErrorEquals": ["Payment.Declined"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 3}
    ],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Refund"}],
    "Next": "Ship",
}


def refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_a_pass_state_and_its_data_flow_at_each_inspection_level(sfn: Any) -> None:
    order = {"order": {"id": "o-1", "lines": 2}}
    common = {"definition": json.dumps(PASS_WITH_PATHS), "input": json.dumps(order)}
    info = sfn.test_state(**common)
    assert info["status"] == "SUCCEEDED"
    assert json.loads(info["output"]) == {**order, "summary": {"id": "o-1", "fixed": 1}}
    assert "inspectionData" not in info and "nextState" not in info
    debug = sfn.test_state(inspectionLevel="DEBUG", **common)
    data = {key: json.loads(value) for key, value in debug["inspectionData"].items()}
    assert data == {
        "input": order,
        "afterInputPath": {"id": "o-1", "lines": 2},
        "afterParameters": {"id": "o-1", "fixed": 1},
        "afterResultSelector": {"id": "o-1", "fixed": 1},
        "afterResultPath": {**order, "summary": {"id": "o-1", "fixed": 1}},
    }
    assert sfn.test_state(inspectionLevel="TRACE", **common)["inspectionData"] == debug["inspectionData"]


def test_a_state_of_a_state_machine_and_its_next_state(sfn: Any) -> None:
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.cost < $limit %}", "Next": "Approve"}],
                "Default": "Ask",
            },
            "Approve": {"Type": "Succeed"},
            "Ask": {"Type": "Fail", "Error": "TooExpensive"},
        },
    }
    ask = sfn.test_state(
        definition=json.dumps(machine),
        stateName="Check",
        input=json.dumps({"cost": 12}),
        variables=json.dumps({"limit": 10}),
        inspectionLevel="DEBUG",
    )
    assert (ask["status"], ask["nextState"], json.loads(ask["output"])) == ("SUCCEEDED", "Ask", {"cost": 12})
    assert json.loads(ask["inspectionData"]["variables"]) == {"limit": 10}
    failed = sfn.test_state(definition=json.dumps(machine), stateName="Ask")
    assert (failed["status"], failed["error"]) == ("FAILED", "TooExpensive")
    assert "output" not in failed and "nextState" not in failed
    code, message = refusal(lambda: sfn.test_state(definition=json.dumps(machine), stateName="Nowhere"))
    assert (code, message) == ("ValidationException", "State not found in definition")


def test_a_mocked_error_is_retriable_then_caught(sfn: Any) -> None:
    common = {
        "definition": json.dumps(RETRYING_TASK),
        "input": json.dumps({"amount": 5}),
        "inspectionLevel": "DEBUG",
        "mock": {"errorOutput": {"error": "Payment.Declined", "cause": "card expired"}},
    }
    retried = sfn.test_state(stateConfiguration={"retrierRetryCount": 2}, **common)
    assert (retried["status"], retried["error"], retried["cause"]) == (
        "RETRIABLE",
        "Payment.Declined",
        "card expired",
    )
    # The third retry of a 2 s interval tripled each time: 2 * 3 ** 2.
    assert retried["inspectionData"]["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 18}
    caught = sfn.test_state(stateConfiguration={"retrierRetryCount": 3}, **common)
    assert (caught["status"], caught["nextState"]) == ("CAUGHT_ERROR", "Refund")
    assert json.loads(caught["output"]) == {
        "amount": 5,
        "error": {"Error": "Payment.Declined", "Cause": "card expired"},
    }
    assert caught["inspectionData"]["errorDetails"] == {"retryIndex": 0, "catchIndex": 0}


def test_a_registered_function_runs_for_real_and_a_task_needs_a_role(sfn: Any) -> None:
    task = json.dumps({"Type": "Task", "Resource": LAMBDA_ARN.format("double"), "End": True})
    answered = sfn.test_state(
        definition=task, roleArn=ROLE, input=json.dumps({"n": 21}), inspectionLevel="DEBUG"
    )
    assert answered["status"] == "SUCCEEDED"
    assert json.loads(answered["inspectionData"]["result"]) == json.loads(answered["output"])
    code, message = refusal(lambda: sfn.test_state(definition=task, input="{}"))
    assert (code, message) == ("ValidationException", "RoleArn must be specified when testing a Task state")
    unknown = json.dumps({"Type": "Task", "Resource": LAMBDA_ARN.format("no_such_function"), "End": True})
    missing = sfn.test_state(definition=unknown, roleArn=ROLE)
    assert (missing["status"], missing["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")


def test_a_mocked_result_is_checked_against_the_service_api(sfn: Any) -> None:
    put_events = json.dumps(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::events:putEvents",
            "Parameters": {"Entries": []},
            "End": True,
        }
    )
    wrong = json.dumps({"Entries": [{"EventId": ["not", "a", "string"]}]})
    code, message = refusal(lambda: sfn.test_state(definition=put_events, mock={"result": wrong}))
    assert (code, message) == (
        "ValidationException",
        "Mock result schema validation error: Field 'EventId' must be a string",
    )
    loose = sfn.test_state(definition=put_events, mock={"result": wrong, "fieldValidationMode": "NONE"})
    assert json.loads(loose["output"]) == json.loads(wrong)
    start = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True})
    code, message = refusal(lambda: sfn.test_state(definition=start, mock={"result": "{}"}))
    assert (code, message) == (
        "ValidationException",
        "Mock result schema validation error: Required field 'ExecutionArn' is missing",
    )
    present = sfn.test_state(definition=start, mock={"result": "{}", "fieldValidationMode": "PRESENT"})
    assert present["status"] == "SUCCEEDED"


def test_map_and_parallel_states_take_a_mock(sfn: Any) -> None:
    mapping = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}},
        "ToleratedFailureCount": 1,
        "End": True,
    }
    common = {"definition": json.dumps(mapping), "input": json.dumps({"items": [1, 2, 3]})}
    code, message = refusal(lambda: sfn.test_state(**common))
    assert code == "InvalidDefinition" and message.startswith(
        "TestState API does not support Map or Parallel"
    )
    done = sfn.test_state(mock={"result": "[1, 2, 3]"}, inspectionLevel="DEBUG", **common)
    assert json.loads(done["output"]) == [1, 2, 3]
    assert done["inspectionData"]["toleratedFailureCount"] == 1
    assert json.loads(done["inspectionData"]["afterItemsPath"]) == [1, 2, 3]
    over = sfn.test_state(
        mock={"result": "[1, 2, 3]"}, stateConfiguration={"mapIterationFailureCount": 2}, **common
    )
    assert (over["status"], over["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    code, message = refusal(lambda: sfn.test_state(mock={"result": "{}"}, **common))
    assert (code, message) == ("ValidationException", "Mocked result must be an array.")


def test_a_context_object_is_used_as_given_and_checked(sfn: Any) -> None:
    state = json.dumps(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload": {}},
            "ResultSelector": {"context.$": "$$"},
            "End": True,
        }
    )
    context = {"Execution": {"Name": "given"}, "State": {"RetryCount": 2}}
    done = sfn.test_state(definition=state, mock={"result": "{}"}, context=json.dumps(context))
    assert json.loads(done["output"]) == {"context": context}
    code, message = refusal(
        lambda: sfn.test_state(definition=state, mock={"result": "{}"}, context=json.dumps({"Map": {}}))
    )
    assert (code, message) == (
        "ValidationException",
        "Invalid Context object provided: 'Map' field is not supported when mocking a Context object",
    )


# --- the corpus, through the API --------------------------------------------------------------


def _corpus_or_skip() -> Path:
    if not CORPUS.is_dir():
        message = f"the conformance corpus is not at {CORPUS}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CORPUS


def test_the_corpus_through_the_api_agrees_with_the_in_process_runner(sfn: Any) -> None:
    from podium.conformance import run_cases
    from podium.conformance.cases import load_cases, resolve, select, skip_reason
    from podium.conformance.judge import judge_record
    from podium.conformance.runner import state_test_record, state_test_request
    from podium.connectors.functions import FunctionRegistry
    from tests.blackbox.process import CORPUS_FUNCTIONS

    cases = select(load_cases([_corpus_or_skip()]), ("test_state",))
    functions = FunctionRegistry()
    functions.load_module(str(CORPUS_FUNCTIONS))
    names = functions.names()
    in_process = {r.case.name: r for r in run_cases(cases, functions).results if r.attempted}
    assert len(in_process) >= 100
    differ = []
    for case in cases:
        if skip_reason(case, names) is not None:
            continue
        definition, input_value = resolve(case, names)
        response = sfn.test_state(**state_test_request(case, definition, input_value))
        response.pop("ResponseMetadata")
        through_api = judge_record(case, state_test_record(case, response))["outcome"]
        ours = in_process[case.name]
        if (
            through_api.passed != ours.verdicts["outcome"].passed
            or response.get("status") != ours.record["status"]
        ):
            differ.append(f"{case.name}: API {through_api.detail or 'pass'}; in-process {ours.record}")
    assert not differ, "\n".join(differ)
