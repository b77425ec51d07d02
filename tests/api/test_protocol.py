"""AWS JSON 1.0 over HTTP, at the protocol level: the app in-process with a fake Service."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest

from podium.api.app import ApiSettings
from podium.api.errors import AccessDeniedException, ExecutionAlreadyExists, StateMachineDoesNotExist
from podium.api.protocol import CONTENT_TYPE, without_nulls

from .conftest import MACHINE_ARN, AppFactory, FakeService, call, error_of, headers, http_client

pytestmark = pytest.mark.anyio


# --- the happy path ------------------------------------------------------------------------


async def test_an_action_answers_in_aws_json(client: httpx.AsyncClient, service: FakeService) -> None:
    response = await call(client, "ListStateMachines", {"maxResults": 10})
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.headers["x-amzn-requestid"]
    assert response.json() == {
        "stateMachines": [
            {"stateMachineArn": MACHINE_ARN, "name": "hello", "type": "STANDARD", "creationDate": 1.5}
        ]
    }
    assert service.calls == [("ListStateMachines", {"maxResults": 10})]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-amz-json-1.0; charset=utf-8", None]
)
async def test_json_content_types_and_none_are_accepted(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    response = await call(client, "ListStateMachines", headers=headers("ListStateMachines", content_type))
    assert response.status_code == 200


async def test_an_empty_body_is_no_parameters(client: httpx.AsyncClient, service: FakeService) -> None:
    response = await call(client, "ListStateMachines", content=b"")
    assert response.status_code == 200
    assert service.calls == [("ListStateMachines", {})]


async def test_members_sent_as_null_reach_the_handler_absent(
    client: httpx.AsyncClient, service: FakeService
) -> None:
    response = await call(client, "ListStateMachines", {"maxResults": None, "nextToken": "abc"})
    assert response.status_code == 200
    assert service.calls == [("ListStateMachines", {"nextToken": "abc"})]


async def test_timestamps_go_out_as_epoch_seconds(make_app: AppFactory, service: FakeService) -> None:
    # The convention is floats; a datetime still goes out right instead of failing.
    service.handlers["DescribeActivity"] = lambda params: {
        "activityArn": params["activityArn"],
        "name": "work",
        "creationDate": datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
    }
    async with http_client(make_app(ApiSettings())) as client:
        response = await call(client, "DescribeActivity", {"activityArn": "arn:aws:states:::activity:work"})
    assert response.json()["creationDate"] == 1704164645.5


async def test_members_returned_as_none_are_left_out(client: httpx.AsyncClient, service: FakeService) -> None:
    service.handlers["ListStateMachines"] = lambda params: {"stateMachines": [], "nextToken": None}
    response = await call(client, "ListStateMachines")
    assert response.json() == {"stateMachines": []}


def test_without_nulls_drops_none_members_at_any_depth() -> None:
    value = {"a": None, "b": [{"c": None, "d": 1}], "e": {"f": {"g": None}}}
    assert without_nulls(value) == {"b": [{"d": 1}], "e": {"f": {}}}


# --- requests the protocol refuses ---------------------------------------------------------


async def test_malformed_json_is_a_serialization_exception(client: httpx.AsyncClient) -> None:
    status, type_, message = error_of(await call(client, "ListStateMachines", content=b'{"maxResults": '))
    assert (status, type_) == (400, "SerializationException")
    assert "not valid JSON" in message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[]", "must be a JSON object, not an array"),
        (b'"x"', "must be a JSON object, not a string"),
        (b'{"maxResults": NaN}', "NaN is not valid JSON"),
        (b'{"name": "\xff"}', "not UTF-8"),
    ],
)
async def test_bodies_that_are_not_a_json_object_are_refused(
    client: httpx.AsyncClient, body: bytes, words: str
) -> None:
    status, type_, message = error_of(await call(client, "ListStateMachines", content=body))
    assert (status, type_) == (400, "SerializationException")
    assert words in message


async def test_a_body_that_is_not_json_by_its_content_type_is_refused(client: httpx.AsyncClient) -> None:
    response = await call(client, "ListStateMachines", headers=headers("ListStateMachines", "text/plain"))
    status, type_, message = error_of(response)
    assert (status, type_) == (400, "SerializationException")
    assert "application/x-amz-json-1.0" in message


async def test_a_request_without_target_says_what_to_send(client: httpx.AsyncClient) -> None:
    response = await client.post("/", content=b"{}", headers={"Content-Type": CONTENT_TYPE})
    status, type_, message = error_of(response)
    assert (status, type_) == (400, "UnknownOperationException")
    assert "X-Amz-Target" in message and "AWSStepFunctions.ListStateMachines" in message


@pytest.mark.parametrize(
    "target", ["AWSStepFunctions.Frobnicate", "AmazonSQS.SendMessage", "AWSStepFunctions."]
)
async def test_unknown_actions_are_unknown_operations(client: httpx.AsyncClient, target: str) -> None:
    response = await client.post(
        "/", content=b"{}", headers={"X-Amz-Target": target, "Content-Type": CONTENT_TYPE}
    )
    assert error_of(response)[:2] == (400, "UnknownOperationException")


async def test_an_action_of_the_api_that_the_service_lacks_is_an_unknown_operation(
    client: httpx.AsyncClient,
) -> None:
    response = await call(client, "DescribeMapRun", {"mapRunArn": "arn:aws:states:::mapRun:x"})
    assert error_of(response)[:2] == (400, "UnknownOperationException")


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/", 405), ("PUT", "/", 405), ("GET", "/x", 404)]
)
async def test_wrong_methods_and_paths_answer_json(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == CONTENT_TYPE
    assert set(response.json()) == {"__type", "message"}
    if status == 405:
        assert response.headers["allow"] == "POST"


async def test_a_post_to_another_path_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/2016-11-23/", content=b"{}", headers=headers("ListStateMachines"))
    assert error_of(response)[:2] == (404, "NotFound")


# --- limits --------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(make_app: AppFactory, service: FakeService) -> None:
    async with http_client(make_app(ApiSettings(body_limit=1000))) as client:
        body = b'{"nextToken": "' + b"x" * 2000 + b'"}'
        status, type_, message = error_of(await call(client, "ListStateMachines", content=body))
    assert (status, type_) == (413, "RequestEntityTooLarge")
    assert message == f"Request body of {len(body)} bytes exceeds the limit of 1000 bytes"
    assert service.calls == []


async def test_a_streamed_body_over_the_limit_is_413(make_app: AppFactory) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 100

    async with http_client(make_app(ApiSettings(body_limit=1000))) as client:
        response = await client.post("/", content=chunks(), headers=headers("ListStateMachines"))
    assert error_of(response)[:2] == (413, "RequestEntityTooLarge")


def test_the_default_body_limit_fits_the_largest_member_escaped() -> None:
    # A 1 MiB definition of control characters is 6 MiB of JSON.
    assert ApiSettings().effective_body_limit >= 6 * 1024 * 1024
    assert ApiSettings(payload_limit=4 * 1024 * 1024).effective_body_limit >= 24 * 1024 * 1024


# --- errors of the service -----------------------------------------------------------------


async def test_an_api_error_goes_out_with_its_type_status_and_message(
    client: httpx.AsyncClient, service: FakeService
) -> None:
    def describe(params: dict[str, Any]) -> dict[str, Any]:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{params['stateMachineArn']}'")

    service.handlers["DescribeStateMachine"] = describe
    response = await call(client, "DescribeStateMachine", {"stateMachineArn": MACHINE_ARN})
    assert error_of(response) == (
        400,
        "StateMachineDoesNotExist",
        f"State Machine Does Not Exist: '{MACHINE_ARN}'",
    )


async def test_an_action_with_a_loop_form_runs_on_the_event_loop(
    client: httpx.AsyncClient, service: FakeService
) -> None:
    ran_on: list[str] = []

    async def start(params: dict[str, Any]) -> dict[str, Any]:
        ran_on.append(threading.current_thread().name)
        if params.get("name") == "taken":
            raise ExecutionAlreadyExists("Execution Already Exists: 'x'")
        return {"executionArn": f"{MACHINE_ARN}:x".replace("stateMachine", "execution"), "startDate": 1.5}

    service.loop_handlers["StartExecution"] = start
    response = await call(client, "StartExecution", {"stateMachineArn": MACHINE_ARN})
    assert response.status_code == 200 and response.json()["startDate"] == 1.5
    assert error_of(
        await call(client, "StartExecution", {"stateMachineArn": MACHINE_ARN, "name": "taken"})
    ) == (
        400,
        "ExecutionAlreadyExists",
        "Execution Already Exists: 'x'",
    )
    assert ran_on == [threading.current_thread().name] * 2  # the test's loop: no hop to a thread
    assert service.calls == []  # the blocking form was not called
    await call(client, "ListStateMachines")  # an action without one still runs on a thread
    assert [name for name, _ in service.calls] == ["ListStateMachines"]


async def test_an_error_keeps_its_own_status(client: httpx.AsyncClient, service: FakeService) -> None:
    def denied(params: dict[str, Any]) -> dict[str, Any]:
        raise AccessDeniedException("no")

    service.handlers["ListActivities"] = denied
    assert error_of(await call(client, "ListActivities"))[:2] == (403, "AccessDeniedException")


async def test_a_bug_is_an_internal_failure_without_internals(
    client: httpx.AsyncClient, service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(params: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("secret-internal-detail")

    service.handlers["ListActivities"] = broken
    with caplog.at_level(logging.ERROR, logger="podium.api"):
        response = await call(client, "ListActivities")
    status, type_, message = error_of(response)
    assert (status, type_) == (500, "InternalFailure")
    assert "secret-internal-detail" not in response.text and "Traceback" not in response.text
    assert response.headers["x-amzn-requestid"] in message
    assert "secret-internal-detail" in caplog.text  # the server's log has it all


async def test_a_response_that_is_not_json_is_an_internal_failure(
    make_app: AppFactory, service: FakeService
) -> None:
    service.handlers["ListActivities"] = lambda params: {"activities": [object()]}
    async with http_client(make_app(ApiSettings())) as client:
        response = await call(client, "ListActivities")
    assert error_of(response)[:2] == (500, "InternalFailure")


async def test_checked_responses_name_what_departs_from_the_shape(
    client: httpx.AsyncClient, service: FakeService
) -> None:
    service.handlers["ListActivities"] = lambda params: {"activities": [{"name": "a"}], "extra": 1}
    status, type_, message = error_of(await call(client, "ListActivities"))
    assert (status, type_) == (500, "InternalFailure")
    assert "activities.1.member.activityArn: required member missing" in message
    assert "extra: not a member of ListActivitiesOutput" in message


# --- threads, health, lifespan -------------------------------------------------------------


async def test_a_long_poll_does_not_hold_up_other_requests(
    client: httpx.AsyncClient, service: FakeService
) -> None:
    release = threading.Event()

    def long_poll(params: dict[str, Any]) -> dict[str, Any]:
        release.wait(10)
        return {}

    service.handlers["GetActivityTask"] = long_poll
    async with anyio.create_task_group() as group:
        group.start_soon(call, client, "GetActivityTask", {"activityArn": "arn:aws:states:::activity:a"})
        await anyio.sleep(0.05)
        response = await call(client, "ListStateMachines")
        assert response.status_code == 200
        release.set()


async def test_health_reports_ok_version_and_what_the_service_adds(make_app: AppFactory) -> None:
    app = make_app(health=lambda: {"store": "sqlite:/x.db", "executions": {"running": 2}})
    async with http_client(app) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["version"]
    assert body["store"] == "sqlite:/x.db" and body["executions"] == {"running": 2}


async def test_health_is_503_when_the_service_cannot_tell(make_app: AppFactory) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("store closed")

    async with http_client(make_app(health=broken)) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["ok"] is False


async def test_startup_and_shutdown_run_in_the_lifespan(make_app: AppFactory) -> None:
    events: list[str] = []
    app = make_app(startup=lambda: events.append("start"), shutdown=lambda: events.append("stop"))
    async with app.lifespan():
        assert events == ["start"]
    assert events == ["start", "stop"]
