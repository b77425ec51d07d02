"""RabbitMQ transport (AMQP 0-9-1 with pika): durable queues, persistent messages, confirms, manual acks.

Layout (with the default prefix `podium`; `?prefix=NAME` in the URL, or `prefix=`, sets another):
a durable queue `podium.cmd.{queue}` per service and `podium.reply.{queue}` per orchestrator,
reached through the default exchange. Messages are persistent (delivery mode 2) and published
with publisher confirms and `mandatory`, so `send_*` returns only once the broker has taken the
message into a queue (and raises TransportError if it refused it or it could not be routed).

Consumers ack by hand, and hold at most a prefetch (basic.qos) of unacked messages each:
`command_prefetch` (default 1, or the receive's `max_count` when larger) for a service's
consumers, so that a busy worker does not sit on commands an idle one could take, and
`reply_prefetch` (default 256) for the orchestrator's, which acks in batches. A consumer
whose connection goes away without acking (its process died, its network broke) gets its
messages handed by the broker to another consumer, marked redelivered; there is no
visibility timeout to wait for (`Delivery.touch()` is a no-op). `release()` requeues; the
broker may hand the message to the same consumer again while it consumes, so a stopping
worker releases, then closes.

Threads: pika's BlockingConnection must only be used by the thread that made it. So every
consumer (one per queue and consumer name) owns a connection served by a thread of its own,
which also keeps the heartbeats going while the caller works on a message; `receive_*` waits
on that consumer's buffer, and an ack from any thread is handed to the consumer's thread
(`add_callback_threadsafe`). Publishing borrows a connection from a small pool, one caller at
a time per connection; a connection idle long enough to have missed heartbeats is checked
before use, and a publish that fails on a dead connection is tried once more on a new one (a
message published twice is harmless: the task token deduplicates).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import pika
from pika.exceptions import AMQPError, NackError, UnroutableError

from podium.transports.base import Command, Delivery, Reply, TransportError, from_wire, to_wire
from podium.transports.factory import redact_url, split_prefix

log = logging.getLogger("podium.transports.rabbitmq")
# pika narrates every connection at INFO (a dozen lines each); podium logs what matters itself.
logging.getLogger("pika").setLevel(logging.WARNING)

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
COMMAND_PREFETCH = 1
REPLY_PREFETCH = 256
CONNECT_TIMEOUT = 5.0
IDLE_CHECK_SECONDS = 20.0  # a pooled publisher idle this long services its heartbeats before use
_POLL_SECONDS = 0.25  # how long a consumer thread's loop blocks in pika between stop checks
_CONNECTION_ERRORS = (AMQPError, OSError)


class RabbitMQDelivery:
    """A message a consumer got; acks and requeues travel to the consumer's own thread."""

    def __init__(
        self, consumer: _Consumer, generation: int, tag: int, redelivered: bool, message: Command | Reply
    ) -> None:
        self.message = message
        self.redelivered = redelivered
        self._consumer = consumer
        self._generation = generation
        self._tag = tag

    def ack(self) -> None:
        self._consumer.settle(self._generation, self._tag, requeue=False)

    def release(self) -> None:
        self._consumer.settle(self._generation, self._tag, requeue=True)

    def touch(self) -> None:
        """Nothing to do: RabbitMQ keeps an unacked message with its consumer while it is connected."""


@dataclass
class _Received:
    generation: int  # which connection of the consumer delivered it (its tag is valid only there)
    tag: int
    redelivered: bool
    body: bytes


