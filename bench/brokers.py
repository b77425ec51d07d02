"""The brokers of the queue benchmarks, and their own round trips: the floor a task step stands on.

Shared by bench.queue_bench and bench.saga_bench, so that both measure a broker the same way,
with podium's own transports (podium.transports: the clients the orchestrator and the
services use).

    round_trips                one way: a command published (confirmed), received by a
                               consumer on its own connection, and acked
    command_reply_round_trips  a task step's two messages: a command published, taken by a
                               trivial consumer on its own connection, which acks it and
                               answers on the reply queue; the reply received and acked where
                               the command came from

Brokers: $PODIUM_TEST_REDIS_URL / $PODIUM_TEST_RABBITMQ_URL, else the local defaults; each
`Broker` uses a namespace of its own and deletes it afterwards.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from podium.demo.brokers import remove_namespace
from podium.transports.base import Command, Reply, Transport
from podium.transports.factory import TransportSpec

REDIS_URL = os.environ.get("PODIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("PODIUM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
BROKER_URLS = {"redis": REDIS_URL, "rabbitmq": RABBITMQ_URL}

WARMUP = 50  # round trips left out of the figures: connecting, the first reads
REPLY_QUEUE = "podium"
_BODY = {"amount": 12.5, "card": "4242"}


@dataclass
class Percentiles:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Percentiles:
        ordered = sorted(samples_ms)

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return cls(at(0.50), at(0.95), at(0.99))

    def __str__(self) -> str:
        return f"p50 {self.p50:6.3f} ms   p95 {self.p95:6.3f} ms   p99 {self.p99:6.3f} ms"


class Broker:
    """Transports of one kind in a namespace of their own, deleted afterwards."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.prefix = f"podiumbench-{uuid.uuid4().hex[:8]}"
        self.opened: list[Transport] = []
        self._shared: Transport | None = None

    def transport(self) -> Transport:
        made: Transport
        if self.kind == "inprocess":
            from podium.transports.inprocess import InProcessTransport

            if self._shared is None:
                self._shared = InProcessTransport()
                self.opened.append(self._shared)
            return self._shared
        if self.kind == "redis":
            from podium.transports.redis import RedisTransport

            made = RedisTransport(REDIS_URL, prefix=self.prefix)
        else:
            from podium.transports.rabbitmq import RabbitMQTransport

            made = RabbitMQTransport(RABBITMQ_URL, prefix=self.prefix)
        self.opened.append(made)
        return made

    def close(self) -> None:
        for transport in self.opened:
            transport.close()
        url = BROKER_URLS.get(self.kind)
        if url is not None:  # the demo's own clean-up of a run's namespace
            spec = TransportSpec(self.kind, f"{url}{'&' if '?' in url else '?'}prefix={self.prefix}")
            remove_namespace(spec, ("bench", "svc"))


def _command(token: str) -> Command:
    return Command(token, "bench", _BODY, REPLY_QUEUE, "arn:x", "Step")


def round_trips(broker: Broker, count: int) -> Percentiles:
    """One way: publish, receive on another connection, ack; `count` times, one after another."""
    producer, consumer = broker.transport(), broker.transport()
    command = _command("t" * 120)
    samples: list[float] = []
    for i in range(count + WARMUP):
        started = time.perf_counter()
        producer.send_command(command)
        deliveries: list[Any] = []
        while not deliveries:
            deliveries = consumer.receive_commands("bench", "bench-consumer", wait_ms=1000)
        deliveries[0].ack()
        if i >= WARMUP:  # the first ones connect and warm up
            samples.append((time.perf_counter() - started) * 1000)
    return Percentiles.of(samples)


def command_reply_round_trips(broker: Broker, count: int) -> list[float]:
    """Command out and reply back (ms each), `count` times one after another, after a warm-up.

    The consumer is a thread with a transport of its own doing what a service's worker does
    for each command, minus the handler: take it, answer on its reply queue, ack it. The
    producer times from publishing the command to acking the reply, as the orchestrator's
    connector and reply consumer would.
    """
    producer, consumer = broker.transport(), broker.transport()
    stop = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            while not stop.is_set():
                for delivery in consumer.receive_commands("bench", "bench-consumer", wait_ms=100):
                    command = delivery.message
                    assert isinstance(command, Command)
                    consumer.send_reply(command.reply_to, Reply(command.task_token, "success", output=1))
                    delivery.ack()
        except BaseException as exc:  # reported by the producer, which would otherwise wait
            failure.append(exc)

    thread = threading.Thread(target=serve, name="bench-trivial-consumer", daemon=True)
    thread.start()
    samples: list[float] = []
    try:
        for i in range(count + WARMUP):
            token = f"bench-{i:06d}-" + "t" * 100  # about a real token's length
            started = time.perf_counter()
            producer.send_command(_command(token))
            got = False
            deadline = started + 10
            while not got:
                if failure:
                    raise RuntimeError(f"the trivial consumer failed: {failure[0]!r}")
                if time.perf_counter() > deadline:
                    raise TimeoutError("no reply within 10 s")
                for delivery in producer.receive_replies(REPLY_QUEUE, "bench-producer", wait_ms=1000):
                    reply = delivery.message
                    delivery.ack()
                    got = got or (isinstance(reply, Reply) and reply.task_token == token)
            if i >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        stop.set()
        thread.join(5)
    return samples
