"""HTTP tasks run by the engine against a real HTTP server on 127.0.0.1: requests, results, errors,
Retry and Catch, timeouts, and the credentials connections add."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from podium.cli import main
from podium.connectors.connections import Connection, Connections, OAuthClient
from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.connectors.http import HttpConnector
from podium.runtime.engine import Engine
from podium.store.memory import MemoryStore
from podium.store.records import ExecutionRecord
from tests.connectors.http_server import LocalServer, local_server

HTTP = "arn:aws:states:::http:invoke"
ARN = "arn:aws:events:us-east-1:123456789012:connection/{name}/0b1c2d3e-0000-0000-0000-000000000000"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


def connections(server: LocalServer) -> Connections:
    return Connections(
        by_name={
            "open": Connection("open"),
            "keyed": Connection("keyed", "API_KEY", api_key_name="x-api-key", api_key_value="k-123"),
            "basic": Connection("basic", "BASIC", username="podium", password="s3cret"),
            "merged": Connection(
                "merged",
                headers={"Header-Param": "connection_header_param"},
                query={"QueryParam": "connection_query_param"},
                body={"BodyParam": "connection_body_param"},
            ),
            "oauth": Connection(
                "oauth",
                "OAUTH_CLIENT_CREDENTIALS",
                oauth=OAuthClient(
                    f"{server.url}/token", "client-1", "client-secret", body={"audience": "podium-tests"}
                ),
            ),
        }
    )


@pytest.fixture
def engine(server: LocalServer) -> Iterator[Engine]:
    http = HttpConnector(connections(server), region="eu-west-1", request_limit_seconds=1.5)
    functions = FunctionConnector(FunctionRegistry({"noop": lambda event: event}))
    try:
        with Engine(MemoryStore(), connectors=[functions, http]) as running:
            yield running
    finally:
        http.close()


def task(connection: str = "open", **parameters: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": HTTP,
        "Parameters": {"Authentication": {"ConnectionArn": ARN.format(name=connection)}, **parameters},
    }


def run(
    engine: Engine, states: dict[str, Any], input_value: Any = None, timeout: float = 20
) -> ExecutionRecord:
    first = next(iter(states))
    definition = json.dumps({"StartAt": first, "States": states})
    machine = engine.create_state_machine(f"http-{time.monotonic_ns()}", definition)
    started = engine.start_execution(machine.arn, input_value if input_value is not None else {})
    record = engine.wait(started.arn, timeout=timeout)
    assert record.status != "RUNNING", "the execution did not finish in time"
    return record


def output(record: ExecutionRecord) -> Any:
    assert record.status == "SUCCEEDED", (record.error, record.cause)
    return json.loads(record.output or "null")


def one(**state: Any) -> dict[str, Any]:
    return {"Call": {**state, "End": True}}


# --- requests and results ----------------------------------------------------------------


def test_a_get_with_headers_and_query_reports_the_response_as_aws_does(
    engine: Engine, server: LocalServer
) -> None:
    record = run(
        engine,
        one(
            **task(
                ApiEndpoint=f"{server.url}/echo",
                Method="GET",
                Headers={"X-Custom": ["one", "two"], "X-Number": 7},
                QueryParameters={"q.$": "$.query", "tag": ["blue", "green"], "ignored": None},
            )
        ),
        {"query": "red shoes"},
    )
    result = output(record)
    assert list(result) == ["Headers", "ResponseBody", "StatusCode", "StatusText"]
    assert (result["StatusCode"], result["StatusText"]) == (200, "OK")
    assert result["Headers"]["content-type"] == ["application/json"]
    assert result["Headers"]["x-multi"] == ["one", "two"]
    echoed = result["ResponseBody"]  # parsed, since the server said application/json
    assert echoed["method"] == "GET"
    assert echoed["query"] == "q=red%20shoes&tag=blue&tag=green"
    received = server.recorder.on("/echo")[0]
    assert received.header_values("X-Custom") == ["one", "two"]
    assert received.header("X-Number") == "7"
    assert received.header("User-Agent") == "Amazon|StepFunctions|HttpInvoke|eu-west-1"
    assert received.header("Range") == "bytes=0-262144"
    # What Step Functions sends and nothing of httpx's own: no Accept-Encoding, no Accept.
    assert received.header("Accept-Encoding") is None and received.header("Accept") is None
    assert received.body == b""
    types = [e.type for e in engine.store.history(record.arn)]
    assert types[1:5] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = next(e for e in engine.store.history(record.arn) if e.type == "TaskScheduled")
    assert (scheduled.details["resourceType"], scheduled.details["resource"]) == ("http", "invoke")


def test_a_post_sends_compact_json_and_a_text_response_stays_text(
    engine: Engine, server: LocalServer
) -> None:
    post = task(
        ApiEndpoint=f"{server.url}/echo",
        Method="POST",
        RequestBody={"Card": {"Number.$": "$.card", "Name": "Zoë"}},
    )
    put = task(ApiEndpoint=f"{server.url}/text", Method="PUT", RequestBody="plain words")
    states = {"Post": {**post, "Next": "Text"}, "Text": {**put, "ResultPath": "$.text", "End": True}}
    record = run(engine, states, {"card": "4111"})
    result = output(record)
    assert result["text"]["ResponseBody"] == "hello, podium"
    assert result["text"]["Headers"]["content-type"] == ["text/plain; charset=utf-8"]
    posted = server.recorder.on("/echo")[0]
    assert posted.method == "POST"
    assert posted.header("Content-Type") == "application/json; charset=UTF-8"
    assert posted.body == '{"Card":{"Number":"4111","Name":"Zoë"}}'.encode()
    put = server.recorder.on("/text")[0]
    assert (put.method, put.body) == ("PUT", b"plain words")


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", [("items[0]", "a"), ("items[1]", "b c"), ("meta[k]", "v"), ("n", "1")]),
        ("REPEAT", [("items", "a"), ("items", "b c"), ("meta[k]", "v"), ("n", "1")]),
        ("COMMAS", [("items", "a,b c"), ("meta[k]", "v"), ("n", "1")]),
        ("BRACKETS", [("items[]", "a"), ("items[]", "b c"), ("meta[k]", "v"), ("n", "1")]),
    ],
)
def test_url_encoded_bodies_in_each_array_format(
    engine: Engine, server: LocalServer, array_format: str, expected: list[tuple[str, str]]
) -> None:
    transform = {
        "RequestBodyEncoding": "URL_ENCODED",
        "RequestEncodingOptions": {"ArrayFormat": array_format},
    }
    record = run(
        engine,
        one(
            **task(
                ApiEndpoint=f"{server.url}/echo",
                Method="POST",
                Headers={"Content-Type": "application/x-www-form-urlencoded"},
                RequestBody={"items": ["a", "b c"], "meta": {"k": "v"}, "n": 1},
                Transform=transform,
            )
        ),
    )
    output(record)
    received = server.recorder.on("/echo")[0]
    assert received.header("Content-Type") == "application/x-www-form-urlencoded"
    assert parse_qsl(received.body.decode(), keep_blank_values=True) == expected


def test_the_connections_headers_query_and_body_win_over_the_definitions(
    engine: Engine, server: LocalServer
) -> None:
    """AWS's data-merging example, end to end."""
    record = run(
        engine,
        one(
            **task(
                "merged",
                ApiEndpoint=f"{server.url}/echo",
                Method="POST",
                Headers={"Request-Id": "my_request_id", "Header-Param": "state_machine_header_param"},
                RequestBody={"Job": "Software Engineer", "Company": "AnyCompany", "BodyParam": "mine"},
                QueryParameters={"QueryParam": "state_machine_query_param"},
            )
        ),
    )
    output(record)
    received = server.recorder.on("/echo")[0]
    assert received.query == "QueryParam=connection_query_param"
    assert received.header_values("Header-Param") == ["connection_header_param"]
    assert received.header("Request-Id") == "my_request_id"
    assert json.loads(received.body) == {
        "Job": "Software Engineer",
        "Company": "AnyCompany",
        "BodyParam": "connection_body_param",
    }


