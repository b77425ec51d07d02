"""What a worker can be started on, the activity source's answers, and the command line's loading."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from podium.transports.base import to_wire
from podium.worker.__main__ import load_worker, transport_target
from podium.worker.activities import ActivitySource
from podium.worker.broker import BrokerSource
from podium.worker.sources import ReceivedTask, default_identity, open_source
from tests.worker.fakes import MemoryTransport, command

ACTIVITY = "arn:aws:states:us-east-1:000000000000:activity:payments"


class FakeClient:
    """botocore's client as far as a worker uses it: scripted polls, recorded answers."""

    def __init__(self, *polls: dict[str, Any], error: str | None = None) -> None:
        self.polls = list(polls)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error = error

    def create_activity(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("create_activity", params))
        return {"activityArn": f"arn:aws:states:us-east-1:000000000000:activity:{params['name']}"}

    def get_activity_task(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("get_activity_task", params))
        return self.polls.pop(0) if self.polls else {}

    def _answer(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, params))
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "..."}}, name)
        return {}

    def send_task_success(self, **params: Any) -> dict[str, Any]:
        return self._answer("send_task_success", params)

    def send_task_failure(self, **params: Any) -> dict[str, Any]:
        return self._answer("send_task_failure", params)

    def send_task_heartbeat(self, **params: Any) -> dict[str, Any]:
        return self._answer("send_task_heartbeat", params)


def test_what_a_worker_can_start_on(monkeypatch: pytest.MonkeyPatch) -> None:
    source, owned = open_source("http://127.0.0.1:1", queue="payments", worker_name="w")
    assert isinstance(source, ActivitySource) and owned and source.activity == "payments"
    source.close()
    memory = MemoryTransport()
    source, owned = open_source(memory, queue="q", worker_name="w")
    assert isinstance(source, BrokerSource) and not owned
    assert source.lease_seconds == 30  # the orchestrator's re-send interval
    assert open_source(source, queue="q", worker_name="w") == (source, False)
    with pytest.raises(TypeError, match="cannot take tasks from int"):
        open_source(3, queue="q", worker_name="w")
    with pytest.raises(ValueError, match=r"unsupported broker URL nats://x.*or http://host:port"):
        open_source("nats://x", queue="q", worker_name="w")
    with pytest.raises(ValueError, match="reaches podium's own activity queues through its API"):
        open_source("local", queue="q", worker_name="w")


def test_identity_names_consumers_and_activity_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_WORKER_ID", "payment-auth-2")
    assert default_identity() == "payment-auth-2"
    source = BrokerSource(MemoryTransport(visibility_timeout=12), "q", "payment-auth")
    assert source.consumer == "payment-auth@payment-auth-2" and source.lease_seconds == 12
    monkeypatch.delenv("PODIUM_WORKER_ID")
    assert default_identity().endswith(f":{os.getpid()}")
    assert len(ActivitySource(FakeClient(), ACTIVITY, "w" * 100).worker_name) == 80  # the API's limit


def test_a_poll_gives_the_token_the_input_and_the_execution() -> None:
    token = "YXJuOmF3czpzdGF0ZXM6dXMtZWFzdC0xOjA6ZXhlY3V0aW9uOm06ZTEKNA." + "0" * 32
    client = FakeClient({"taskToken": token, "input": '{"amount": 3}'}, {})
    source = ActivitySource(client, "payments", "w", identity="me")
    task = source.receive(1.0, 0)
    assert task is not None and task.token == token and task.body == {"amount": 3}
    assert task.execution_arn == "arn:aws:states:us-east-1:0:execution:m:e1"
    assert source.receive(1.0, 0) is None  # an empty poll: no task
    assert [name for name, _ in client.calls] == ["create_activity", "get_activity_task", "get_activity_task"]
    assert client.calls[1][1] == {"activityArn": f"{ACTIVITY}", "workerName": "w@me"}


