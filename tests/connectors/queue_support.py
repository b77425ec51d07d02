"""An orchestrator (engine + queue connector + reply consumer) and service threads that answer
commands on a transport's reply queue, for the queue connector's tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from podium.connectors.queue import QueueConnector
from podium.connectors.replies import ReplyConsumer
from podium.runtime.engine import Engine
from podium.store.base import Store
from podium.transports.base import Command, Reply, Transport

Handler = Callable[[Command], Reply | None]  # None: no answer (the command is acked all the same)

ASL_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/{name}"


def sqs_task(queue: str = "svc", *, wait: bool = True, **more: Any) -> dict[str, Any]:
    resource = "arn:aws:states:::sqs:sendMessage" + (".waitForTaskToken" if wait else "")
    body: dict[str, Any] = {"Input.$": "$"}
    if wait:  # ($$.Task.Token exists only for .waitForTaskToken, as on AWS)
        body["TaskToken.$"] = "$$.Task.Token"
    return {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"QueueUrl": ASL_QUEUE_URL.format(name=queue), "MessageBody": body},
        **more,
    }


def machine(*states: tuple[str, dict[str, Any]]) -> str:
    """A chain of states, in order, the last one ending it."""
    named = dict(states)
    names = [name for name, _ in states]
    for this, after in zip(names, [*names[1:], None], strict=True):
        state = named[this]
        if (
            state.get("Type") not in ("Succeed", "Fail", "Choice")
            and "Next" not in state
            and "End" not in state
        ):
            state.update({"Next": after} if after else {"End": True})
    return json.dumps({"StartAt": names[0], "States": named})


class Orchestrator:
    """The server's side of command queues over `transport`, on `store`."""

    def __init__(
        self,
        store: Store,
        transport: Transport,
        *,
        consumer: str = "orchestrator",
        owns_transport: bool = False,
        **options: Any,
    ):
        self.store = store
        self.transport = transport
        self.owns_transport = owns_transport  # closed with it, as a process's connections die with it
        self.connector = QueueConnector(transport, **options)
        self.engine = Engine(store, connectors=[self.connector])
        self.replies = ReplyConsumer(
            transport, self.engine, connector=self.connector, consumer=consumer, wait_ms=100
        )

    def start(self) -> Orchestrator:
        self.engine.start()
        self.replies.start()  # after the engine resumed: every open task known by its token
        return self

    def stop(self) -> None:
        self.replies.stop()
        self.connector.close()
        self.engine.stop()
        if self.owns_transport:
            self.transport.close()

    def __enter__(self) -> Orchestrator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, definition: str, input_value: Any = None, *, timeout: float = 20) -> Any:
        arn = self.begin(definition, input_value)
        return self.engine.wait(arn, timeout=timeout)

    def begin(self, definition: str, input_value: Any = None, *, name: str = "m") -> str:
        record = self.engine.create_state_machine(name, definition)
        return self.engine.start_execution(record.arn, {} if input_value is None else input_value).arn

    def events(self, arn: str) -> list[Any]:
        return list(self.store.history(arn))

    def types(self, arn: str) -> list[str]:
        return [event.type for event in self.events(arn)]

    def wait_for_event(self, arn: str, event_type: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while event_type not in self.types(arn):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event_type} in {self.types(arn)}")
            time.sleep(0.02)


def succeed_with_input(command: Command) -> Reply:
    return Reply(
        command.task_token, "success", output={"echo": command.body["Input"], "attempt": command.attempt}
    )


class Service:
    """A service thread: takes commands from `queue` and answers them with `handler`."""

    def __init__(self, transport: Transport, queue: str = "svc", handler: Handler = succeed_with_input):
        self.transport = transport
        self.queue = queue
        self.handler = handler
        self.seen: list[Command] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"service-{queue}", daemon=True)

    def start(self) -> Service:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            for delivery in self.transport.receive_commands(self.queue, "service-1", wait_ms=100):
                command = delivery.message
                assert isinstance(command, Command)
                self.seen.append(command)
                reply = self.handler(command)
                if reply is not None:
                    self.transport.send_reply(command.reply_to, reply)
                delivery.ack()  # after the reply went out: a crash in between redelivers the command