class _Consumer:
    """One AMQP consumer of one queue, on a connection its own thread owns."""

    def __init__(self, parameters: pika.URLParameters, queue: str, tag: str, prefetch: int) -> None:
        self.queue = queue
        self._parameters = parameters
        self._tag = tag
        self._prefetch = prefetch
        self._cond = threading.Condition()
        self._buffer: deque[_Received] = deque()
        self._connection: pika.BlockingConnection | None = None
        self._channel: object | None = None
        self._generation = 0
        self._error: BaseException | None = None
        self._stopping = threading.Event()
        self._attempted = threading.Event()  # the first connection attempt has ended, either way
        self._thread = threading.Thread(target=self._run, name=f"podium-amqp:{queue}", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._attempted.wait(CONNECT_TIMEOUT * 2):
            raise TransportError(f"rabbitmq: no connection for consumer of {self.queue} in time")
        with self._cond:
            if self._connection is None and self._error is not None:
                raise TransportError(f"rabbitmq: consume {self.queue}: {self._error!r}") from self._error

    def take(self, wait_seconds: float, max_count: int) -> list[_Received]:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        with self._cond:
            while not self._buffer and not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if not self._buffer and self._connection is None and self._error is not None:
                raise TransportError(f"rabbitmq: consume {self.queue}: {self._error!r}") from self._error
            taken = [self._buffer.popleft() for _ in range(min(max_count, len(self._buffer)))]
        return taken

    def settle(self, generation: int, tag: int, *, requeue: bool) -> None:
        with self._cond:
            connection, current = self._connection, self._generation
        if connection is None or generation != current:
            return  # that connection is gone, and with it the broker's hold: it redelivers the message

        def settle_here() -> None:
            channel = self._channel
            if self._generation != generation or channel is None or not channel.is_open:  # type: ignore[attr-defined]
                return
            if requeue:
                channel.basic_nack(tag, requeue=True)  # type: ignore[attr-defined]
            else:
                channel.basic_ack(tag)  # type: ignore[attr-defined]

        if threading.current_thread() is self._thread:
            settle_here()
            return
        with contextlib.suppress(*_CONNECTION_ERRORS):  # closed meanwhile: the broker redelivers it
            connection.add_callback_threadsafe(settle_here)

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            connection = self._connection
            self._cond.notify_all()
        if connection is not None:
            with contextlib.suppress(*_CONNECTION_ERRORS):
                connection.add_callback_threadsafe(lambda: None)  # wake the loop at once
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            connection: pika.BlockingConnection | None = None
            try:
                connection = pika.BlockingConnection(self._parameters)
                channel = connection.channel()
                channel.queue_declare(self.queue, durable=True)
                channel.basic_qos(prefetch_count=self._prefetch)
                with self._cond:
                    self._generation += 1
                    generation = self._generation
                    self._connection, self._channel, self._error = connection, channel, None
                channel.basic_consume(
                    self.queue,
                    functools.partial(self._on_message, generation),
                    auto_ack=False,
                    consumer_tag=f"{self._tag}.{uuid.uuid4().hex[:8]}",
                )
                self._attempted.set()
                backoff = 0.1
                while not self._stopping.is_set():
                    connection.process_data_events(time_limit=_POLL_SECONDS)
            except _CONNECTION_ERRORS as exc:
                with self._cond:
                    self._error = exc
                if not self._stopping.is_set():
                    log.warning("rabbitmq: consumer of %s lost its connection: %r", self.queue, exc)
            finally:
                self._attempted.set()
                with self._cond:
                    # Their delivery tags died with the connection; the broker delivers them again.
                    self._buffer = deque(r for r in self._buffer if r.generation != self._generation)
                    self._connection = self._channel = None
                    self._cond.notify_all()
                _close_quietly(connection)
            if not self._stopping.is_set():
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _on_message(
        self, generation: int, _channel: object, method: object, _properties: object, body: bytes
    ) -> None:
        received = _Received(generation, method.delivery_tag, method.redelivered, body)  # type: ignore[attr-defined]
        with self._cond:
            self._buffer.append(received)
            self._cond.notify_all()


class _Publisher:
    """A connection with a confirming channel; used by one thread at a time (the pool sees to it)."""

    def __init__(self, parameters: pika.URLParameters) -> None:
        self.connection = pika.BlockingConnection(parameters)
        try:
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
        except BaseException:
            _close_quietly(self.connection)
            raise
        self.declared: set[str] = set()
        self.last_used = time.monotonic()

    def publish(self, queue: str, body: bytes, properties: pika.BasicProperties) -> None:
        if queue not in self.declared:
            self.channel.queue_declare(queue, durable=True)
            self.declared.add(queue)
        # With confirms on, this returns once the broker confirmed; mandatory makes an
        # unroutable message (its queue deleted meanwhile) an error instead of a silent drop.
        self.channel.basic_publish("", queue, body, properties, mandatory=True)
        self.last_used = time.monotonic()

    def healthy(self) -> bool:
        if not self.connection.is_open:
            return False
        if time.monotonic() - self.last_used < IDLE_CHECK_SECONDS:
            return True
        try:
            self.connection.process_data_events(0)  # heartbeats owed, and news of a closed connection
        except _CONNECTION_ERRORS:
            return False
        return bool(self.connection.is_open)


class RabbitMQTransport:
    """The Transport protocol on RabbitMQ (see the module's docstring)."""

    name = "rabbitmq"
    durable = True  # durable queues, persistent messages

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str | None = None,
        command_prefetch: int = COMMAND_PREFETCH,
        reply_prefetch: int = REPLY_PREFETCH,
    ) -> None:
        if command_prefetch < 1 or reply_prefetch < 1:
            raise ValueError("a prefetch is at least 1")
        url, self.prefix = split_prefix(url, prefix)
        self.url = url
        self.command_prefetch = command_prefetch
        self.reply_prefetch = reply_prefetch
        self._parameters = pika.URLParameters(url)
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = CONNECT_TIMEOUT
        self._parameters.blocked_connection_timeout = 30
        self._lock = threading.Lock()
        self._idle: list[_Publisher] = []
        self._consumers: dict[tuple[str, str], _Consumer] = {}
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> RabbitMQTransport:
        return cls(url)

    def command_queue(self, queue: str) -> str:
        return f"{self.prefix}.cmd.{queue}"

    def reply_queue(self, queue: str) -> str:
        return f"{self.prefix}.reply.{queue}"

    def ping(self) -> None:
        """Raise TransportError unless the broker accepts a connection."""
        self._give_back(self._borrow())

    # --- the Transport protocol -----------------------------------------------------------

    def send_command(self, command: Command) -> None:
        self._publish(self.command_queue(command.queue), to_wire(command), "command")

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        prefetch = max(self.command_prefetch, max_count)
        return self._receive(self.command_queue(queue), consumer, wait_ms, max_count, prefetch)

    def send_reply(self, queue: str, reply: Reply) -> None:
        self._publish(self.reply_queue(queue), to_wire(reply), "reply")

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]:
        prefetch = max(self.reply_prefetch, max_count)
        return self._receive(self.reply_queue(queue), consumer, wait_ms, max_count, prefetch)

    def close(self) -> None:
        """Stop the consumers (what they hold unacked goes back to its queue) and the publishers."""
        with self._lock:
            self._closed = True
            consumers, self._consumers = list(self._consumers.values()), {}
            idle, self._idle = self._idle, []
        for consumer in consumers:
            consumer.stop()
        for publisher in idle:
            _close_quietly(publisher.connection)

    # --- inside ---------------------------------------------------------------------------

    def _publish(self, queue: str, body: bytes, kind: str) -> None:
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json", type=kind
        )
        for attempt in (1, 2):
            publisher = self._borrow()
            try:
                publisher.publish(queue, body, properties)
            except UnroutableError as exc:
                publisher.declared.discard(queue)  # declared again on the next try
                self._give_back(publisher)
                if attempt == 2:
                    raise TransportError(f"rabbitmq: {queue} could not take the message") from exc
            except NackError as exc:
                self._give_back(publisher)
                raise TransportError(f"rabbitmq: the broker refused a message for {queue}") from exc
            except _CONNECTION_ERRORS as exc:
                _close_quietly(publisher.connection)
                if attempt == 2:
                    raise TransportError(f"rabbitmq: publish to {queue}: {exc!r}") from exc
            else:
                self._give_back(publisher)
                return

    def _borrow(self) -> _Publisher:
        while True:
            with self._lock:
                if self._closed:
                    raise TransportError("rabbitmq: the transport is closed")
                publisher = self._idle.pop() if self._idle else None
            if publisher is None:
                try:
                    return _Publisher(self._parameters)
                except _CONNECTION_ERRORS as exc:
                    raise TransportError(
                        f"rabbitmq: cannot connect to {redact_url(self.url)}: {exc!r}"
                    ) from exc
            if publisher.healthy():
                return publisher
            _close_quietly(publisher.connection)

    def _give_back(self, publisher: _Publisher) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(publisher)
                return
        _close_quietly(publisher.connection)

    def _receive(
        self, queue: str, consumer: str, wait_ms: int, max_count: int, prefetch: int
    ) -> list[Delivery]:
        found = self._consumer(queue, consumer, prefetch)
        if found is None:
            return []
        out: list[Delivery] = []
        for received in found.take(wait_ms / 1000, max_count):
            try:
                message = from_wire(received.body)
            except ValueError as exc:
                # Not ours to handle and it never will be: requeued, it would come back forever.
                log.warning("rabbitmq: dropping a malformed message on %s: %s", queue, exc)
                found.settle(received.generation, received.tag, requeue=False)
                continue
            out.append(
                RabbitMQDelivery(found, received.generation, received.tag, received.redelivered, message)
            )
        return out

    def _consumer(self, queue: str, consumer: str, prefetch: int) -> _Consumer | None:
        """The consumer `consumer` of `queue`, started on first use (its prefetch fixed then)."""
        with self._lock:
            if self._closed:
                return None
            found = self._consumers.get((queue, consumer))
            if found is not None:
                return found
            found = _Consumer(self._parameters, queue, consumer, prefetch)
            self._consumers[(queue, consumer)] = found
        try:
            found.start()
        except TransportError:
            with self._lock:
                self._consumers.pop((queue, consumer), None)
            found.stop()
            raise
        return found


def _close_quietly(connection: pika.BlockingConnection | None) -> None:
    if connection is None:
        return
    try:
        if connection.is_open:
            connection.close()
    except _CONNECTION_ERRORS:
        pass


def from_url(url: str) -> RabbitMQTransport:
    return RabbitMQTransport(url)
