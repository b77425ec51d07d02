"""The queue connector end to end on the real brokers (Redis Streams, RabbitMQ): an engine on
SQLite, services in threads with transports of their own (as separate processes would have),
and the crashes that must lose nothing: an orchestrator restarted mid-task, a reply the
orchestrator took but never committed, a service that dies holding a command."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.store.sqlite import SQLiteStore
from podium.transports.base import Command, Reply
from tests.connectors.queue_support import Orchestrator, Service, machine, sqs_task, succeed_with_input
from tests.transports.brokers import Namespace, namespace


@pytest.fixture(params=["redis", "rabbitmq"])
def ns(request: pytest.FixtureRequest) -> Iterator[Namespace]:
    with namespace(request.param) as made:
        made.queues |= {"risk", "notify"}
        yield made


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    made = SQLiteStore(str(tmp_path / "podium.db"))
    yield made
    made.close()


PAYMENT = json.dumps(
    {
        "StartAt": "Authorize",
        "States": {
            "Authorize": {**sqs_task("payments"), "ResultPath": "$.auth", "Next": "Checks"},
            "Checks": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Risk", "States": {"Risk": {**sqs_task("risk"), "End": True}}},
                    {
                        "StartAt": "Pci",
                        "States": {"Pci": {"Type": "Task", "Resource": "podium:queue:payments", "End": True}},
                    },
                ],
                "ResultPath": "$.checks",
                "Next": "Notify",
            },
            "Notify": {**sqs_task("notify", wait=False), "ResultPath": None, "End": True},
        },
    }
)


def answer(command: Command) -> Reply:
    body = command.body
    if isinstance(body, dict) and "Input" in body:
        return succeed_with_input(command)
    return Reply(command.task_token, "success", output={"pci": "ok"})  # podium:queue: the whole input


def test_a_small_payment_flow_runs_to_the_end(ns: Namespace, store: SQLiteStore) -> None:
    with (
        Orchestrator(store, ns.transport(), owns_transport=True) as orchestrator,
        Service(ns.transport(), "payments", answer) as payments,
        Service(ns.transport(), "risk", answer) as risk,
    ):
        record = orchestrator.run(PAYMENT, {"amount": 10}, timeout=30)
    assert record.status == "SUCCEEDED"
    output = json.loads(record.output)
    assert output["auth"] == {"echo": {"amount": 10}, "attempt": 1}
    assert output["checks"][1] == {"pci": "ok"}
    assert len(payments.seen) == 2 and len(risk.seen) == 1
    [notice] = ns.transport().receive_commands("notify", "reader", wait_ms=3000)
    assert notice.message.body["Input"]["amount"] == 10
    notice.ack()
    assert orchestrator.types(record.arn).count("TaskSubmitted") == 3


def test_many_executions_at_once(ns: Namespace, store: SQLiteStore) -> None:
    definition = machine(("A", sqs_task()), ("B", sqs_task()))
    with (
        Orchestrator(store, ns.transport(), owns_transport=True) as orchestrator,
        Service(ns.transport()),
        Service(ns.transport()),
    ):
        machine_arn = orchestrator.engine.create_state_machine("m", definition).arn
        arns = [orchestrator.engine.start_execution(machine_arn, {"n": n}).arn for n in range(30)]
        records = [orchestrator.engine.wait(arn, timeout=30) for arn in arns]
        assert [r.status for r in records] == ["SUCCEEDED"] * 30
        deadline = time.monotonic() + 5
        while orchestrator.replies.unacked() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert left_in_broker(ns, "reply", "podium") == 0  # every reply acked once committed
    assert left_in_broker(ns, "cmd", "svc") == 0


def left_in_broker(ns: Namespace, kind: str, queue: str) -> int:
    """Messages a queue still holds, taken or not (acked ones are gone on both brokers)."""
    if ns.broker == "redis":
        import redis

        client = redis.Redis.from_url(ns.url)
        try:
            return int(client.xlen(f"{ns.prefix}:{kind}:{queue}"))
        finally:
            client.close()
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(ns.url))
    try:
        declared = connection.channel().queue_declare(f"{ns.prefix}.{kind}.{queue}", passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def test_the_orchestrator_restarted_mid_task_completes_without_sending_again(
    ns: Namespace, store: SQLiteStore
) -> None:
    go = threading.Event()

    def after_the_restart(command: Command) -> Reply:
        go.wait(20)
        return succeed_with_input(command)

    with Service(ns.transport(), handler=after_the_restart) as service:
        first = Orchestrator(store, ns.transport(), owns_transport=True).start()
        arn = first.begin(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 1})
        first.wait_for_event(arn, "TaskSubmitted")
        first.stop()  # the service holds the command meanwhile
        go.set()  # it answers while no orchestrator runs: the reply waits in the broker
        time.sleep(0.3)
        with Orchestrator(store, ns.transport(), owns_transport=True) as second:
            record = second.engine.wait(arn, timeout=30)
    assert record.status == "SUCCEEDED"
    assert [(c.state_name, c.attempt) for c in service.seen] == [("A", 1), ("B", 1)]
    assert second.types(arn).count("TaskSubmitted") == 2


def test_a_reply_taken_but_never_committed_is_delivered_again_after_a_crash(
    ns: Namespace, store: SQLiteStore
) -> None:
    """Acks follow the commit: a reply read by an orchestrator that dies before committing it
    stays unacked, and the broker hands it to the next one."""
    go = threading.Event()
    answered = threading.Event()

    def when_told(command: Command) -> Reply:
        go.wait(20)
        answered.set()
        return succeed_with_input(command)

    with Service(ns.transport(), handler=when_told) as service:
        first = Orchestrator(store, ns.transport(), consumer="orchestrator-1", owns_transport=True).start()
        arn = first.begin(machine(("A", sqs_task())), {"n": 2})
        first.wait_for_event(arn, "TaskSubmitted")
        first.engine.stop()  # wedged: signals are queued, never committed
        go.set()
        assert answered.wait(10)
        deadline = time.monotonic() + 10
        while not first.replies.unacked() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.replies.unacked()  # taken and delivered to the wedged engine, not acked
        first.stop()  # the crash: its hold on the reply ends with its connections
        assert "TaskSucceeded" not in first.types(arn)
        with Orchestrator(store, ns.transport(), consumer="orchestrator-1", owns_transport=True) as second:
            record = second.engine.wait(arn, timeout=30)
    assert record.status == "SUCCEEDED"
    assert [c.attempt for c in service.seen] == [1]


def test_a_service_that_dies_holding_a_command_leaves_it_to_another(
    ns: Namespace, store: SQLiteStore
) -> None:
    options = {"visibility_timeout": 0.5} if ns.broker == "redis" else {}
    dying = ns.transport(**options)
    with Orchestrator(store, ns.transport(), owns_transport=True) as orchestrator:
        arn = orchestrator.begin(machine(("A", sqs_task())), {"n": 3})
        taken: list[object] = []
        deadline = time.monotonic() + 10
        while not taken and time.monotonic() < deadline:
            taken = dying.receive_commands("svc", "doomed", wait_ms=200)
        assert taken
        dying.close()  # dies mid-task: no answer, no ack
        with Service(ns.transport(**options)) as heir:
            record = orchestrator.engine.wait(arn, timeout=30)
    assert record.status == "SUCCEEDED"
    assert [c.attempt for c in heir.seen] == [1]  # the broker redelivered it: nothing was re-sent
    assert orchestrator.types(arn).count("TaskSucceeded") == 1


def test_a_duplicated_reply_changes_nothing(ns: Namespace, store: SQLiteStore) -> None:
    replier = ns.transport()

    def twice(command: Command) -> Reply:
        reply = succeed_with_input(command)
        replier.send_reply(command.reply_to, reply)  # a broker or a retry delivered it twice
        return reply

    with Orchestrator(store, ns.transport(), owns_transport=True) as orchestrator:
        with Service(ns.transport(), handler=twice):
            record = orchestrator.run(machine(("A", sqs_task()), ("B", sqs_task())), {"n": 4})
        deadline = time.monotonic() + 5
        while orchestrator.replies.unacked() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert record.status == "SUCCEEDED"
    assert orchestrator.types(record.arn).count("TaskSucceeded") == 2
    assert left_in_broker(ns, "reply", "podium") == 0  # both copies acked, one of them dropped