def test_a_command_of_the_local_transport_is_unwrapped() -> None:
    sent = command({"command": "authorize"}, attempt=2, heartbeat_seconds=9, timeout_seconds=60, sent_ms=1000)
    client = FakeClient({"taskToken": sent.task_token, "input": to_wire(sent).decode()})
    task = ActivitySource(client, ACTIVITY, "w").receive(1.0, 0)
    assert task is not None
    assert (task.body, task.attempt, task.heartbeat_seconds, task.deadline) == (
        {"command": "authorize"},
        2,
        9,
        61.0,
    )
    assert (task.execution_arn, task.state_name) == (sent.execution_arn, "Work")


def test_an_input_that_only_looks_like_a_command_is_left_alone() -> None:
    lookalike = {"kind": "command", "task_token": "someone else's", "body": 1}
    client = FakeClient({"taskToken": "tok", "input": json.dumps(lookalike)})
    task = ActivitySource(client, ACTIVITY, "w").receive(1.0, 0)
    assert task is not None and task.body == lookalike


@pytest.mark.parametrize(("code", "still_open"), [("TaskTimedOut", False), ("TaskDoesNotExist", False)])
def test_answers_to_a_closed_task_say_so(code: str, still_open: bool) -> None:
    source = ActivitySource(FakeClient(error=code), ACTIVITY, "w")
    task = command({})
    received = ReceivedTask(token=task.task_token, body={})
    assert source.succeed(received, {"a": 1}) is still_open
    assert source.fail(received, "E", None) is still_open
    assert source.heartbeat(received) is still_open


def test_other_answer_errors_are_raised_and_answers_carry_json() -> None:
    received = ReceivedTask(token="tok", body={})
    client = FakeClient()
    source = ActivitySource(client, ACTIVITY, "w")
    assert source.succeed(received, {"a": [1]}) is True
    assert source.fail(received, "Payment.Declined", None) is True
    assert client.calls == [
        ("send_task_success", {"taskToken": "tok", "output": '{"a": [1]}'}),
        ("send_task_failure", {"taskToken": "tok", "error": "Payment.Declined"}),
    ]
    with pytest.raises(ClientError):
        ActivitySource(FakeClient(error="InvalidToken"), ACTIVITY, "w").succeed(received, 1)


WORKERS = """
from podium.worker import Worker

first = Worker("first")
first.handle("a", lambda body: 1)
{more}
"""


@pytest.mark.parametrize(
    ("more", "target", "expected"),
    [
        ("", "", "first"),
        ("worker = Worker('chosen')", "", "chosen"),
        ("second = Worker('second')", ":second", "second"),
    ],
)
def test_the_command_line_finds_the_worker(tmp_path: Path, more: str, target: str, expected: str) -> None:
    path = tmp_path / f"svc_{expected}.py"
    path.write_text(textwrap.dedent(WORKERS.format(more=more)))
    assert load_worker(f"{path}{target}").name == expected
    sys.modules.pop(path.stem, None)


def test_the_command_line_says_which_worker_it_cannot_choose(tmp_path: Path) -> None:
    path = tmp_path / "svc_two.py"
    path.write_text(textwrap.dedent(WORKERS.format(more="second = Worker('second')")))
    with pytest.raises(LookupError, match="several Workers \\(first, second\\): name one"):
        load_worker(str(path))
    with pytest.raises(LookupError, match="has no Worker named 'third'"):
        load_worker(f"{path}:third")
    sys.modules.pop(path.stem, None)


def test_the_command_line_reads_transports_as_the_server_does() -> None:
    endpoint = "http://127.0.0.1:9999"
    assert transport_target("local", endpoint, None) == endpoint
    assert transport_target("https://podium.example", endpoint, None) == "https://podium.example"
    assert transport_target("redis", endpoint, None) == "redis://127.0.0.1:6379/0"
    assert transport_target("redis", endpoint, "redis://cache:6380/2") == "redis://cache:6380/2"
    assert transport_target("amqp://u:p@mq/%2F", endpoint, None) == "amqp://u:p@mq/%2F"
    with pytest.raises(ValueError, match="unknown transport 'nats'"):
        transport_target("nats", endpoint, None)
