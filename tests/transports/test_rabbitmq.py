"""RabbitMQ, for real: durable queues and persistent messages, manual acks, redelivery when a
consumer's connection closes without acking, prefetch, consumer threads that leave nothing behind."""

from __future__ import annotations

import threading
import time

import pika
import pytest

from podium.transports.base import Command, Delivery, TransportError
from podium.transports.rabbitmq import RabbitMQDelivery, RabbitMQTransport
from tests.transports.brokers import Namespace, broker_sockets, threads_named


def command(token: str = "tok-1") -> Command:
    return Command(token, "svc", {"n": 1}, "podium", "arn:x", "S")


def receive(
    transport: RabbitMQTransport, consumer: str, wait_ms: int = 3000, max_count: int = 1
) -> list[Delivery]:
    return transport.receive_commands("svc", consumer, wait_ms=wait_ms, max_count=max_count)


def test_queues_are_durable_and_messages_persistent(rabbitmq_ns: Namespace) -> None:
    transport = rabbitmq_ns.transport()
    transport.send_command(command())
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_ns.url))
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
            # A durable queue refuses to be declared as a transient one.
            connection.channel().queue_declare(f"{rabbitmq_ns.prefix}.cmd.svc", durable=False)
        channel = connection.channel()
        declared = channel.queue_declare(f"{rabbitmq_ns.prefix}.cmd.svc", passive=True)
        assert declared.method.message_count == 1
        method, properties, _ = channel.basic_get(f"{rabbitmq_ns.prefix}.cmd.svc", auto_ack=False)
        assert properties.delivery_mode == 2
        assert properties.content_type == "application/json"
        channel.basic_nack(method.delivery_tag, requeue=True)
    finally:
        connection.close()
    [delivery] = receive(transport, "w")
    assert isinstance(delivery, RabbitMQDelivery) and delivery.redelivered  # the peek above counts
    delivery.ack()


def test_a_consumer_that_dies_without_acking_has_its_message_redelivered(rabbitmq_ns: Namespace) -> None:
    producer = rabbitmq_ns.transport()
    dying = rabbitmq_ns.transport()
    producer.send_command(command())
    [taken] = receive(dying, "w-dead")
    assert isinstance(taken, RabbitMQDelivery) and not taken.redelivered
    survivor = rabbitmq_ns.transport()
    assert receive(survivor, "w-alive", wait_ms=300) == []  # it is held while its consumer lives
    dying.close()  # the connection closes with the message unacked
    started = time.monotonic()
    [again] = receive(survivor, "w-alive", wait_ms=3000)
    assert time.monotonic() - started < 1.5
    assert again.message == taken.message
    assert isinstance(again, RabbitMQDelivery) and again.redelivered
    again.ack()
    survivor.close()
    assert receive(rabbitmq_ns.transport(), "w-3", wait_ms=500) == []


def test_an_acked_message_is_not_redelivered_when_the_consumer_closes(rabbitmq_ns: Namespace) -> None:
    producer = rabbitmq_ns.transport()
    consumer = rabbitmq_ns.transport()
    producer.send_command(command())
    [delivery] = receive(consumer, "w")
    acker = threading.Thread(target=delivery.ack)  # acked from another thread than the consumer's
    acker.start()
    acker.join()
    consumer.close()
    assert receive(rabbitmq_ns.transport(), "w2", wait_ms=600) == []


def test_a_service_consumer_holds_one_command_at_a_time(rabbitmq_ns: Namespace) -> None:
    """Prefetch 1 for commands: a busy worker leaves the next command to an idle one."""
    producer = rabbitmq_ns.transport()
    busy, idle = rabbitmq_ns.transport(), rabbitmq_ns.transport()
    producer.send_command(command("tok-1"))
    [held] = receive(busy, "busy")
    producer.send_command(command("tok-2"))
    [other] = receive(idle, "idle")
    assert other.message.task_token == "tok-2"
    held.ack()
    other.ack()


def test_a_queue_deleted_under_the_publisher_is_declared_again(rabbitmq_ns: Namespace) -> None:
    transport = rabbitmq_ns.transport()
    transport.send_command(command("tok-1"))
    [delivery] = receive(transport, "w")
    delivery.ack()
    transport.close()
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_ns.url))
    try:
        connection.channel().queue_delete(f"{rabbitmq_ns.prefix}.cmd.svc")
    finally:
        connection.close()
    again = rabbitmq_ns.transport()
    again.send_command(command("tok-2"))
    [delivery] = receive(again, "w")
    assert delivery.message.task_token == "tok-2"
    delivery.ack()


def test_a_publisher_whose_connection_died_reconnects(rabbitmq_ns: Namespace) -> None:
    transport = rabbitmq_ns.transport()
    transport.send_command(command("tok-1"))
    for publisher in transport._idle:  # the broker (or the network) dropped it meanwhile
        publisher.connection.close()
    transport.send_command(command("tok-2"))
    tokens = [d.message.task_token for d in receive(transport, "w", max_count=2)]
    tokens += [d.message.task_token for d in receive(transport, "w", max_count=2)] if len(tokens) < 2 else []
    assert sorted(tokens) == ["tok-1", "tok-2"]


def test_an_unreachable_broker_is_a_transport_error() -> None:
    transport = RabbitMQTransport("amqp://guest:guest@127.0.0.1:1/%2F")
    try:
        for call in (
            transport.ping,
            lambda: transport.send_command(command()),
            lambda: transport.receive_commands("svc", "w", wait_ms=100),
        ):
            try:
                call()
            except TransportError as exc:
                assert "rabbitmq" in str(exc)
            else:
                raise AssertionError("no TransportError")
    finally:
        transport.close()
    assert threads_named("podium-amqp") == []


def test_closing_leaves_no_thread_and_no_connection(rabbitmq_ns: Namespace) -> None:
    before = broker_sockets(5672)
    transport = RabbitMQTransport(rabbitmq_ns.url, prefix=rabbitmq_ns.prefix)
    transport.send_command(command())
    for consumer in ("a", "b"):
        for delivery in receive(transport, consumer, wait_ms=300):
            delivery.ack()
    transport.receive_replies("podium", "orch", wait_ms=10)
    assert len(threads_named("podium-amqp")) == 3
    assert broker_sockets(5672) >= before + 4  # a publisher and three consumers
    transport.close()
    assert threads_named("podium-amqp") == []
    deadline = time.monotonic() + 2
    while broker_sockets(5672) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker_sockets(5672) == before