def test_api_key_and_basic_connections_add_their_headers(engine: Engine, server: LocalServer) -> None:
    record = run(
        engine,
        {
            "Keyed": {**task("keyed", ApiEndpoint=f"{server.url}/echo", Method="GET"), "Next": "Basic"},
            "Basic": {**task("basic", ApiEndpoint=f"{server.url}/echo", Method="DELETE"), "End": True},
        },
    )
    output(record)
    keyed, basic = server.recorder.on("/echo")
    assert keyed.header("x-api-key") == "k-123" and keyed.header("Authorization") is None
    assert basic.method == "DELETE"
    assert basic.header("Authorization") == "Basic " + base64.b64encode(b"podium:s3cret").decode()


def test_an_oauth_connection_fetches_a_token_once_and_again_on_401(
    engine: Engine, server: LocalServer
) -> None:
    call = task("oauth", ApiEndpoint=f"{server.url}/protected", Method="GET")
    assert output(run(engine, one(**call)))["ResponseBody"] == {"ok": True}
    assert output(run(engine, one(**call)))["ResponseBody"] == {"ok": True}
    tokens = server.recorder.on("/token")
    assert len(tokens) == 1  # cached for the second task
    grant = tokens[0]
    assert grant.method == "POST"
    assert grant.header("Authorization") == "Basic " + base64.b64encode(b"client-1:client-secret").decode()
    assert dict(parse_qsl(grant.body.decode())) == {
        "grant_type": "client_credentials",
        "audience": "podium-tests",
    }
    # The API stops taking the token (another client rotated it): one 401, a new token, success.
    server.recorder.tokens_issued += 1
    assert output(run(engine, one(**call)))["ResponseBody"] == {"ok": True}
    assert len(server.recorder.on("/token")) == 2
    assert [r.header("Authorization") for r in server.recorder.on("/protected")][-2:] == [
        "Bearer token-1",
        "Bearer token-3",
    ]


