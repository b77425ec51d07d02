"""Where a worker's tasks come from and where its answers go: the `TaskSource` port.

A source hides the transport: a broker's command queue (`broker.BrokerSource`, over any
`podium.transports.base.Transport`) or an activity polled through podium's API
(`activities.ActivitySource`). The runner sees only `receive` -> `ReceivedTask` and the four
ways to close it: `succeed`, `fail`, `heartbeat` (not closing, but reporting on it) and
`release` (give it back without an answer).

`open_source` turns what `Worker.start` was given into a source:

    http://... https://...       activities through podium's API (botocore)
    redis[://...], rabbitmq, amqp://..., inprocess[://NAME]
                                 a broker's command queue, opened as `podium server
                                 --transport` opens it (podium.transports.factory: the
                                 client library is imported only then)
    a Transport object           its command queue
    a Service (has `handle`)     activities in the same process, no HTTP
    a TaskSource                 itself
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from podium.transports.base import JSON, Command, Transport

API_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class ReceivedTask:
    """One task a worker took. `deadline`: when the orchestrator stops waiting (epoch seconds)."""

    token: str
    body: JSON
    attempt: int = 1
    heartbeat_seconds: int | None = None
    deadline: float | None = None
    execution_arn: str | None = None
    state_name: str | None = None
    handle: Any = field(default=None, compare=False, repr=False)  # the source's own (a Delivery)

    @classmethod
    def of_command(cls, command: Command, handle: Any = None) -> ReceivedTask:
        # `sent_ms` is when the command was first sent, on every attempt: the task's clock.
        deadline = None
        if command.timeout_seconds and command.sent_ms:
            deadline = command.sent_ms / 1000 + command.timeout_seconds
        return cls(
            token=command.task_token,
            body=command.body,
            attempt=command.attempt,
            heartbeat_seconds=command.heartbeat_seconds,
            deadline=deadline,
            execution_arn=command.execution_arn,
            state_name=command.state_name,
            handle=handle,
        )


@runtime_checkable
class TaskSource(Protocol):
    """A transport as a worker sees it. Thread-safe: every slot of the runner calls it.

    `lease_seconds`: how long the transport lets a task go without a heartbeat before it
    hands it to another consumer (a broker's visibility timeout; None: no such limit).
    `heartbeat_fallback`: seconds between automatic heartbeats when nothing else tells
    (None: none). `abandons_polls`: a pending `receive` may take long
    (a 60 s long poll) and a stopping worker does not wait for it.
    The answers return False when the orchestrator says the task is already closed (a late
    answer), True otherwise (including "sent, no word back", as on a broker).
    """

    name: str
    lease_seconds: float | None
    heartbeat_fallback: float | None
    abandons_polls: bool

    def receive(self, wait_seconds: float, slot: int) -> ReceivedTask | None: ...

    def succeed(self, task: ReceivedTask, output: JSON) -> bool: ...

    def fail(self, task: ReceivedTask, error: str, cause: str | None) -> bool: ...

    def heartbeat(self, task: ReceivedTask) -> bool: ...

    def release(self, task: ReceivedTask) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class ServicePort(Protocol):
    """podium's Service (podium.service.registry): actions called in the same process."""

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any]: ...


def open_source(
    target: object, *, queue: str, worker_name: str, identity: str | None = None
) -> tuple[TaskSource, bool]:
    """The source for `target` and whether it is ours to close (we close what we open)."""
    from podium.worker.activities import ActivitySource, ServiceClient, http_client
    from podium.worker.broker import BrokerSource

    me = identity or default_identity()
    if isinstance(target, str):
        if target.partition("://")[0].lower() in API_SCHEMES:
            client = http_client(target)
            return ActivitySource(client, queue, worker_name, identity=me, owns_client=True), True
        transport = transport_from_url(target)
        # inprocess://NAME is one transport per name for the whole process (the orchestrator's
        # too): not the worker's to close.
        owned = getattr(transport, "name", None) != "inprocess"
        return BrokerSource(transport, queue, worker_name, identity=me, owns_transport=owned), owned
    if isinstance(target, TaskSource):
        return target, False
    if _is_transport(target):
        return BrokerSource(target, queue, worker_name, identity=me), False  # type: ignore[arg-type]
    if isinstance(target, ServicePort):
        return ActivitySource(ServiceClient(target), queue, worker_name, identity=me), False
    raise TypeError(
        f"cannot take tasks from {type(target).__name__}: give a URL, a Transport, a Service or a TaskSource"
    )


def _is_transport(target: object) -> bool:
    return all(callable(getattr(target, m, None)) for m in ("receive_commands", "send_reply"))


def transport_from_url(url: str) -> Transport:
    """The broker `url` names (or a bare kind: `redis`), connected; ValueError saying why not.

    podium.transports.factory decides, so that a worker reads `--transport` as the server does.
    """
    from podium.transports.factory import open_transport, parse_spec

    try:
        spec = parse_spec(url)
    except ValueError as exc:
        raise ValueError(f"{exc} (or http://host:port for activities through podium's API)") from None
    if spec.kind == "local":
        raise ValueError(
            f"unsupported transport {url!r}: a worker reaches podium's own activity queues through"
            " its API (http://host:port), or a broker by URL (redis://, amqp://, inprocess://)"
        )
    try:
        return open_transport(spec)
    except ModuleNotFoundError as exc:
        raise ValueError(f"the {spec.kind} transport needs the Python package {exc.name!r}") from None


def default_identity() -> str:
    """Who this process is among a service's replicas: $PODIUM_WORKER_ID, else host:pid.

    It names the broker consumer (with the slot) and the activity worker. A stable id (a
    supervisor's replica name) lets a restarted replica take back at once the commands it
    held unacked when it died (Redis does so for a returning consumer name); host:pid is
    unique but new at each start, so those commands wait out the visibility timeout before
    another consumer claims them. Two live processes must never share one.
    """
    return os.environ.get("PODIUM_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"
