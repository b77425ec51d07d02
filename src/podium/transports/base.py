"""The command/response protocol, whatever carries it.

The orchestrator sends a `Command` to a service's command queue; the service answers with a
`Reply` on the orchestrator's response queue (or, equivalently, through the API's
SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat). The task token identifies the task end to
end and is the idempotency key: the broker only carries, the database decides. A reply for a
task that is no longer open is dropped by the core; a command that got no answer within its
timeout is sent again with `attempt + 1`.

Wire form: JSON objects, one per message (`to_wire` / `from_wire`), so that a service in any
language can take part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol, runtime_checkable

JSON = Any
PROTOCOL_VERSION = 1


class TransportError(Exception):
    """The broker could not be reached or refused an operation (the client library's error is
    the `__cause__`). Every transport raises this, so callers need not know the broker."""


@dataclass(frozen=True)
class Command:
    """Do this task. `body` is what the state machine built (e.g. SQS's MessageBody)."""

    task_token: str
    queue: str
    body: JSON
    reply_to: str
    execution_arn: str
    state_name: str
    attempt: int = 1
    sent_ms: int = 0
    heartbeat_seconds: int | None = None
    timeout_seconds: int | None = None
    kind: Literal["command"] = "command"
    v: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Reply:
    """The service's answer to one task: success (with `output`), failure, or a heartbeat."""

    task_token: str
    status: Literal["success", "failure", "heartbeat"]
    output: JSON = None
    error: str | None = None
    cause: str | None = None
    worker: str | None = None
    kind: Literal["reply"] = "reply"
    v: int = PROTOCOL_VERSION


def to_wire(message: Command | Reply) -> bytes:
    # The fields one level deep, not asdict(): its deep copy of the body cost as much as the
    # encoding, on every command and answer.
    content = {f.name: getattr(message, f.name) for f in _FIELDS[type(message)]}
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


_FIELDS = {Command: fields(Command), Reply: fields(Reply)}


def from_wire(data: bytes | str) -> Command | Reply:
    """Decode a message; ValueError (with the reason) for anything that is not one."""
    try:
        raw = json.loads(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("a message is a JSON object")
    kind = raw.get("kind")
    fields = {k: v for k, v in raw.items() if k != "kind"}
    try:
        if kind == "command":
            return Command(**fields)
        if kind == "reply":
            if fields.get("status") not in ("success", "failure", "heartbeat"):
                raise ValueError(f"unknown reply status {fields.get('status')!r}")
            return Reply(**fields)
    except TypeError as exc:
        raise ValueError(f"bad {kind}: {exc}") from None
    raise ValueError(f"unknown message kind {kind!r}")


class Delivery(Protocol):
    """A received message; `ack()` once it is handled (else it is delivered again)."""

    message: Command | Reply

    def ack(self) -> None: ...


@runtime_checkable
class Lease(Protocol):
    """Optional on a Delivery (the brokers' and in-process deliveries have it): the consumer's
    hold on a message it has not acked yet.

    `release()` gives the message back at once for another consumer (a worker stopping before
    it is done); without it an unacked message comes back only when the broker decides (Redis:
    after the visibility timeout; RabbitMQ: when the connection closes). `touch()` says "still
    working on it": it restarts the visibility timeout, so that a long task is not handed to a
    second consumer meanwhile (a no-op where the broker has no such timeout, as RabbitMQ).
    """

    def release(self) -> None: ...

    def touch(self) -> None: ...


@runtime_checkable
class Answers(Protocol):
    """Optional on a command's Delivery (Redis has it): publish the reply to it on reply queue
    `queue` and ack the command in one atomic step, one round trip instead of two (`send_reply`
    then `ack`), and no window between them in which a crash makes the command run again."""

    def answer(self, queue: str, reply: Reply) -> None: ...


class Transport(Protocol):
    """A broker binding. Thread-safe; every call may block up to its timeout, never longer."""

    name: str

    def send_command(self, command: Command) -> None:
        """Publish durably (confirmed by the broker before returning)."""
        ...

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        """Commands for `queue`, including ones a dead consumer took and never acked."""
        ...

    def send_reply(self, queue: str, reply: Reply) -> None: ...

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]: ...

    def close(self) -> None: ...


TransportFactory = Callable[[str], Transport]