def test_head_and_204_answers_have_no_response_body(engine: Engine, server: LocalServer) -> None:
    head = task(ApiEndpoint=f"{server.url}/echo", Method="HEAD")
    empty = task(ApiEndpoint=f"{server.url}/empty", Method="PATCH")
    states = {
        "Head": {**head, "ResultPath": "$.head", "Next": "Empty"},
        "Empty": {**empty, "ResultPath": "$.empty", "End": True},
    }
    record = run(engine, states)
    result = output(record)
    assert result["head"]["Headers"]["x-head"] == ["yes"] and "ResponseBody" not in result["head"]
    assert result["empty"] == {
        "Headers": result["empty"]["Headers"],
        "StatusCode": 204,
        "StatusText": "No Content",
    }


# --- failures, Retry and Catch ---------------------------------------------------------------


def test_a_4xx_is_caught_by_catch_with_the_status_text_as_cause(engine: Engine, server: LocalServer) -> None:
    states = {
        "Call": {
            **task(ApiEndpoint=f"{server.url}/status/404", Method="GET"),
            "Catch": [
                {"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.error", "Next": "Handled"}
            ],
            "End": True,
        },
        "Handled": {"Type": "Pass", "End": True},
    }
    result = output(run(engine, states, {"order": 1}))
    assert result == {"order": 1, "error": {"Error": "States.Http.StatusCode.404", "Cause": "Not Found"}}


def test_a_5xx_is_retried_by_retry_until_it_succeeds(engine: Engine, server: LocalServer) -> None:
    retry = {
        "ErrorEquals": ["States.Http.StatusCode.503"],
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 1,
    }
    states = one(
        **task(ApiEndpoint=f"{server.url}/flaky/payments/2", Method="POST", RequestBody={"amount": 5}),
        Retry=[retry],
    )
    record = run(engine, states)
    assert output(record)["ResponseBody"] == {"calls": 3}
    assert server.recorder.calls["/flaky/payments/2"] == 3
    failed = [e for e in engine.store.history(record.arn) if e.type == "TaskFailed"]
    assert [(e.details["error"], e.details["cause"]) for e in failed] == [
        ("States.Http.StatusCode.503", "Service Unavailable")
    ] * 2


def test_an_uncaught_5xx_fails_the_execution(engine: Engine, server: LocalServer) -> None:
    record = run(engine, one(**task(ApiEndpoint=f"{server.url}/status/500", Method="GET")))
    assert (record.status, record.error, record.cause) == (
        "FAILED",
        "States.Http.StatusCode.500",
        "Internal Server Error",
    )


def test_a_redirect_is_not_followed(engine: Engine, server: LocalServer) -> None:
    record = run(engine, one(**task("keyed", ApiEndpoint=f"{server.url}/redirect", Method="GET")))
    assert (record.error, record.cause) == ("States.Http.StatusCode.302", "Found")
    assert server.recorder.on("/echo") == []  # the API key never went anywhere else


def test_task_timeout_seconds_times_the_task_out_as_states_timeout(
    engine: Engine, server: LocalServer
) -> None:
    states = {
        "Call": {
            **task(ApiEndpoint=f"{server.url}/slow/3", Method="GET"),
            "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}],
            "End": True,
        },
        "TimedOut": {"Type": "Pass", "End": True},
    }
    began = time.monotonic()
    record = run(engine, states)
    assert time.monotonic() - began < 2.5  # the core's timer, not the server's 3 s
    assert output(record)["error"]["Error"] == "States.Timeout"
    types = [e.type for e in engine.store.history(record.arn)]
    assert "TaskTimedOut" in types and "TaskFailed" not in types


