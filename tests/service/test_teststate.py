"""TestState through the service: the request checked as AWS checks it, the answer in the API's
shape (each response is checked against TestState's output shape), real functions and the
time limit."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from podium.api.shapes import ApiShapes
from podium.connectors.connections import Connection, Connections
from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.connectors.http import HttpConnector
from podium.service.registry import Response, Service
from podium.service.teststate import StateTestSettings, run_test_state
from tests.connectors.http_server import local_server

from .catalog_support import ACCOUNT, REGION, call, refused

ROLE = f"arn:aws:iam::{ACCOUNT}:role/tester"
TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
MAP = {
    "Type": "Map",
    "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}},
    "End": True,
}
PARALLEL = {
    "Type": "Parallel",
    "Branches": [{"StartAt": n, "States": {n: {"Type": "Pass", "End": True}}} for n in ("A", "B")],
    "End": True,
}


def slow(event: Any) -> Any:
    time.sleep(2)
    return event


@pytest.fixture
def service() -> Service:
    functions = FunctionRegistry({"double": lambda e: {"n": e["n"] * 2}, "boom": _boom, "slow": slow})
    engine = SimpleNamespace(connectors=[FunctionConnector(functions)])
    return Service(engine=engine, store=None, region=REGION, account=ACCOUNT)


def _boom(event: Any) -> Any:
    raise ValueError("no good")


def ask(service: Service, state: dict[str, Any] | str, **params: Any) -> Response:
    text = state if isinstance(state, str) else json.dumps(state)
    return call(service, "TestState", definition=text, **params)


# --- answers --------------------------------------------------------------------------------------


def test_the_inspection_level_decides_what_is_shown(service: Service) -> None:
    state = {"Type": "Pass", "Parameters": {"b.$": "$.a"}, "Next": "After"}
    info = ask(service, state, input='{"a": 1}')
    assert info == {"status": "SUCCEEDED", "output": '{"b":1}', "nextState": "After"}
    assert ask(service, state, input='{"a": 1}', inspectionLevel="INFO") == info
    debug = ask(service, state, input='{"a": 1}', inspectionLevel="DEBUG")
    assert debug["inspectionData"] == {
        "input": '{"a":1}',
        "afterInputPath": '{"a":1}',
        "afterParameters": '{"b":1}',
        "afterResultSelector": '{"b":1}',
        "afterResultPath": '{"b":1}',
    }


def test_the_input_defaults_to_an_empty_object(service: Service) -> None:
    assert ask(service, {"Type": "Succeed"})["output"] == "{}"
    with refused("InvalidExecutionInput"):
        ask(service, {"Type": "Succeed"}, input="{not json")


def test_a_map_shows_its_numbers_and_a_failed_state_its_error_details(service: Service) -> None:
    state = {**MAP, "MaxConcurrency": 3, "ToleratedFailurePercentage": 10, "Retry": [{"ErrorEquals": ["X"]}]}
    done = ask(
        service,
        state,
        input="[1, 2]",
        mock={"errorOutput": {"error": "X", "cause": "c"}},
        inspectionLevel="TRACE",
    )
    assert done["status"] == "RETRIABLE" and (done["error"], done["cause"]) == ("X", "c")
    data = done["inspectionData"]
    assert (data["maxConcurrency"], data["toleratedFailurePercentage"]) == (3, 10.0)
    assert data["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 1}


def test_a_registered_function_answers_for_real(service: Service) -> None:
    task = {"Type": "Task", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:double", "End": True}
    assert ask(service, task, roleArn=ROLE, input='{"n": 4}')["output"] == '{"n":8}'
    invoke = {
        **TASK,
        "Parameters": {"FunctionName": "double", "Payload": {"n": 1}},
        "ResultSelector": {"p.$": "$.Payload"},
    }
    assert ask(service, invoke, roleArn=ROLE)["output"] == '{"p":{"n":2}}'
    failed = ask(service, {**task, "Resource": task["Resource"].replace("double", "boom")}, roleArn=ROLE)
    assert (failed["status"], failed["error"]) == ("FAILED", "ValueError")
    assert json.loads(failed["cause"])["errorMessage"] == "no good"


def test_a_service_podium_cannot_reach_fails_as_in_an_execution(service: Service) -> None:
    sqs = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    failed = ask(service, sqs, roleArn=ROLE)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Runtime")
    assert failed["cause"] == "podium has no connector for the resource 'arn:aws:states:::sqs:sendMessage'"


def test_a_task_timeout_and_the_time_limit(service: Service) -> None:
    executor = ThreadPoolExecutor(max_workers=2)
    try:
        connector = FunctionConnector(FunctionRegistry({"slow": slow}), executor)
        task = {"Type": "Task", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:slow", "End": True}
        params = ApiShapes.load().check_input(
            "TestState", {"definition": json.dumps({**task, "TimeoutSeconds": 1}), "roleArn": ROLE}
        )
        started = time.monotonic()
        timed_out = run_test_state(params, StateTestSettings(connectors=(connector,)))
        assert (timed_out["status"], timed_out["error"]) == ("FAILED", "States.Timeout")
        assert 0.9 < time.monotonic() - started < 1.9
        params = ApiShapes.load().check_input("TestState", {"definition": json.dumps(task), "roleArn": ROLE})
        limited = run_test_state(params, StateTestSettings(connectors=(connector,), time_limit_seconds=0.2))
        assert (limited["status"], limited["error"]) == ("FAILED", "States.Timeout")
        assert limited["cause"] == "The test did not finish within the TestState limit of 0.2 seconds."
    finally:
        executor.shutdown(wait=True)


def test_trace_shows_an_http_tasks_request_and_response_without_the_connections_secrets() -> None:
    keyed = Connection(
        "keyed",
        "API_KEY",
        api_key_name="x-api-key",
        api_key_value="k-123",
        headers={"Header-Param": "from-connection"},
        query={"conn_q": "from-connection"},
        body={"conn_b": "from-connection"},
    )
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:connection/keyed/0b1c2d3e"
    with local_server() as server:
        http = HttpConnector(Connections(by_name={"keyed": keyed}), region=REGION)
        service = Service(
            engine=SimpleNamespace(connectors=[http]), store=None, region=REGION, account=ACCOUNT
        )
        try:
            state = {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint": f"{server.url}/echo",
                    "Method": "POST",
                    "Authentication": {"ConnectionArn": arn},
                    "Headers": {"X-Team": "payments"},
                    "QueryParameters": {"page": "2"},
                    "RequestBody": {"amount": 5},
                },
                "End": True,
            }
            hidden = ask(service, state, roleArn=ROLE, inspectionLevel="TRACE")
            revealed = ask(service, state, roleArn=ROLE, inspectionLevel="TRACE", revealSecrets=True)
            debug = ask(service, state, roleArn=ROLE, inspectionLevel="DEBUG")
            failed = ask(
                service,
                {**state, "Parameters": {**state["Parameters"], "ApiEndpoint": f"{server.url}/status/404"}},
                roleArn=ROLE,
                inspectionLevel="TRACE",
            )
        finally:
            http.close()
    # Both calls really went out with the connection's parameters and key.
    sent = server.recorder.on("/echo")
    assert [r.header("x-api-key") for r in sent] == ["k-123", "k-123", "k-123"]
    assert all("conn_q=from-connection" in r.query for r in sent)

    assert hidden["status"] == "SUCCEEDED"
    request = hidden["inspectionData"]["request"]
    agent = f"User-Agent: Amazon|StepFunctions|HttpInvoke|{REGION}"
    assert request == {
        "protocol": "http",
        "method": "POST",
        "url": f"{server.url}/echo?page=2",
        "headers": f"[X-Team: payments, Content-Type: application/json; charset=UTF-8, {agent}, "
        "Range: bytes=0-262144]",
        "body": '{"amount":5}',
    }
    response = hidden["inspectionData"]["response"]
    assert (response["protocol"], response["statusCode"], response["statusMessage"]) == ("http", "200", "OK")
    assert "Content-Type: application/json" in response["headers"]
    assert json.loads(response["body"]) == json.loads(hidden["output"])["ResponseBody"]

    shown = revealed["inspectionData"]["request"]
    assert shown["url"] == f"{server.url}/echo?page=2&conn_q=from-connection"
    assert shown["headers"].startswith("[X-Team: payments, Header-Param: from-connection, ")
    assert "x-api-key: k-123" in shown["headers"]
    assert json.loads(shown["body"]) == {"amount": 5, "conn_b": "from-connection"}

    assert "request" not in debug["inspectionData"] and "response" not in debug["inspectionData"]
    assert (failed["status"], failed["error"]) == ("FAILED", "States.Http.StatusCode.404")
    assert failed["inspectionData"]["response"]["statusCode"] == "404"
    assert failed["inspectionData"]["response"]["statusMessage"] == "Not Found"


# --- the request checked ---------------------------------------------------------------------------


def test_definitions_and_state_names(service: Service) -> None:
    with refused("InvalidDefinition"):
        ask(service, {"Type": "Pass"})
    machine = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {**MAP}}})
    assert ask(service, machine, stateName="A")["nextState"] == "B"
    # A state inside a Map's processor can be tested too.
    assert ask(service, machine, stateName="Each")["status"] == "SUCCEEDED"
    with refused("ValidationException", "State not found in definition"):
        ask(service, machine, stateName="C")
    with refused("InvalidDefinition"):
        ask(service, {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}, stateName="A")


@pytest.mark.parametrize(
    ("state", "params", "error", "message"),
    [
        (
            MAP,
            {},
            "InvalidDefinition",
            "TestState API does not support Map or Parallel states. "
            "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
        ),
        (
            {"Type": "Pass", "End": True},
            {"mock": {"result": "{}"}},
            "ValidationException",
            "State type 'Pass' is not supported when a mock is specified",
        ),
        (
            {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "B"}]},
            {"mock": {"errorOutput": {"error": "E"}}},
            "ValidationException",
            "State type 'Choice' is not supported when a mock is specified",
        ),
        (
            TASK,
            {"mock": {"result": "{}", "errorOutput": {"error": "E"}}},
            "ValidationException",
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ),
        (
            TASK,
            {"mock": {"fieldValidationMode": "NONE"}},
            "ValidationException",
            "A test mock should have one of the following fields: [result, errorOutput].",
        ),
        (
            TASK,
            {"mock": {"errorOutput": {"cause": "no error"}}},
            "ValidationException",
            "A mocked errorOutput must have an error (mock.errorOutput.error)",
        ),
        (
            TASK,
            {"mock": {"result": "{}"}, "revealSecrets": True},
            "ValidationException",
            "TestState does not support RevealSecrets when a mock is specified.",
        ),
        (TASK, {"mock": {"result": "{nope"}}, "ValidationException", "Mocked result must be valid JSON"),
        (MAP, {"mock": {"result": "{}"}}, "ValidationException", "Mocked result must be an array."),
        (
            {
                **MAP,
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}},
            },
            {"mock": {"result": "[]"}},
            "ValidationException",
            "Mocked result must be a JSON object.",
        ),
        (
            PARALLEL,
            {"mock": {"result": "[1]"}},
            "ValidationException",
            "Mocked result must contain the same number of items as number of Parallel branches.",
        ),
        (TASK, {}, "ValidationException", "RoleArn must be specified when testing a Task state"),
        (
            {**TASK, "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"},
            {"roleArn": ROLE},
            "InvalidDefinition",
            "TestState API supports Activity tasks and the .sync and .waitForTaskToken service "
            "integration patterns only when a mock is specified",
        ),
    ],
)
def test_what_a_request_may_not_ask(
    service: Service, state: dict[str, Any], params: dict[str, Any], error: str, message: str
) -> None:
    with refused(error, message):
        ask(service, state, **params)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"Execution": {"Id": 1}}, "Execution.Id must be a string"),
        ({"State": {"RetryCount": "0"}}, "State.RetryCount must be an integer"),
        ({"Map": {}}, "'Map' field is not supported when mocking a Context object"),
        ({"Execution": {"pokemon": "squirtle"}}, "Field 'pokemon' is not allowed"),
        ({"Pokedex": {}}, "Field 'Pokedex' is not allowed"),
        (
            {"Task": {"Token": "t"}},
            "Context object contains 'Task' when state is not a Task state with a '.sync' or "
            "'.waitForTaskToken' service integration pattern",
        ),
    ],
)
def test_a_context_object_is_checked(service: Service, context: dict[str, Any], message: str) -> None:
    with refused("ValidationException", f"Invalid Context object provided: {message}"):
        ask(service, TASK, mock={"result": "{}"}, context=json.dumps(context))


def test_a_context_object_needs_a_mock(service: Service) -> None:
    with refused("ValidationException", "A context object can only be specified together with a mock"):
        ask(service, {"Type": "Pass", "End": True}, context="{}")


def test_variables_and_the_state_configuration(service: Service) -> None:
    with refused("ValidationException", "Invalid variables: the value must be a JSON object"):
        ask(service, {"Type": "Pass", "End": True}, variables="[1]")
    with refused("ValidationException", "Invalid variables: '1st' is not a valid variable name"):
        ask(service, {"Type": "Pass", "End": True}, variables='{"1st": 1}')
    mock = {"result": "{}"}
    with refused("ValidationException", "mapIterationFailureCount can only be specified for a Map state"):
        ask(service, TASK, mock=mock, stateConfiguration={"mapIterationFailureCount": 1})
    with refused(
        "ValidationException", "mapItemReaderData can only be specified for a Map state with an ItemReader"
    ):
        ask(service, MAP, mock={"result": "[]"}, stateConfiguration={"mapItemReaderData": "[]"})
    error = {"errorOutput": {"error": "E"}}
    with refused("ValidationException", "errorCausedByState 'Nope' is not a state of the Map state"):
        ask(service, MAP, input="[]", mock=error, stateConfiguration={"errorCausedByState": "Nope"})
    caused = ask(service, PARALLEL, mock=error, stateConfiguration={"errorCausedByState": "B"})
    assert (caused["status"], caused["error"]) == ("FAILED", "E")


def test_an_item_reader_reads_the_given_data(service: Service) -> None:
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {},
    }
    state = {**MAP, "ItemReader": reader, "ItemSelector": {"v.$": "$$.Map.Item.Value"}}
    done = ask(
        service,
        state,
        mock={"result": "[0]"},
        stateConfiguration={"mapItemReaderData": "[7, 8]"},
        inspectionLevel="DEBUG",
    )
    assert json.loads(done["inspectionData"]["afterItemSelector"]) == [{"v": 7}, {"v": 8}]
    with refused(
        "ValidationException", "Invalid mapItemReaderData: the ItemReader's data must be a JSON array"
    ):
        ask(service, state, mock={"result": "[0]"}, stateConfiguration={"mapItemReaderData": "{}"})
