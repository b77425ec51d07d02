"""The same worker on the real transports: in-process, Redis, RabbitMQ (skipped where the broker is absent).

The test plays the orchestrator: it sends commands and reads the replies on its own
transport object; the worker opens its own from the URL, as a service process does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from podium.transports.base import Command, Reply, Transport, TransportError
from podium.transports.factory import open_transport, parse_spec
from podium.worker import TaskContext, TaskError, Worker
from podium.worker.sources import open_source

URLS = {
    "inprocess": "inprocess://worker-tests",
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


@pytest.fixture(params=sorted(URLS))
def url(request: pytest.FixtureRequest) -> str:
    return URLS[request.param]


@pytest.fixture
def orchestrator(url: str) -> Iterator[Transport]:
    try:
        transport = open_transport(parse_spec(url))
    except (TransportError, ModuleNotFoundError) as exc:
        pytest.skip(f"{url}: {exc}")
    yield transport
    transport.close()


@pytest.fixture
def scenario(orchestrator: Transport) -> Iterator[Scenario]:
    made = Scenario(orchestrator)
    yield made
    remove_queues(orchestrator, [made.queue], [made.replies])


def remove_queues(transport: Any, commands: list[str], replies: list[str]) -> None:
    """The brokers keep what a test made (durable queues, streams): take it away."""
    if transport.name == "redis":
        keys = [transport.command_stream(q) for q in commands] + [transport.reply_stream(q) for q in replies]
        transport.client.delete(*keys)
    elif transport.name == "rabbitmq":
        import pika

        names = [transport.command_queue(q) for q in commands] + [transport.reply_queue(q) for q in replies]
        connection = pika.BlockingConnection(pika.URLParameters(transport.url))
        try:
            channel = connection.channel()
            for name in names:
                channel.queue_delete(name)
        finally:
            connection.close()


class Scenario:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.queue = f"worker-test-{uuid.uuid4().hex[:8]}"
        self.replies = f"{self.queue}-replies"
        self.received: list[Reply] = []

    def send(self, body: Any, **fields: Any) -> Command:
        command = Command(
            task_token=f"tok-{uuid.uuid4().hex}",
            queue=self.queue,
            body=body,
            reply_to=self.replies,
            execution_arn="arn:aws:states:us-east-1:000000000000:execution:m:e",
            state_name="Work",
            sent_ms=int(time.time() * 1000),
            **fields,
        )
        self.transport.send_command(command)
        return command

    def answer(self, command: Command, timeout: float = 10) -> Reply:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for reply in self.received:
                if reply.task_token == command.task_token and reply.status != "heartbeat":
                    return reply
            for delivery in self.transport.receive_replies(self.replies, "test", wait_ms=200):
                assert isinstance(delivery.message, Reply)
                self.received.append(delivery.message)
                delivery.ack()
        raise AssertionError(f"no answer for {command.task_token}: {self.received}")

    def heartbeats(self, command: Command) -> int:
        return sum(1 for r in self.received if r.task_token == command.task_token and r.status == "heartbeat")


def service(gate: threading.Event | None = None) -> Worker:
    worker = Worker("svc", poll_wait=0.2)

    @worker.handler("authorize")
    def authorize(body: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        if body["amount"] > 100:
            raise TaskError("Payment.Declined", "too much")
        time.sleep(body.get("seconds", 0))
        if gate is not None:
            gate.wait(10)
        return {"ok": body["amount"], "attempt": ctx.attempt}

    return worker


def test_answers_errors_and_heartbeats_on_each_transport(url: str, scenario: Scenario) -> None:
    worker = service()
    worker.configure(queue=scenario.queue)
    worker.start(url)
    try:
        ok = scenario.send({"command": "authorize", "amount": 5}, attempt=2)
        declined = scenario.send({"command": "authorize", "amount": 500})
        slow = scenario.send({"command": "authorize", "amount": 1, "seconds": 0.8}, heartbeat_seconds=1)
        assert scenario.answer(ok).output == {"ok": 5, "attempt": 2}
        reply = scenario.answer(declined)
        assert (reply.status, reply.error, reply.cause) == ("failure", "Payment.Declined", "too much")
        assert scenario.answer(slow).status == "success"
        assert scenario.heartbeats(slow) >= 1
    finally:
        assert worker.stop(grace=5) is True


def test_a_task_released_at_shutdown_goes_back_to_the_queue(url: str, scenario: Scenario) -> None:
    orchestrator = scenario.transport
    gate = threading.Event()
    worker = service(gate)
    worker.configure(queue=scenario.queue)
    worker.start(url)
    try:
        command = scenario.send({"command": "authorize", "amount": 1})
        deadline = time.monotonic() + 10
        while worker.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert worker.stop(grace=0.2) is False
        # Released, not acked: another consumer gets it at once, not after a timeout.
        again = orchestrator.receive_commands(scenario.queue, "another-worker", wait_ms=5000)
        assert [d.message.task_token for d in again] == [command.task_token]
        for delivery in again:
            delivery.ack()
    finally:
        gate.set()


def test_a_transport_object_is_used_as_it_is_and_not_closed(orchestrator: Transport) -> None:
    source, owned = open_source(orchestrator, queue="q", worker_name="w", identity="id-1")
    assert owned is False and source.name == orchestrator.name
