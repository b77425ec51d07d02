"""Command queues: each broker's own round trip (the floor), and a task step through the orchestrator.

    python -m bench.queue_bench [--transports inprocess,redis,rabbitmq] [--messages N] [--steps N]

1. Broker round trip: one command published (confirmed), received by a consumer on its own
   connection, and acked; N times, one after another. p50/p95/p99 in ms.
2. A task step: a state machine of `--steps` sequential `sqs:sendMessage.waitForTaskToken`
   states on a durable engine (SQLite, synchronous=FULL, in a temporary directory), the queue
   connector and its reply consumer, and a service thread on its own transport that answers
   each command at once. The step time is what the service sees between two commands: the
   reply's trip back, the engine's step and commit, the next command's trip out. A step moves
   two messages, so its floor is two broker round trips; the rest is the orchestrator's
   overhead per step.

Brokers: $PODIUM_TEST_REDIS_URL / $PODIUM_TEST_RABBITMQ_URL, else the local defaults; each run
uses a namespace of its own and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.connectors.queue import QueueConnector
from podium.connectors.replies import ReplyConsumer
from podium.runtime.engine import Engine
from podium.store.sqlite import SQLiteStore
from podium.transports.base import Command, Reply, Transport

REDIS_URL = os.environ.get("PODIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("PODIUM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


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
        if self.kind == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{self.prefix}:*"))
            if keys:
                client.delete(*keys)
            client.close()
        elif self.kind == "rabbitmq":
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
            channel = connection.channel()
            for name in ("cmd.bench", "cmd.svc", "reply.podium"):
                channel.queue_delete(f"{self.prefix}.{name}")
            connection.close()


def round_trips(broker: Broker, count: int) -> Percentiles:
    producer, consumer = broker.transport(), broker.transport()
    command = Command("t" * 120, "bench", {"amount": 12.5, "card": "4242"}, "podium", "arn:x", "Step")
    samples: list[float] = []
    for i in range(count + 50):
        started = time.perf_counter()
        producer.send_command(command)
        deliveries: list[Any] = []
        while not deliveries:
            deliveries = consumer.receive_commands("bench", "bench-consumer", wait_ms=1000)
        deliveries[0].ack()
        if i >= 50:  # the first ones connect and warm up
            samples.append((time.perf_counter() - started) * 1000)
    return Percentiles.of(samples)


def steps(broker: Broker, step_count: int, executions: int) -> Percentiles:
    orchestrator_side, service_side = broker.transport(), broker.transport()
    gaps: list[float] = []
    last_seen: dict[str, float] = {}
    stop = threading.Event()

    def service() -> None:
        while not stop.is_set():
            for delivery in service_side.receive_commands("svc", "bench-service", wait_ms=100):
                command = delivery.message
                assert isinstance(command, Command)
                now = time.perf_counter()
                if command.execution_arn in last_seen:
                    gaps.append((now - last_seen[command.execution_arn]) * 1000)
                last_seen[command.execution_arn] = now
                service_side.send_reply(command.reply_to, Reply(command.task_token, "success", output=1))
                delivery.ack()

    states = {
        f"S{i}": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "svc", "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
            **({"Next": f"S{i + 1}"} if i + 1 < step_count else {"End": True}),
        }
        for i in range(step_count)
    }
    definition = json.dumps({"StartAt": "S0", "States": states})
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(str(Path(directory) / "bench.db"))
        connector = QueueConnector(orchestrator_side)
        engine = Engine(store, connectors=[connector])
        replies = ReplyConsumer(orchestrator_side, engine, connector=connector)
        worker = threading.Thread(target=service, daemon=True)
        engine.start()
        replies.start()
        worker.start()
        try:
            machine = engine.create_state_machine("bench", definition)
            for _ in range(executions):
                record = engine.wait(engine.start_execution(machine.arn, {}).arn, timeout=120)
                assert record.status == "SUCCEEDED", record
        finally:
            stop.set()
            worker.join()
            replies.stop()
            connector.close()
            engine.stop()
            store.close()
    return Percentiles.of(gaps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transports", default="inprocess,redis,rabbitmq")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--executions", type=int, default=25)
    args = parser.parse_args(argv)
    for kind in args.transports.split(","):
        broker = Broker(kind)
        try:
            floor = round_trips(broker, args.messages)
            step = steps(broker, args.steps, args.executions)
        except Exception as exc:
            print(f"{kind:10s} not measured: {exc!r}", file=sys.stderr)
            continue
        finally:
            broker.close()
        overhead = step.p50 - 2 * floor.p50
        print(f"{kind:10s} broker round trip (publish+consume+ack)   {floor}")
        print(f"{'':10s} task step through the orchestrator          {step}")
        print(f"{'':10s} orchestrator overhead per step, p50: {overhead:.3f} ms (step - 2 round trips)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
