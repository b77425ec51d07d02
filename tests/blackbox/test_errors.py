"""Errors as AWS names them (`__type`), through boto3 and as raw HTTP; and signed requests."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from tests.blackbox.conftest import SIGNING_KEY, SIGNING_SECRET
from tests.blackbox.process import ACCOUNT, REGION, ROLE, PodiumProcess, client, definition, wait_for_end
from tests.blackbox.test_state_machines import error_of

MISSING_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:no-such-machine"
TARGET = "AWSStepFunctions."
JSON_1_0 = "application/x-amz-json-1.0"


@dataclass(frozen=True)
class World:
    """What the error cases need to exist: a state machine, a running execution, a finished one."""

    machine: str
    running: str
    finished: str


@pytest.fixture(scope="module")
def world(sfn: Any) -> Iterator[World]:
    text = definition(
        {
            "Choose": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.wait", "BooleanEquals": True, "Next": "Wait"}],
                "Default": "Done",
            },
            "Wait": {"Type": "Wait", "Seconds": 600, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        }
    )
    machine = sfn.create_state_machine(name="errors-world", definition=text, roleArn=ROLE)["stateMachineArn"]
    running = sfn.start_execution(stateMachineArn=machine, name="running", input='{"wait": true}')[
        "executionArn"
    ]
    finished = sfn.start_execution(stateMachineArn=machine, name="finished", input='{"wait": false}')[
        "executionArn"
    ]
    wait_for_end(sfn, finished)
    yield World(machine, running, finished)
    sfn.stop_execution(executionArn=running)


Case = Callable[[Any, World], Any]
CASES: list[tuple[str, Case, str]] = [
    (
        "describe a missing state machine",
        lambda s, w: s.describe_state_machine(stateMachineArn=MISSING_MACHINE),
        "StateMachineDoesNotExist",
    ),
    (
        "start a missing state machine",
        lambda s, w: s.start_execution(stateMachineArn=MISSING_MACHINE),
        "StateMachineDoesNotExist",
    ),
    (
        "start a missing version",
        lambda s, w: s.start_execution(stateMachineArn=f"{w.machine}:99"),
        "StateMachineDoesNotExist",
    ),
    (
        "describe a missing execution",
        lambda s, w: s.describe_execution(executionArn=w.running.replace(":running", ":nobody")),
        "ExecutionDoesNotExist",
    ),
    (
        "history of a missing execution",
        lambda s, w: s.get_execution_history(executionArn=w.running.replace(":running", ":nobody")),
        "ExecutionDoesNotExist",
    ),
    (
        "stop a missing execution",
        lambda s, w: s.stop_execution(executionArn=w.running.replace(":running", ":x")),
        "ExecutionDoesNotExist",
    ),
    (
        "start a name already used",
        lambda s, w: s.start_execution(stateMachineArn=w.machine, name="finished"),
        "ExecutionAlreadyExists",
    ),
    (
        "create with a definition that is not ASL",
        lambda s, w: s.create_state_machine(name="bad-def", definition='{"StartAt": 1}', roleArn=ROLE),
        "InvalidDefinition",
    ),
    (
        "update with a definition that is not ASL",
        lambda s, w: s.update_state_machine(stateMachineArn=w.machine, definition="{}"),
        "InvalidDefinition",
    ),
    (
        "an ARN that is no ARN",
        lambda s, w: s.describe_state_machine(stateMachineArn="machine-1"),
        "InvalidArn",
    ),
    (
        "an execution ARN for a state machine",
        lambda s, w: s.describe_state_machine(stateMachineArn=w.running),
        "InvalidArn",
    ),
    (
        "a state machine ARN for an execution",
        lambda s, w: s.describe_execution(executionArn=w.machine),
        "InvalidArn",
    ),
    (
        "a state machine name with a space",
        lambda s, w: s.create_state_machine(
            name="my machine", definition=definition({"P": {"Type": "Pass", "End": True}}), roleArn=ROLE
        ),
        "InvalidName",
    ),
    (
        "an execution name with a slash",
        lambda s, w: s.start_execution(stateMachineArn=w.machine, name="a/b"),
        "InvalidName",
    ),
    (
        "input that is not JSON",
        lambda s, w: s.start_execution(stateMachineArn=w.machine, input="{wait: true}"),
        "InvalidExecutionInput",
    ),
    (
        "a task token podium never gave",
        lambda s, w: s.send_task_success(taskToken="x" * 40, output="{}"),
        "InvalidToken",
    ),
    (
        "a next token of another list",
        lambda s, w: s.list_executions(
            stateMachineArn=w.machine,
            nextToken=s.list_state_machines(maxResults=1).get("nextToken") or "e30=",
        ),
        "InvalidToken",
    ),
    (
        "maxResults out of range",
        lambda s, w: s.list_executions(stateMachineArn=w.machine, maxResults=5000),
        "ValidationException",
    ),
    (
        "a status filter that is no status",
        lambda s, w: s.list_executions(stateMachineArn=w.machine, statusFilter="SLEEPING"),
        "ValidationException",
    ),
    (
        "an alias weight over 100",
        lambda s, w: s.create_state_machine_alias(
            name="a", routingConfiguration=[{"stateMachineVersionArn": f"{w.machine}:1", "weight": 101}]
        ),
        "ValidationException",
    ),
    (
        "publish a revision that is not the current one",
        lambda s, w: s.publish_state_machine_version(stateMachineArn=w.machine, revisionId="stale"),
        "ConflictException",
    ),
    (
        "redrive a running execution",
        lambda s, w: s.redrive_execution(executionArn=w.running),
        "ExecutionNotRedrivable",
    ),
    (
        "sync start of a STANDARD machine",
        lambda s, w: s.start_sync_execution(stateMachineArn=w.machine),
        "StateMachineTypeNotSupported",
    ),
    (
        "an activity that does not exist",
        lambda s, w: s.describe_activity(activityArn=f"arn:aws:states:{REGION}:{ACCOUNT}:activity:nope"),
        "ActivityDoesNotExist",
    ),
]


@pytest.mark.parametrize(("call", "code"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_errors_have_aws_types(sfn: Any, world: World, call: Case, code: str) -> None:
    found, message = error_of(lambda: call(sfn, world))
    assert found == code, message
    assert message and "Traceback" not in message


def test_a_closed_task_token_is_task_timed_out(sfn: Any, endpoint: str) -> None:
    activity = sfn.create_activity(name="errors-closed-token")["activityArn"]
    text = definition({"Work": {"Type": "Task", "Resource": activity, "End": True}})
    machine = sfn.create_state_machine(name="errors-closed-token", definition=text, roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    token = client(endpoint).get_activity_task(activityArn=activity)["taskToken"]
    sfn.stop_execution(executionArn=execution)
    code, message = error_of(lambda: sfn.send_task_success(taskToken=token, output="{}"))
    assert code == "TaskTimedOut", message


# --- payload limits --------------------------------------------------------------------------


def test_an_oversized_input_is_refused_in_aws_words(sfn: Any, world: World) -> None:
    big = json.dumps("x" * (256 * 1024))  # 262,146 bytes: two over the 256 KiB limit
    code, message = error_of(lambda: sfn.start_execution(stateMachineArn=world.machine, input=big))
    assert code == "ValidationException"
    assert (
        "'input' failed to satisfy constraint: Member must have length less than or equal to 262144"
        in message
    )
    # Exactly at the limit is accepted.
    at_limit = json.dumps("x" * (256 * 1024 - 2))
    started = sfn.start_execution(stateMachineArn=world.machine, input=at_limit)
    assert started["executionArn"]


def test_an_oversized_task_output_is_refused(sfn: Any) -> None:
    code, message = error_of(
        lambda: sfn.send_task_success(taskToken="t" * 40, output='"' + "y" * 300_000 + '"')
    )
    assert code == "ValidationException" and "'output'" in message


# --- raw HTTP: what no SDK sends ------------------------------------------------------------


def post(endpoint: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{endpoint}/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def headers(action: str) -> dict[str, str]:
    return {"X-Amz-Target": TARGET + action, "Content-Type": JSON_1_0}


@pytest.mark.parametrize(
    ("body", "request_headers", "status", "error", "words"),
    [
        (b"{not json", headers("ListStateMachines"), 400, "SerializationException", "not valid JSON"),
        (b"[1, 2]", headers("ListStateMachines"), 400, "SerializationException", "must be a JSON object"),
        (
            b'{"name": 5}',
            headers("CreateActivity"),
            400,
            "SerializationException",
            "Expected a string at 'name'",
        ),
        (
            b'{"bogus": 1}',
            headers("ListStateMachines"),
            400,
            "SerializationException",
            "Unknown member 'bogus'",
        ),
        (
            b"{}",
            headers("CreateActivity"),
            400,
            "ValidationException",
            "Value null at 'name' failed to satisfy constraint: Member must not be null",
        ),
        (
            b"{}",
            headers("FrobnicateStateMachine"),
            400,
            "UnknownOperationException",
            "FrobnicateStateMachine",
        ),
        (b"{}", {"Content-Type": JSON_1_0}, 400, "UnknownOperationException", "X-Amz-Target"),
    ],
    ids=[
        "malformed JSON",
        "not an object",
        "wrong type",
        "unknown member",
        "missing member",
        "unknown action",
        "no target",
    ],
)
def test_malformed_requests_are_clear_400s(
    endpoint: str, body: bytes, request_headers: dict[str, str], status: int, error: str, words: str
) -> None:
    found_status, found = post(endpoint, body, request_headers)
    assert (found_status, found["__type"]) == (status, error), found
    assert words in found["message"]
    assert "Traceback" not in found["message"]


def test_a_body_over_the_request_limit_is_a_413(endpoint: str) -> None:
    body = json.dumps({"name": "x" * (7 * 1024 * 1024)}).encode()
    status, found = post(endpoint, body, headers("CreateActivity"))
    assert (status, found["__type"]) == (413, "RequestEntityTooLarge")
    assert "exceeds the limit" in found["message"]


def test_a_client_that_hangs_up_mid_request_is_no_server_failure(podium: PodiumProcess) -> None:
    host, port = podium.endpoint.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST / HTTP/1.1\r\nHost: podium\r\nX-Amz-Target: AWSStepFunctions.ListActivities\r\n"
            b'Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{"maxRes'
        )
    # The server goes on serving; nothing is logged as a failure (the session's server is checked
    # for tracebacks when it stops).
    status, found = post(podium.endpoint, b"{}", headers("ListActivities"))
    assert status == 200 and "activities" in found
    assert "ClientDisconnect" not in podium.stderr


def test_health_and_unknown_paths(endpoint: str) -> None:
    with urllib.request.urlopen(f"{endpoint}/health", timeout=10) as response:
        health = json.loads(response.read())
    assert health["ok"] is True and health["store"].startswith("sqlite:")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{endpoint}/nowhere", timeout=10)
    with caught.value as error:
        assert error.code == 404 and json.loads(error.read())["__type"] == "NotFound"


# --- a server with credentials -------------------------------------------------------------


def signed_error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"]), str(response["Error"]["Code"])


def test_with_credentials_every_request_must_be_signed(signed_podium: PodiumProcess) -> None:
    endpoint = signed_podium.endpoint
    sfn = client(endpoint, key=SIGNING_KEY, secret=SIGNING_SECRET)
    text = definition({"P": {"Type": "Pass", "Result": "signed", "End": True}})
    machine = sfn.create_state_machine(name="signed", definition=text, roleArn=ROLE, type="EXPRESS")[
        "stateMachineArn"
    ]
    assert json.loads(sfn.start_sync_execution(stateMachineArn=machine, input="{}")["output"]) == "signed"
    assert [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]] == [machine]

    unsigned = client(endpoint, signature_version=UNSIGNED)
    assert signed_error(unsigned.list_state_machines) == (403, "AccessDeniedException")
    wrong_secret = client(endpoint, key=SIGNING_KEY, secret="not-the-secret")
    assert signed_error(wrong_secret.list_state_machines) == (403, "InvalidSignatureException")
    unknown_key = client(endpoint, key="AKIDSOMEONEELSE", secret=SIGNING_SECRET)
    assert signed_error(unknown_key.list_state_machines) == (403, "UnrecognizedClientException")
    # A refused request changes nothing.
    assert signed_error(lambda: wrong_secret.delete_state_machine(stateMachineArn=machine)) == (
        403,
        "InvalidSignatureException",
    )
    assert sfn.describe_state_machine(stateMachineArn=machine)["name"] == "signed"
    # The probe needs no signature.
    with urllib.request.urlopen(f"{endpoint}/health", timeout=10) as response:
        assert json.loads(response.read())["ok"] is True
