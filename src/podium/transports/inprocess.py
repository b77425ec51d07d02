"""In-process transport: command and reply queues in memory, for services run as threads.

It behaves as the brokers do where a test or an embedded service can tell: messages cross it
in their wire form (`to_wire`, so a handler gets its own copy and a body that is not JSON
fails at once, as it would on a broker), a message received and not acked within the
visibility timeout goes back to the head of its queue for the next consumer (a consumer that
died), and an old delivery's late ack is a no-op, as a stale receipt is on SQS.

`from_url("inprocess://NAME")` hands out one shared transport per NAME, so that an
orchestrator and its services in the same process can find each other by URL.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from podium.transports.base import Command, Delivery, Reply, TransportError, from_wire, to_wire

DEFAULT_VISIBILITY_TIMEOUT = 30.0

_Key = tuple[str, str]  # ("cmd" | "reply", queue name)


@dataclass
class _Entry:
    data: bytes
    token: str


@dataclass
class _Queue:
    ready: deque[_Entry] = field(default_factory=deque)
    in_flight: dict[int, tuple[_Entry, float]] = field(default_factory=dict)  # receipt -> (entry, deadline)


class InProcessDelivery:
    """A message taken from an in-process queue; ack, release or touch it by its receipt."""

    def __init__(self, transport: InProcessTransport, key: _Key, receipt: int, message: Command | Reply):
        self.message = message
        self._transport = transport
        self._key = key
        self._receipt = receipt

    def ack(self) -> None:
        self._transport._settle(self._key, self._receipt, requeue=False)

    def release(self) -> None:
        self._transport._settle(self._key, self._receipt, requeue=True)

    def touch(self) -> None:
        self._transport._touch(self._key, self._receipt)


class InProcessTransport:
    """Thread-safe queues in memory (see the module's docstring)."""

    name = "inprocess"
    durable = False  # in memory: nothing survives the process
    quick_send = True  # an append to a queue in memory: never waits (podium.connectors.queue)

    def __init__(self, *, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT) -> None:
        if visibility_timeout <= 0:
            raise ValueError("visibility_timeout must be positive")
        self.visibility_timeout = visibility_timeout
        self._cond = threading.Condition()
        self._queues: dict[_Key, _Queue] = {}
        self._receipts = itertools.count(1)
        self._closed = False
        self._registered_as: str | None = None

    @classmethod
    def from_url(cls, url: str) -> InProcessTransport:
        """The process-wide transport named by `inprocess://NAME` (created on first use)."""
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() != "inprocess":
            raise ValueError(f"not an inprocess:// URL: {url!r}")
        name = rest.strip("/") or "default"
        with _NAMED_LOCK:
            transport = _NAMED.get(name)
            if transport is None or transport._closed:
                transport = cls()
                transport._registered_as = name
                _NAMED[name] = transport
            return transport

    # --- the Transport protocol -----------------------------------------------------------

    def send_command(self, command: Command) -> None:
        self._put(("cmd", command.queue), _Entry(to_wire(command), command.task_token))

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        return self._take(("cmd", queue), wait_ms, max_count)

    def send_reply(self, queue: str, reply: Reply) -> None:
        self._put(("reply", queue), _Entry(to_wire(reply), reply.task_token))

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]:
        return self._take(("reply", queue), wait_ms, max_count)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._registered_as is not None:
            with _NAMED_LOCK:
                if _NAMED.get(self._registered_as) is self:
                    del _NAMED[self._registered_as]

    # --- beyond the protocol --------------------------------------------------------------

    def discard(self, token: str) -> None:
        """Drop the commands for `token` still waiting to be taken (its task has closed)."""
        with self._cond:
            for (kind, _), queue in self._queues.items():
                if kind == "cmd" and any(entry.token == token for entry in queue.ready):
                    queue.ready = deque(entry for entry in queue.ready if entry.token != token)

    def depth(self, queue: str, *, replies: bool = False) -> tuple[int, int]:
        """(waiting, taken and not acked) for a command queue, or a reply queue."""
        with self._cond:
            found = self._queues.get(("reply" if replies else "cmd", queue))
            return (len(found.ready), len(found.in_flight)) if found else (0, 0)

    # --- inside ---------------------------------------------------------------------------

    def _put(self, key: _Key, entry: _Entry) -> None:
        with self._cond:
            if self._closed:
                raise TransportError("the in-process transport is closed")
            self._queues.setdefault(key, _Queue()).ready.append(entry)
            self._cond.notify_all()

    def _take(self, key: _Key, wait_ms: int, max_count: int) -> list[Delivery]:
        deadline = time.monotonic() + max(wait_ms, 0) / 1000
        taken: list[tuple[int, _Entry]] = []
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                queue = self._queues.setdefault(key, _Queue())
                self._expire(queue, now)
                while queue.ready and len(taken) < max_count:
                    entry = queue.ready.popleft()
                    receipt = next(self._receipts)
                    queue.in_flight[receipt] = (entry, now + self.visibility_timeout)
                    taken.append((receipt, entry))
                if taken or now >= deadline:
                    break
                wait = deadline - now
                if queue.in_flight:  # wake when a taken message comes back
                    wait = min(wait, min(d for _, d in queue.in_flight.values()) - now)
                self._cond.wait(max(wait, 0.001))
        return [InProcessDelivery(self, key, receipt, from_wire(entry.data)) for receipt, entry in taken]

    @staticmethod
    def _expire(queue: _Queue, now: float) -> None:
        expired = [r for r, (_, deadline) in queue.in_flight.items() if deadline <= now]
        for receipt in reversed(expired):  # back to the head, oldest first
            entry, _ = queue.in_flight.pop(receipt)
            queue.ready.appendleft(entry)

    def _settle(self, key: _Key, receipt: int, *, requeue: bool) -> None:
        with self._cond:
            queue = self._queues.get(key)
            held = queue.in_flight.pop(receipt, None) if queue else None
            if held is not None and requeue and queue is not None:
                queue.ready.appendleft(held[0])
                self._cond.notify_all()

    def _touch(self, key: _Key, receipt: int) -> None:
        with self._cond:
            queue = self._queues.get(key)
            if queue and receipt in queue.in_flight:
                entry, _ = queue.in_flight[receipt]
                queue.in_flight[receipt] = (entry, time.monotonic() + self.visibility_timeout)


_NAMED: dict[str, InProcessTransport] = {}
_NAMED_LOCK = threading.Lock()


def from_url(url: str) -> InProcessTransport:
    return InProcessTransport.from_url(url)
