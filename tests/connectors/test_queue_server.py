"""Command queues in the server as `podium server` assembles it: the local transport (workers
poll GetActivityTask and answer with SendTaskSuccess, no broker), a broker chosen with
--transport / --broker-url, and a broker that does not answer (one clear line, no port bound)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.cli import main
from podium.service.assembly import Assembly, ServiceConfig, assemble
from podium.transports.base import Command, Reply, from_wire
from podium.transports.factory import TransportSpec, parse_spec
from tests.connectors.queue_support import Service, machine, sqs_task
from tests.transports.brokers import namespace, threads_named, url_of

ROLE = "arn:aws:iam::000000000000:role/podium"
ACTIVITY = "arn:aws:states:us-east-1:000000000000:activity:"


def started(tmp_path: Path, transport: TransportSpec) -> Assembly:
    assembly = assemble(ServiceConfig(db=str(tmp_path / "podium.db"), transport=transport))
    assembly.start()
    return assembly


def call(assembly: Assembly, action: str, **params: Any) -> dict[str, Any]:
    return assembly.service.handle(action, params)


def run(assembly: Assembly, definition: str, input_value: Any, timeout: float = 20) -> dict[str, Any]:
    arn = call(assembly, "CreateStateMachine", name="m", definition=definition, roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = call(assembly, "StartExecution", stateMachineArn=arn, input=json.dumps(input_value))
    deadline = time.monotonic() + timeout
    while True:
        described = call(assembly, "DescribeExecution", executionArn=execution["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Assembly]:
    assembly = started(tmp_path, TransportSpec())
    try:
        yield assembly
    finally:
        assembly.stop()


def test_on_the_local_transport_workers_poll_the_queue_as_an_activity(local: Assembly) -> None:
    """What a worker in another process does: GetActivityTask, then SendTaskSuccess."""
    seen: list[Command] = []

    def worker() -> None:
        call(local, "CreateActivity", name="svc")  # as workers do: it may poll before any command
        for _ in range(2):
            task: dict[str, Any] = {}
            while not task.get("taskToken"):
                task = call(local, "GetActivityTask", activityArn=ACTIVITY + "svc", workerName="w-1")
            command = from_wire(task["input"])
            assert isinstance(command, Command) and command.task_token == task["taskToken"]
            seen.append(command)
            output = json.dumps({"echo": command.body["Input"]})
            call(local, "SendTaskSuccess", taskToken=task["taskToken"], output=output)

    thread = threading.Thread(target=worker)
    thread.start()
    described = run(local, machine(("A", sqs_task()), ("B", sqs_task())), {"n": 1})
    thread.join(timeout=10)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"echo": {"echo": {"n": 1}}}
    assert [c.state_name for c in seen] == ["A", "B"]
    activities = call(local, "ListActivities")["activities"]
    assert [a["name"] for a in activities] == ["svc"]  # made on first use


def test_on_the_local_transport_a_worker_in_the_same_process_needs_no_api(local: Assembly) -> None:
    from podium.service.queues import queues

    transport = queues(local.service).transport
    assert transport is not None and transport.name == "local"
    with Service(transport):
        described = run(local, machine(("A", sqs_task())), {"n": 2})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"echo": {"n": 2}, "attempt": 1}


def test_a_heartbeat_through_the_api_keeps_a_local_queue_task_alive(local: Assembly) -> None:
    def worker() -> None:
        call(local, "CreateActivity", name="svc")
        task: dict[str, Any] = {}
        while not task.get("taskToken"):
            task = call(local, "GetActivityTask", activityArn=ACTIVITY + "svc")
        for _ in range(3):
            time.sleep(0.4)
            call(local, "SendTaskHeartbeat", taskToken=task["taskToken"])
        call(local, "SendTaskFailure", taskToken=task["taskToken"], error="Risk.TooHigh", cause="91")

    thread = threading.Thread(target=worker)
    thread.start()
    described = run(local, machine(("Risk", sqs_task(HeartbeatSeconds=1))), {})
    thread.join(timeout=10)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Risk.TooHigh", "91")


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_a_broker_chosen_at_assembly_carries_the_commands(tmp_path: Path, broker: str) -> None:
    with namespace(broker) as ns:
        url = f"{ns.url}{'&' if '?' in ns.url else '?'}prefix={ns.prefix}"
        assembly = started(tmp_path, parse_spec(broker, url))
        try:
            assert assembly.health()["queues"].startswith(broker)
            with Service(ns.transport()) as service:
                described = run(assembly, machine(("A", sqs_task())), {"n": 3})
            assert described["status"] == "SUCCEEDED", described
            assert service.seen[0].reply_to == "podium"
        finally:
            assembly.stop()
    assert threads_named("podium-") == []


def test_a_broker_that_does_not_answer_stops_the_server_before_it_listens(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        ["server", "--port", "0", "--db", str(tmp_path / "p.db"), "--broker-url", "redis://127.0.0.1:1/0"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot use the redis redis://127.0.0.1:1/0 transport" in err


def test_an_unknown_transport_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--port", "0", "--transport", "kafka"]) == 2
    assert "unknown transport 'kafka'" in capsys.readouterr().err


def test_podium_server_on_redis_serves_boto3_and_a_worker_on_the_same_url(tmp_path: Path) -> None:
    """The whole thing as a user runs it: `podium server --transport redis --broker-url ...`."""
    import boto3
    from botocore.config import Config

    from tests.api.test_server import Servers

    with namespace("redis") as ns:
        url = f"{url_of('redis')}?prefix={ns.prefix}"
        servers = Servers(tmp_path)
        try:
            endpoint = servers.start("--transport", "redis", "--broker-url", url)
            sfn = boto3.client(
                "stepfunctions",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="k",
                aws_secret_access_key="s",
                config=Config(retries={"max_attempts": 1}),
            )
            definition = machine(("A", sqs_task(f"svc-{uuid.uuid4().hex[:6]}")))
            queue = json.loads(definition)["States"]["A"]["Parameters"]["QueueUrl"].rsplit("/", 1)[1]
            ns.queues.add(queue)
            arn = sfn.create_state_machine(name="m", definition=definition, roleArn=ROLE)["stateMachineArn"]
            from podium.transports.redis import from_url

            worker_transport = from_url(url)  # what the worker SDK opens for the same URL
            try:
                with Service(worker_transport, queue, lambda c: Reply(c.task_token, "success", output=7)):
                    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
                    deadline = time.monotonic() + 20
                    while (described := sfn.describe_execution(executionArn=execution))[
                        "status"
                    ] == "RUNNING":
                        assert time.monotonic() < deadline
                        time.sleep(0.05)
            finally:
                worker_transport.close()
            assert (described["status"], described["output"]) == ("SUCCEEDED", "7")
        finally:
            servers.stop_all()