def test_no_answer_within_the_request_limit_is_states_http_socket(
    engine: Engine, server: LocalServer
) -> None:
    # AWS gives up after 60 s; this engine's connector after 1.5 s.
    states = one(
        **task(ApiEndpoint=f"{server.url}/slow/4", Method="GET"),
        Retry=[{"ErrorEquals": ["States.Http.Socket"], "IntervalSeconds": 1, "MaxAttempts": 1}],
    )
    record = run(engine, states)
    assert (record.status, record.error) == ("FAILED", "States.Http.Socket")
    assert "timed out after 1.5 seconds" in (record.cause or "")
    assert server.recorder.calls["/slow/4"] == 2  # the retry ran


def test_a_refused_connection_is_states_http_socket(engine: Engine) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    record = run(engine, one(**task(ApiEndpoint=f"http://127.0.0.1:{port}/x", Method="GET")))
    assert (record.status, record.error) == ("FAILED", "States.Http.Socket")
    assert f"http://127.0.0.1:{port}" in (record.cause or "")


def test_binary_and_oversized_responses_fail_as_aws_says(engine: Engine, server: LocalServer) -> None:
    binary = run(engine, one(**task(ApiEndpoint=f"{server.url}/binary", Method="GET")))
    assert (binary.error, binary.status) == ("States.Runtime", "FAILED")
    big = run(engine, one(**task(ApiEndpoint=f"{server.url}/big/300000", Method="GET")))
    assert big.error == "States.DataLimitExceeded"


def test_a_forbidden_header_fails_before_anything_is_sent(engine: Engine, server: LocalServer) -> None:
    record = run(
        engine,
        one(**task(ApiEndpoint=f"{server.url}/echo", Method="GET", Headers={"Authorization": "Bearer x"})),
    )
    assert (record.error, record.cause) == (
        "States.Runtime",
        "The 'Headers' field contains unsupported values: [authorization]",
    )
    assert server.recorder.requests == []


def test_an_unknown_connection_fails_with_resource_not_found(engine: Engine, server: LocalServer) -> None:
    record = run(engine, one(**task("nobody", ApiEndpoint=f"{server.url}/echo", Method="GET")))
    assert record.error == "Events.ConnectionResource.ResourceNotFound"


def test_slow_calls_do_not_hold_up_the_engine(engine: Engine, server: LocalServer) -> None:
    """Four 1-second calls in a Parallel, beside a function task: about 1 s, not 4."""
    slow = task(ApiEndpoint=f"{server.url}/slow/1", Method="GET")
    branches = [{"StartAt": f"Slow{i}", "States": {f"Slow{i}": {**slow, "End": True}}} for i in range(4)]
    noop = {"Type": "Task", "Resource": "podium:function:noop", "End": True}
    branches.append({"StartAt": "Quick", "States": {"Quick": noop}})
    began = time.monotonic()
    record = run(engine, {"Fan": {"Type": "Parallel", "Branches": branches, "End": True}})
    assert len(output(record)) == 5
    assert time.monotonic() - began < 2.5


# --- the command line ------------------------------------------------------------------------


def test_podium_run_with_a_connections_file(
    tmp_path: Path, server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "connections.yaml").write_text(
        "connections:\n"
        "  local:\n"
        "    type: API_KEY\n"
        "    parameters: {name: x-api-key, value: '${TEST_HTTP_KEY}'}\n"
    )
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                **task("local", ApiEndpoint=f"{server.url}/echo", Method="GET"),
                "ResultSelector": {"status.$": "$.StatusCode"},
                "End": True,
            }
        },
    }
    (tmp_path / "call.asl.json").write_text(json.dumps(definition))
    args = ["run", str(tmp_path / "call.asl.json"), "--db", str(tmp_path / "p.db")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TEST_HTTP_KEY", "from-env")
        assert main([*args, "--connections", str(tmp_path / "connections.yaml")]) == 0
    assert json.loads(capsys.readouterr().out) == {"status": 200}
    assert server.recorder.on("/echo")[0].header("x-api-key") == "from-env"
    assert main([*args, "--connections", str(tmp_path / "missing.yaml")]) == 2
    assert "no such connections file" in capsys.readouterr().err


def test_the_server_assembly_attaches_http_to_both_engines(tmp_path: Path) -> None:
    from podium.service import engines
    from podium.service.assembly import ServiceConfig, assemble

    assembly = assemble(ServiceConfig(db=str(tmp_path / "s.db")))
    try:
        engines.attach(assembly.service)
        for engine in (assembly.engine, assembly.service.express_engine):
            assert any(isinstance(c, HttpConnector) for c in engine.connectors)
    finally:
        assembly.stop()
