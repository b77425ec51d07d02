"""A broker in memory, the orchestrator's side of it, and helpers for the worker's tests.

`MemoryTransport` keeps what a test wants to see: every reply the worker sent (heartbeats
too), every command acked, released or still held. It is deliberately tiny and strict: a
message acked or released twice is an error.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podium.transports.base import Command, Delivery, Reply

QUEUE = "svc"
REPLIES = "orchestrator"
_tokens = itertools.count(1)


def command(body: Any = None, **fields: Any) -> Command:
    """A command for the test queue; each gets a token of its own."""
    number = next(_tokens)
    values: dict[str, Any] = {
        "task_token": f"token-{number:04d}-abcdef{number:02d}",
        "queue": QUEUE,
        "body": body,
        "reply_to": REPLIES,
        "execution_arn": f"arn:aws:states:us-east-1:000000000000:execution:m:exec-{number}",
        "state_name": "Work",
    }
    values.update(fields)
    return Command(**values)


@dataclass
class MemoryDelivery:
    message: Command | Reply
    transport: MemoryTransport
    settled: str | None = None
    touches: int = 0

    def ack(self) -> None:
        self.transport._settle(self, "acked")

    def release(self) -> None:
        self.transport._settle(self, "released")

    def touch(self) -> None:
        self.touches += 1


@dataclass
class MemoryTransport:
    name: str = "memory"
    visibility_timeout: float | None = None
    commands: deque[Command] = field(default_factory=deque)
    replies: list[Reply] = field(default_factory=list)
    deliveries: list[MemoryDelivery] = field(default_factory=list)
    receive_calls: int = 0
    fail_receives: int = 0  # the next N receives raise, as a broker that is down
    closed: bool = False
    _cond: threading.Condition = field(default_factory=threading.Condition)

    # --- the Transport protocol -----------------------------------------------------------

    def send_command(self, command: Command) -> None:
        with self._cond:
            self.commands.append(command)
            self._cond.notify_all()

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        deadline = time.monotonic() + wait_ms / 1000
        with self._cond:
            self.receive_calls += 1
            if self.fail_receives:
                self.fail_receives -= 1
                raise ConnectionError("broker down")
            while not self.commands and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            taken: list[Delivery] = []
            while self.commands and len(taken) < max_count:
                delivery = MemoryDelivery(self.commands.popleft(), self)
                self.deliveries.append(delivery)
                taken.append(delivery)
            return taken

    def send_reply(self, queue: str, reply: Reply) -> None:
        assert queue == REPLIES
        with self._cond:
            self.replies.append(reply)
            self._cond.notify_all()

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]:
        raise NotImplementedError("the orchestrator's side reads `replies` directly")

    def close(self) -> None:
        self.closed = True

    # --- for the tests --------------------------------------------------------------------

    def _settle(self, delivery: MemoryDelivery, how: str) -> None:
        with self._cond:
            assert delivery.settled is None, f"{delivery.message.task_token} {delivery.settled}, then {how}"
            delivery.settled = how
            self._cond.notify_all()

    def answers(self, status: str | None = None) -> list[Reply]:
        with self._cond:
            return [r for r in self.replies if r.status != "heartbeat" and status in (None, r.status)]

    def heartbeats(self, token: str | None = None) -> list[Reply]:
        with self._cond:
            return [r for r in self.replies if r.status == "heartbeat" and token in (None, r.task_token)]

    def settled(self, how: str) -> list[str]:
        with self._cond:
            return [d.message.task_token for d in self.deliveries if d.settled == how]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; replies: {self.replies}")
            time.sleep(0.005)

    def answer_of(self, token: str, timeout: float = 5.0) -> Reply:
        def answered() -> bool:
            return any(r.task_token == token for r in self.answers())

        self.wait_for(answered, timeout)
        [reply] = [r for r in self.answers() if r.task_token == token]
        return reply
