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
uses a namespace of its own and deletes it afterwards (bench.brokers, shared with bench.saga_bench).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.brokers import Broker, Percentiles, round_trips
from podium.connectors.queue import QueueConnector
from podium.connectors.replies import ReplyConsumer
from podium.runtime.engine import Engine
from podium.store.sqlite import SQLiteStore
from podium.transports.base import Command, Reply


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
