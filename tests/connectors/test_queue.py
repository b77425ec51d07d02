"""The queue connector on the in-process transport: what sqs:sendMessage and podium:queue
tasks record, how answers come back, and what a lost, late or duplicated message does (nothing
lost, nothing doubled)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.connectors.queue import QueueConnector, queue_name, send_message_response
from podium.core.messages import InvokeTask
from podium.store.memory import MemoryStore
from podium.store.sqlite import SQLiteStore
from podium.transports.base import Command, Reply, TransportError
from podium.transports.inprocess import InProcessTransport
from tests.connectors.queue_support import Orchestrator, Service, machine, sqs_task, succeed_with_input


@pytest.fixture
def transport() -> Iterator[InProcessTransport]:
    made = InProcessTransport()
    yield made
    made.close()


@pytest.fixture
def orchestrator(transport: InProcessTransport) -> Iterator[Orchestrator]:
    with Orchestrator(MemoryStore(), transport) as made:
        yield made


def details(orchestrator: Orchestrator, arn: str, event_type: str) -> dict[str, Any]:
    return next(e.details for e in orchestrator.events(arn) if e.type == event_type)


def test_wait_for_task_token_records_the_send_then_waits_for_the_answer(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    with Service(transport) as service:
        record = orchestrator.run(machine(("Ask", sqs_task())), {"n": 1})
    assert (record.status, json.loads(record.output)) == ("SUCCEEDED", {"echo": {"n": 1}, "attempt": 1})
    assert orchestrator.types(record.arn) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    [command] = service.seen
    token = command.task_token
    assert command.body == {"Input": {"n": 1}, "TaskToken": token}  # MessageBody, token where put
    assert (command.queue, command.reply_to, command.state_name) == ("svc", "podium", "Ask")
    assert command.execution_arn == record.arn
    submitted = json.loads(details(orchestrator, record.arn, "TaskSubmitted")["output"])
    body_text = json.dumps({"Input": {"n": 1}, "TaskToken": token}, separators=(",", ":"))
    assert submitted["MD5OfMessageBody"] == hashlib.md5(body_text.encode()).hexdigest()
    assert submitted["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "106"
    assert details(orchestrator, record.arn, "TaskSubmitted")["resource"] == "sendMessage.waitForTaskToken"


def test_the_send_message_response_has_the_shape_aws_records() -> None:
    """As in the conformance corpus (localstack's snapshots of AWS): same keys, same order."""
    response = send_message_response("8f9b0b9e-0c6f-4a3f-9a47-1d7c2f3c2c55", "hello")
    assert list(response) == ["MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    metadata = response["SdkHttpMetadata"]
    assert list(metadata["AllHttpHeaders"]) == [
        "x-amzn-RequestId",
        "connection",
        "Content-Length",
        "Date",
        "Content-Type",
    ]
    assert list(metadata["HttpHeaders"]) == [
        "connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "x-amzn-RequestId",
    ]
    assert metadata["HttpHeaders"]["Date"].endswith(" GMT")
    assert metadata["HttpStatusCode"] == 200
    assert response["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert response["SdkResponseMetadata"]["RequestId"] == metadata["HttpHeaders"]["x-amzn-RequestId"]


def test_send_message_without_a_token_succeeds_once_the_command_is_sent(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    definition = machine(("Tell", sqs_task(wait=False)))
    record = orchestrator.run(definition, {"n": 2})
    assert record.status == "SUCCEEDED"
    output = json.loads(record.output)
    assert set(output) == {"MD5OfMessageBody", "MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert "TaskSubmitted" not in orchestrator.types(record.arn)
    [delivery] = transport.receive_commands("svc", "late-reader", wait_ms=0)
    assert delivery.message.body["Input"] == {"n": 2}
    delivery.ack()


def test_a_string_body_is_sent_as_it_is(orchestrator: Orchestrator, transport: InProcessTransport) -> None:
    task = sqs_task(wait=False)
    task["Parameters"] = {"QueueUrl": "svc", "MessageBody": "plain text"}  # a bare queue name works too
    record = orchestrator.run(machine(("Tell", task)))
    assert json.loads(record.output)["MD5OfMessageBody"] == hashlib.md5(b"plain text").hexdigest()
    [delivery] = transport.receive_commands("svc", "reader", wait_ms=0)
    assert delivery.message.body == "plain text"
    delivery.ack()


def test_podiums_own_queue_resource_sends_the_input_and_waits(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    task = {"Type": "Task", "Resource": "podium:queue:payments"}
    with Service(transport, "payments", lambda c: Reply(c.task_token, "success", output=c.body)) as service:
        record = orchestrator.run(machine(("Pay", task)), {"amount": 5})
    assert (record.status, json.loads(record.output)) == ("SUCCEEDED", {"amount": 5})
    assert service.seen[0].body == {"amount": 5}
    scheduled = details(orchestrator, record.arn, "TaskScheduled")
    assert (scheduled["resourceType"], scheduled["resource"]) == ("queue", "payments")
    assert "TaskSubmitted" in orchestrator.types(record.arn)


def test_a_failure_answer_fails_the_task_with_the_services_error(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    def decline(command: Command) -> Reply:
        return Reply(command.task_token, "failure", error="Payment.Declined", cause="score 91")

    task = sqs_task(Catch=[{"ErrorEquals": ["Payment.Declined"], "Next": "Declined"}])
    definition = machine(("Ask", task), ("Declined", {"Type": "Fail", "Error": "Declined"}))
    with Service(transport, handler=decline):
        record = orchestrator.run(definition)
    assert (record.status, record.error) == ("FAILED", "Declined")
    failed = details(orchestrator, record.arn, "TaskFailed")
    assert (failed["error"], failed["cause"]) == ("Payment.Declined", "score 91")


def test_heartbeats_on_the_reply_queue_keep_a_slow_task_alive(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    def slow(command: Command) -> Reply:
        for _ in range(4):  # 1.2 s of work against HeartbeatSeconds 1
            time.sleep(0.3)
            transport.send_reply(command.reply_to, Reply(command.task_token, "heartbeat"))
        return succeed_with_input(command)

    with Service(transport, handler=slow):
        record = orchestrator.run(machine(("Slow", sqs_task(HeartbeatSeconds=1))), {"n": 3})
    assert record.status == "SUCCEEDED"


def test_without_heartbeats_the_heartbeat_timeout_fails_it(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    record = orchestrator.run(machine(("Silent", sqs_task(HeartbeatSeconds=1))))
    assert (record.status, record.error) == ("FAILED", "States.Timeout")
    # The task closed untaken: its command was withdrawn, no worker will find it later.
    deadline = time.monotonic() + 2
    while transport.depth("svc") != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert transport.depth("svc") == (0, 0)


def test_a_duplicated_reply_is_harmless(orchestrator: Orchestrator, transport: InProcessTransport) -> None:
    def twice(command: Command) -> Reply:
        reply = succeed_with_input(command)
        transport.send_reply(command.reply_to, reply)
        return reply

    with Service(transport, handler=twice):
        record = orchestrator.run(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 4})
    assert record.status == "SUCCEEDED"
    assert orchestrator.types(record.arn).count("TaskSucceeded") == 2
    deadline = time.monotonic() + 2
    while transport.depth("podium", replies=True) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert transport.depth("podium", replies=True) == (0, 0)  # every copy acked and dropped


def test_a_reply_for_a_closed_or_foreign_task_is_acked_and_dropped(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    transport.send_reply("podium", Reply("not-a-token", "success", output=1))
    with Service(transport):
        record = orchestrator.run(machine(("A", sqs_task())))
    transport.send_reply(
        "podium", Reply(json.loads(record.output) and _token(orchestrator, record.arn), "success")
    )
    deadline = time.monotonic() + 2
    while transport.depth("podium", replies=True) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert transport.depth("podium", replies=True) == (0, 0)
    assert orchestrator.types(record.arn).count("TaskSucceeded") == 1


def _token(orchestrator: Orchestrator, arn: str) -> str:
    parameters = json.loads(details(orchestrator, arn, "TaskScheduled")["parameters"])
    return str(parameters["MessageBody"]["TaskToken"])


def test_a_lost_command_is_sent_again_until_answered(transport: InProcessTransport) -> None:
    answered = []

    def lose_the_first(command: Command) -> Reply | None:
        if command.attempt == 1:
            return None  # taken, acked, then lost by the service: no answer ever
        answered.append(command.attempt)
        return succeed_with_input(command)

    with (
        Orchestrator(MemoryStore(), transport, resend_seconds=0.3) as orchestrator,
        Service(transport, handler=lose_the_first) as service,
    ):
        record = orchestrator.run(machine(("A", sqs_task())), {"n": 5})
    assert (record.status, json.loads(record.output)["attempt"]) == ("SUCCEEDED", 2)
    assert [c.attempt for c in service.seen] == [1, 2]
    assert len({c.task_token for c in service.seen}) == 1  # the same task: one token
    assert service.seen[0].sent_ms == service.seen[1].sent_ms  # the deadline holds on every copy
    assert orchestrator.types(record.arn).count("TaskSubmitted") == 1


def test_a_heartbeat_stops_the_resending(transport: InProcessTransport) -> None:
    def slow(command: Command) -> Reply:
        transport.send_reply(command.reply_to, Reply(command.task_token, "heartbeat"))
        time.sleep(1.0)  # longer than three re-send intervals
        return succeed_with_input(command)

    with (
        Orchestrator(MemoryStore(), transport, resend_seconds=0.25) as orchestrator,
        Service(transport, handler=slow) as service,
    ):
        record = orchestrator.run(machine(("A", sqs_task())))
    assert record.status == "SUCCEEDED"
    assert [c.attempt for c in service.seen] == [1]


class FlakyTransport(InProcessTransport):
    """Refuses the first `failures` sends, as a broker that is down for a moment."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send_command(self, command: Command) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TransportError("broker down")
        super().send_command(command)


def test_a_broker_that_refuses_sends_for_a_while_delays_the_task_but_loses_nothing() -> None:
    transport = FlakyTransport(failures=2)
    try:
        with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport) as service:
            started = time.monotonic()
            record = orchestrator.run(machine(("A", sqs_task())), {"n": 6})
        assert record.status == "SUCCEEDED"
        assert 0.4 < time.monotonic() - started < 5  # retried after 0.5 s, then 1 s
        assert [c.attempt for c in service.seen] == [1]
        assert orchestrator.types(record.arn).count("TaskSubmitted") == 1
    finally:
        transport.close()


class EagerTransport(InProcessTransport):
    """A service so fast that its answer is on the reply queue before the send returns."""

    def send_command(self, command: Command) -> None:
        super().send_command(command)
        self.send_reply(command.reply_to, Reply(command.task_token, "success", output="quick"))
        time.sleep(0.2)  # and the orchestrator's sender is slow to hear the broker confirm


def test_the_answer_never_overtakes_the_task_submitted() -> None:
    transport = EagerTransport()
    try:
        with Orchestrator(MemoryStore(), transport) as orchestrator:
            record = orchestrator.run(machine(("A", sqs_task())))
        types = orchestrator.types(record.arn)
        assert record.status == "SUCCEEDED"
        assert types.index("TaskSubmitted") < types.index("TaskSucceeded")
    finally:
        transport.close()


def test_requests_sqs_would_refuse_fail_as_sqs_does(orchestrator: Orchestrator) -> None:
    cases = {
        "no body": {"QueueUrl": "svc"},
        "null body": {"QueueUrl": "svc", "MessageBody": None},
        "no queue": {"MessageBody": "x"},
        "bad queue": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/no spaces", "MessageBody": "x"},
        "too long": {"QueueUrl": "svc", "MessageBody": "x" * 262_145},
    }
    causes = {}
    for n, (case, parameters) in enumerate(cases.items()):
        task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": parameters}
        record = orchestrator.engine.wait(
            orchestrator.begin(machine(("Send", task)), name=f"m{n}"), timeout=10
        )
        assert (record.status, record.error) == ("FAILED", "SQS.AmazonSQSException"), case
        causes[case] = record.cause or ""
    assert causes["no body"].startswith(
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; Status Code: 400;"
        " Error Code: MissingParameter; Request ID: "
    )
    assert causes["null body"].startswith("The request must contain the parameter MessageBody.")
    assert causes["no queue"].startswith("The request must contain the parameter QueueUrl.")
    assert "AWS.SimpleQueueService.NonExistentQueue" in causes["bad queue"]
    assert "Message must be shorter than 262144 bytes" in causes["too long"]


def test_queue_urls() -> None:
    assert queue_name("https://sqs.eu-west-1.amazonaws.com/123456789012/payments") == "payments"
    assert queue_name("http://localhost:4566/000000000000/orders.fifo") == "orders.fifo"
    assert queue_name("payments") == "payments"
    assert queue_name("https://sqs.us-east-1.amazonaws.com/1/") is None
    assert queue_name("a b") is None


def test_delay_seconds_delays_the_first_send(
    orchestrator: Orchestrator, transport: InProcessTransport
) -> None:
    task = sqs_task(wait=False)
    task["Parameters"]["DelaySeconds"] = 1
    started = time.monotonic()
    record = orchestrator.run(machine(("Later", task)))
    assert record.status == "SUCCEEDED" and time.monotonic() - started >= 1
    transport.receive_commands("svc", "reader", wait_ms=0)[0].ack()


def test_the_engine_thread_never_waits_for_the_broker(transport: InProcessTransport) -> None:
    """A broker that hangs holds up the connector's sender, not the other executions."""
    gate = threading.Event()

    class Hanging(InProcessTransport):
        def send_command(self, command: Command) -> None:
            gate.wait(10)

    hanging = Hanging()
    connector = QueueConnector(hanging)
    try:
        connector.invoke(
            InvokeTask(
                "task-1", "arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "x"}, "t"
            ),
            lambda signal: None,
        )
        started = time.monotonic()
        connector.invoke(
            InvokeTask(
                "task-2", "arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "y"}, "u"
            ),
            lambda signal: None,
        )
        assert time.monotonic() - started < 0.05
    finally:
        gate.set()
        connector.close()
        hanging.close()


class ThreadNoting(FlakyTransport):
    """Notes the thread of every send; `quick` says whether it promises quick sends."""

    def __init__(self, *, quick: bool = True, failures: int = 0) -> None:
        super().__init__(failures)
        self.quick_send = quick
        self.senders: list[tuple[str, int]] = []  # (thread name, attempt)

    def send_command(self, command: Command) -> None:
        self.senders.append((threading.current_thread().name, command.attempt))
        super().send_command(command)


def test_an_idle_engine_sends_the_command_on_its_own_thread() -> None:
    """No hop to the connector's thread when the engine has nothing else to do. A's command
    goes out from the engine's thread (the start's step); B's from the thread that took A's
    answer's step: the reply consumer's when the engine was idle, else the engine's."""
    transport = ThreadNoting()
    try:
        with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport):
            record = orchestrator.run(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 1})
        assert record.status == "SUCCEEDED"
        assert transport.senders[0] == ("podium-engine", 1)
        assert transport.senders[1] in (("podium-replies", 1), ("podium-engine", 1))
        assert len(transport.senders) == 2
    finally:
        transport.close()


def test_a_transport_without_quick_sends_is_sent_to_by_the_connectors_thread() -> None:
    transport = ThreadNoting(quick=False)
    try:
        with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport):
            record = orchestrator.run(machine(("A", sqs_task())), {"n": 1})
        assert record.status == "SUCCEEDED"
        assert transport.senders == [("podium-queue-sender", 1)]
    finally:
        transport.close()


def test_after_a_failed_send_the_engine_sends_again_only_once_a_send_worked() -> None:
    """A broker that failed may hang next: the connector's thread retries, and only after a
    send worked does the engine's thread send again."""
    transport = ThreadNoting(failures=1)
    try:
        with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport) as service:
            record = orchestrator.run(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 1})
        assert record.status == "SUCCEEDED"
        assert transport.senders[:2] == [
            ("podium-engine", 1),  # refused
            ("podium-queue-sender", 1),  # the retry: still the first attempt of A's command
        ]
        # B, from the thread that took the step of A's answer: the broker works again.
        assert transport.senders[2:] in ([("podium-replies", 1)], [("podium-engine", 1)])
        assert [c.state_name for c in service.seen] == ["A", "B"]
        assert orchestrator.types(record.arn).count("TaskSubmitted") == 2
    finally:
        transport.close()


def test_a_restart_mid_task_still_completes_and_sends_nothing_twice(tmp_path: Path) -> None:
    """The broker keeps the command across the orchestrator's restart (a durable transport)."""
    db = str(tmp_path / "podium.db")
    transport = InProcessTransport()
    transport.durable = True  # type: ignore[misc]  # as a broker: it outlives the orchestrator
    try:
        store = SQLiteStore(db)
        first = Orchestrator(store, transport).start()
        arn = first.begin(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 7})
        first.wait_for_event(arn, "TaskSubmitted")
        first.stop()
        store.close()

        store = SQLiteStore(db)
        with Orchestrator(store, transport) as second, Service(transport) as service:
            record = second.engine.wait(arn, timeout=20)
        store.close()
        assert record.status == "SUCCEEDED"
        assert [(c.state_name, c.attempt) for c in service.seen] == [("A", 1), ("B", 1)]
    finally:
        transport.close()


def test_after_a_restart_a_command_kept_in_memory_is_sent_again(tmp_path: Path) -> None:
    """A transport that does not outlive the orchestrator (in-process, local): sent again at once."""
    db = str(tmp_path / "podium.db")
    store = SQLiteStore(db)
    lost = InProcessTransport()
    first = Orchestrator(store, lost).start()
    arn = first.begin(machine(("A", sqs_task())), {"n": 8})
    first.wait_for_event(arn, "TaskSubmitted")
    first.stop()
    lost.close()
    store.close()

    store = SQLiteStore(db)
    fresh = InProcessTransport()
    try:
        with Orchestrator(store, fresh) as second, Service(fresh) as service:
            record = second.engine.wait(arn, timeout=20)
        assert record.status == "SUCCEEDED"
        assert [c.attempt for c in service.seen] == [2]
        assert second.types(arn).count("TaskSubmitted") == 1
    finally:
        store.close()
        fresh.close()


def test_nothing_is_left_running(transport: InProcessTransport) -> None:
    before = {t.name for t in threading.enumerate()}
    with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport):
        assert orchestrator.run(machine(("A", sqs_task()))).status == "SUCCEEDED"
    leftover = {t.name for t in threading.enumerate()} - before
    assert leftover == set()
